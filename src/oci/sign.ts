import { toHex } from '../core/index.js';
import type { Signer } from '../crypto/index.js';
import { buildStatement, type Statement, serializeBundle, signStatementToBundle } from '../envelope/index.js';
import { type AttachResult, attachBundle } from './attach.js';
import type { RegistryClient } from './client.js';
import { splitDigest } from './digest.js';
import { COSIGN_SIGN_PREDICATE_TYPE } from './media-types.js';
import { type Reference, withDigest } from './reference.js';

export interface SignedImage {
  /** The image manifest digest that was signed (never the tag). */
  readonly digest: string;
  readonly keyId: string;
  readonly predicateType: string;
  /** The Sigstore bundle v0.3 JSON that was stored. */
  readonly bundle: Uint8Array;
  readonly attached: AttachResult;
}

/**
 * The in-toto Statement about an image: its manifest digest as the only subject (named by repository, which
 * is not part of the binding: verification matches the digest only, as in-toto statement.md says).
 */
export function imageStatement(
  ref: Reference,
  digest: string,
  predicateType: string,
  predicate: unknown,
): Statement {
  const { algorithm, bytes } = splitDigest(digest);
  return buildStatement({
    subjects: [{ name: `${ref.registry}/${ref.repository}`, digest: { [algorithm]: toHex(bytes) } }],
    predicateType,
    predicate,
  });
}

async function signAndAttach(
  client: RegistryClient,
  ref: Reference,
  signer: Signer,
  kind: 'signature' | 'attestation',
  predicateType: string,
  predicate: unknown,
  created: Date | undefined,
): Promise<SignedImage> {
  // Resolve once and pin: the digest signed is the digest attached to, even if the tag moves meanwhile.
  const image = await client.resolve(ref);
  const pinned = withDigest(ref, image.digest);
  const statement = imageStatement(pinned, image.digest, predicateType, predicate);
  const bundle = Buffer.from(serializeBundle(await signStatementToBundle(signer, statement)), 'utf8');
  const attached = await attachBundle(client, pinned, bundle, {
    kind,
    ...(created === undefined ? {} : { created }),
  });
  return { digest: image.digest, keyId: signer.keyId, predicateType, bundle, attached };
}

/**
 * Signs an image the way cosign's bundle format does (cosign v3 `cosign sign`): an in-toto Statement with the
 * manifest digest as subject and predicate type `https://sigstore.dev/cosign/sign/v1`, in DSSE, so every key
 * type signs it (Ed25519 cannot sign a prehash); stored as a referrer of the image.
 */
export async function signImage(
  client: RegistryClient,
  ref: Reference,
  signer: Signer,
  opts: { created?: Date } = {},
): Promise<SignedImage> {
  return signAndAttach(client, ref, signer, 'signature', COSIGN_SIGN_PREDICATE_TYPE, {}, opts.created);
}

/** Attests an image: the predicate in a Statement about its manifest digest, in DSSE, stored as a referrer. */
export async function attestImage(
  client: RegistryClient,
  ref: Reference,
  signer: Signer,
  predicateType: string,
  predicate: unknown,
  opts: { created?: Date } = {},
): Promise<SignedImage> {
  if (predicateType === COSIGN_SIGN_PREDICATE_TYPE)
    throw new TypeError(`attestImage: ${COSIGN_SIGN_PREDICATE_TYPE} is the image signature; use signImage`);
  return signAndAttach(client, ref, signer, 'attestation', predicateType, predicate, opts.created);
}
