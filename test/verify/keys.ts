// Signing keys for the verification tests, and attestation bundles made with them.
import type { KeyObject } from 'node:crypto';
import {
  ALGORITHMS,
  createFileSigner,
  exportPublicKeyPem,
  generateKeyPair,
  type Signer,
} from '../../src/crypto/index.js';
import { buildStatement, serializeBundle, signStatementToBundle } from '../../src/envelope/index.js';

export interface Key {
  signer: Signer;
  publicKey: KeyObject;
  pem: string;
}

export async function newKey(id: 'ecdsa-p256' | 'ed25519' = 'ecdsa-p256'): Promise<Key> {
  const pair = await generateKeyPair(ALGORITHMS[id]);
  return {
    signer: createFileSigner(pair.privateKey),
    publicKey: pair.publicKey,
    pem: exportPublicKeyPem(pair.publicKey),
  };
}

/** The serialized bundle of `signer`'s in-toto statement about one subject (`digest` is `sha256:<hex>`). */
export async function attestBundle(
  signer: Signer,
  subject: { name: string; digest: string },
  predicateType: string,
  predicate: unknown,
): Promise<string> {
  return serializeBundle(
    await signStatementToBundle(
      signer,
      buildStatement({
        subjects: [{ name: subject.name, digest: { sha256: subject.digest.slice(7) } }],
        predicateType,
        predicate,
      }),
    ),
  );
}
