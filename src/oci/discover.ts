import { fromBase64, isVouchError, VouchError } from '../core/index.js';
import type { RegistryClient } from './client.js';
import type { EvidenceVia, OciEvidence } from './evidence.js';
import type { Descriptor, ImageManifest } from './manifest.js';
import {
  ANNOTATION,
  COSIGN_SIMPLESIGNING,
  DSSE_ENVELOPE,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from './media-types.js';
import { cosignTag, type Reference, referrersTag } from './reference.js';

export interface DiscoverOptions {
  /** Called for a listed item that is gone (404) or not about this image; discovery goes on without it. */
  readonly onSkip?: (source: string, error: VouchError) => void;
}

/** Bounds against a hostile registry: referrers followed, layers read, and bytes downloaded in all. */
const MAX_REFERRERS = 256;
const MAX_LAYERS = 64;
/** Attestation bundles carry whole SBOMs; 64 MiB is the predicate limit of `vouch attest`. */
const MAX_EVIDENCE_BLOB = 64 * 1024 * 1024;
const MAX_TOTAL = 256 * 1024 * 1024;

function skipped(source: string, message: string): VouchError {
  return new VouchError('ERR_OCI_MANIFEST', `${source}: ${message}`, { details: { source } });
}

class Budget {
  #left = MAX_TOTAL;
  limit(): number {
    if (this.#left <= 0)
      throw new VouchError('ERR_INPUT_TOO_LARGE', `evidence for one image passed ${MAX_TOTAL} bytes`);
    return Math.min(MAX_EVIDENCE_BLOB, this.#left);
  }
  spend(n: number): void {
    this.#left -= n;
  }
}

/** An item-level 404 (garbage-collected referrer, missing blob) is skipped; any other failure stops discovery. */
async function orSkip<T>(source: string, o: DiscoverOptions, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (!isVouchError(e, 'ERR_OCI_NOT_FOUND')) throw e;
    o.onSkip?.(source, e);
    return undefined;
  }
}

async function imageManifest(
  client: RegistryClient,
  ref: Reference,
  reference: string,
): Promise<ImageManifest> {
  const m = await client.getManifest(ref, reference);
  if (m.manifest.kind !== 'manifest') throw skipped(reference, `${m.mediaType} is not an image manifest`);
  return m.manifest;
}

/** The referrers of `digest` that hold Sigstore bundles: from the API, else the tag-schema index. */
async function bundleReferrers(
  client: RegistryClient,
  ref: Reference,
  digest: string,
): Promise<{ via: EvidenceVia; manifests: readonly Descriptor[] }> {
  const api = await client.referrers(ref, digest, SIGSTORE_BUNDLE_V03);
  if (api.supported) return { via: 'referrers-api', manifests: api.manifests };
  const tag = referrersTag(digest);
  try {
    const index = await client.getManifest(ref, tag);
    if (index.manifest.kind !== 'index')
      throw skipped(`oci-tag:${tag}`, 'the referrers tag does not hold an index');
    return {
      via: 'referrers-tag',
      manifests: index.manifest.manifests.filter((m) => m.artifactType === SIGSTORE_BUNDLE_V03),
    };
  } catch (e) {
    if (isVouchError(e, 'ERR_OCI_NOT_FOUND')) return { via: 'referrers-tag', manifests: [] };
    throw e;
  }
}

function layersOf(m: ImageManifest, mediaType: string, source: string): Descriptor[] {
  const layers = m.layers.filter((l) => l.mediaType === mediaType);
  if (layers.length > MAX_LAYERS)
    throw skipped(source, `has ${layers.length} layers; at most ${MAX_LAYERS} are read`);
  return layers;
}

/**
 * Finds the signatures and attestations stored for the image `ref` names (resolved to its digest first if it
 * has none): Sigstore bundles referring to it (referrers API, else the `sha256-<hex>` index), then cosign's
 * legacy `sha256-<hex>.sig` and `.att` tags. Every manifest and blob is checked against its digest; nothing is
 * verified cryptographically here: the registry is attacker-controlled and each item must be verified by
 * the caller against the image digest and trusted keys.
 */
export async function discoverEvidence(
  client: RegistryClient,
  ref: Reference,
  o: DiscoverOptions = {},
): Promise<OciEvidence[]> {
  const digest = ref.digest ?? (await client.resolve(ref)).digest;
  const pinned: Reference = { ...ref, digest };
  const budget = new Budget();
  const blob = async (d: Descriptor) => {
    const bytes = await client.getBlob(pinned, d.digest, budget.limit());
    budget.spend(bytes.byteLength);
    return bytes;
  };
  const out: OciEvidence[] = [];

  const { via, manifests } = await bundleReferrers(client, pinned, digest);
  if (manifests.length > MAX_REFERRERS)
    throw skipped(digest, `has ${manifests.length} bundle referrers; at most ${MAX_REFERRERS} are read`);
  for (const d of manifests) {
    const source = `oci-referrer:${d.digest}`;
    if (d.mediaType !== OCI_MANIFEST) {
      o.onSkip?.(source, skipped(source, `${d.mediaType} is not an image manifest`));
      continue;
    }
    await orSkip(source, o, async () => {
      const m = await imageManifest(client, pinned, d.digest);
      if (m.subject?.digest !== digest) {
        o.onSkip?.(
          source,
          skipped(source, `its subject is ${m.subject?.digest ?? 'missing'}, not ${digest}`),
        );
        return;
      }
      const predicateType = m.annotations?.[ANNOTATION.bundlePredicateType];
      for (const layer of layersOf(m, SIGSTORE_BUNDLE_V03, source)) {
        out.push({
          kind: 'bundle',
          bytes: await blob(layer),
          source,
          via,
          ...(predicateType === undefined ? {} : { predicateType }),
        });
      }
    });
  }

  const sigTag = cosignTag(digest, 'sig');
  const sig = await orSkip(`oci-tag:${sigTag}`, {}, () => imageManifest(client, pinned, sigTag));
  for (const [i, layer] of (sig === undefined ? [] : layersOf(sig, COSIGN_SIMPLESIGNING, sigTag)).entries()) {
    const source = `oci-tag:${sigTag}${i === 0 ? '' : `#${i}`}`;
    const a = layer.annotations ?? {};
    const b64 = a[ANNOTATION.cosignSignature];
    if (b64 === undefined || b64 === '') {
      o.onSkip?.(source, skipped(source, `the layer has no ${ANNOTATION.cosignSignature} annotation`));
      continue;
    }
    let signature: Uint8Array;
    try {
      signature = fromBase64(b64, `${source} signature`);
    } catch (e) {
      throw skipped(source, `the signature annotation is not base64 (${(e as Error).message})`);
    }
    const certificate = a[ANNOTATION.cosignCertificate];
    const chain = a[ANNOTATION.cosignChain];
    const payload = await orSkip(source, o, () => blob(layer));
    if (payload === undefined) continue;
    out.push({
      kind: 'cosign-signature',
      payload,
      signature,
      source,
      via: 'cosign-tag',
      ...(certificate === undefined || certificate === '' ? {} : { certificate }),
      ...(chain === undefined || chain === '' ? {} : { chain }),
    });
  }

  const attTag = cosignTag(digest, 'att');
  const att = await orSkip(`oci-tag:${attTag}`, {}, () => imageManifest(client, pinned, attTag));
  for (const [i, layer] of (att === undefined ? [] : layersOf(att, DSSE_ENVELOPE, attTag)).entries()) {
    const source = `oci-tag:${attTag}${i === 0 ? '' : `#${i}`}`;
    const envelope = await orSkip(source, o, () => blob(layer));
    if (envelope === undefined) continue;
    const predicateType = layer.annotations?.[ANNOTATION.predicateType];
    out.push({
      kind: 'cosign-attestation',
      envelope,
      source,
      via: 'cosign-tag',
      ...(predicateType === undefined ? {} : { predicateType }),
    });
  }
  return out;
}
