import { isRecord, isVouchError, parseJson, toHex, VouchError } from '../core/index.js';
import { assertSubjectMatches, INTOTO_PAYLOAD_TYPE, parseBundle, parseStatement } from '../envelope/index.js';
import type { RegistryClient } from './client.js';
import { digestOf, splitDigest } from './digest.js';
import { type Descriptor, descriptorJson } from './manifest.js';
import {
  ANNOTATION,
  COSIGN_SIGN_PREDICATE_TYPE,
  EMPTY_JSON,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from './media-types.js';
import { type Reference, referrersTag } from './reference.js';

export interface AttachOptions {
  /** What the bundle is; checked against its content (an image signature, or an attestation). */
  readonly kind: 'signature' | 'attestation';
  /** The referrer's artifact type (default: the Sigstore bundle v0.3 media type, as cosign writes). */
  readonly artifactType?: string;
  /** `org.opencontainers.image.created` (default: now). */
  readonly created?: Date;
}

export interface AttachResult {
  /** The image manifest the bundle is attached to. */
  readonly subject: Descriptor;
  /** The artifact manifest that holds the bundle. */
  readonly manifest: Descriptor;
  /** Whether the registry indexed the referrer itself (OCI-Subject); otherwise `fallbackTag` was updated. */
  readonly referrersApi: boolean;
  readonly fallbackTag?: string;
}

/** What a bundle holds, read with the strict bundle reader: Vouch never attaches what it would refuse. */
function inspectBundle(bytes: Uint8Array, subject: string): { content: string; predicateType?: string } {
  const bundle = parseBundle(bytes);
  const { algorithm, bytes: digest } = splitDigest(subject);
  if (bundle.content.kind === 'messageSignature') {
    const md = bundle.content.messageSignature.messageDigest;
    if (
      md !== undefined &&
      (md.algorithm !== 'SHA2_256' || algorithm !== 'sha256' || toHex(md.digest) !== toHex(digest))
    )
      throw new VouchError('ERR_DIGEST_MISMATCH', `the bundle signs another digest than ${subject}`);
    return { content: 'message-signature' };
  }
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE) return { content: 'dsse-envelope' };
  const statement = parseStatement(env.payload);
  // A tag can move between signing and attaching: the statement must be about the image it is attached to.
  assertSubjectMatches(statement, { algorithm, digest });
  return { content: 'dsse-envelope', predicateType: statement.predicateType };
}

function checkKind(kind: AttachOptions['kind'], predicateType: string | undefined): void {
  const isSignature = predicateType === undefined || predicateType === COSIGN_SIGN_PREDICATE_TYPE;
  if ((kind === 'signature') !== isSignature)
    throw new TypeError(
      `attachBundle: a ${kind} bundle cannot hold ${predicateType ?? 'a message signature'}`,
    );
}

/**
 * Stores a Sigstore bundle as an OCI artifact referring to the image `ref` names (cosign BUNDLE_SPEC.md,
 * image-spec v1.1 §Guidelines for artifact usage): the bundle blob, the empty config, and a manifest with
 * `artifactType`, `subject` and cosign's annotations, pushed by digest. When the registry does not answer
 * with OCI-Subject (no referrers API), the referrers tag-schema index is updated too.
 * The bundle must be about that image (statement subject or message digest = the manifest digest).
 */
export async function attachBundle(
  client: RegistryClient,
  ref: Reference,
  bundleBytes: Uint8Array,
  opts: AttachOptions,
): Promise<AttachResult> {
  const image = await client.resolve(ref);
  const subject: Descriptor = { mediaType: image.mediaType, digest: image.digest, size: image.size };
  const { content, predicateType } = inspectBundle(bundleBytes, image.digest);
  checkKind(opts.kind, predicateType);
  return pushReferrer(client, ref, subject, bundleBytes, {
    artifactType: opts.artifactType ?? SIGSTORE_BUNDLE_V03,
    annotations: {
      [ANNOTATION.bundleContent]: content,
      ...(predicateType === undefined ? {} : { [ANNOTATION.bundlePredicateType]: predicateType }),
      [ANNOTATION.created]: (opts.created ?? new Date()).toISOString(),
    },
  });
}

/**
 * Pushes `bytes` as the single layer of an artifact manifest whose subject is `subject`, then keeps the
 * referrers fallback index when needed. No check of what the bytes are: `attachBundle` is the checked door.
 */
export async function pushReferrer(
  client: RegistryClient,
  ref: Reference,
  subject: Descriptor,
  bytes: Uint8Array,
  o: { artifactType: string; annotations: Record<string, string> },
): Promise<AttachResult> {
  const config = await client.pushBlob(ref, EMPTY_JSON);
  const layer = await client.pushBlob(ref, bytes);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: o.artifactType,
      config: { mediaType: OCI_EMPTY, digest: config.digest, size: config.size },
      layers: [
        {
          mediaType: o.artifactType,
          digest: layer.digest,
          size: layer.size,
          annotations: { [ANNOTATION.title]: `${layer.digest.replace(':', '-')}.sigstore.json` },
        },
      ],
      subject: descriptorJson(subject),
      annotations: o.annotations,
    }),
    'utf8',
  );
  const digest = digestOf(manifestBytes);
  const pushed = await client.putManifest(ref, digest, manifestBytes, OCI_MANIFEST);
  const manifest: Descriptor = {
    mediaType: OCI_MANIFEST,
    digest,
    size: manifestBytes.byteLength,
    artifactType: o.artifactType,
    annotations: o.annotations,
  };
  // distribution-spec v1.1 §Pushing manifests with subject: OCI-Subject means the registry indexed it.
  if (pushed.subject !== undefined) return { subject, manifest, referrersApi: true };
  const fallbackTag = await addToReferrersTag(client, ref, subject.digest, manifest);
  return { subject, manifest, referrersApi: false, fallbackTag };
}

/** Referrers listed in a tag-schema index: more is a runaway index, not a real image's signatures. */
const MAX_FALLBACK_ENTRIES = 4096;

/**
 * distribution-spec v1.1 §Referrers tag schema, client steps 1-6: pull the `<alg>-<ref>` index (404 → empty),
 * refuse anything that is not an image index, skip a duplicate, append the descriptor with the manifest's
 * artifactType and annotations, push it back. Other entries are kept byte-for-byte as JSON values.
 * Two writers racing can lose one entry; the spec offers no conditional PUT (cosign has the same window).
 */
async function addToReferrersTag(
  client: RegistryClient,
  ref: Reference,
  subjectDigest: string,
  entry: Descriptor,
): Promise<string> {
  const tag = referrersTag(subjectDigest);
  let index: Record<string, unknown> = { schemaVersion: 2, mediaType: OCI_INDEX };
  try {
    const current = await client.getManifest(ref, tag);
    if (current.manifest.kind !== 'index' || current.mediaType !== OCI_INDEX) {
      throw new VouchError(
        'ERR_OCI_MANIFEST',
        `${ref.registry}/${ref.repository}:${tag} holds a ${current.mediaType}, not a referrers index; refusing to overwrite it`,
      );
    }
    index = parseJson(current.bytes) as Record<string, unknown>;
  } catch (e) {
    if (!isVouchError(e, 'ERR_OCI_NOT_FOUND')) throw e;
  }
  const manifests: unknown[] = Array.isArray(index['manifests']) ? index['manifests'] : [];
  if (manifests.some((m) => isRecord(m) && m['digest'] === entry.digest)) return tag;
  if (manifests.length >= MAX_FALLBACK_ENTRIES)
    throw new VouchError(
      'ERR_OCI_MANIFEST',
      `the referrers index ${tag} already lists ${MAX_FALLBACK_ENTRIES} artifacts`,
    );
  const updated = { ...index, manifests: [...manifests, descriptorJson(entry)] };
  await client.putManifest(ref, tag, Buffer.from(JSON.stringify(updated), 'utf8'), OCI_INDEX);
  return tag;
}
