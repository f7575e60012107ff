import { digestBytes, fromHex, toHex, VouchError } from '../core/index.js';
import { checkDigest } from './reference.js';

/** `sha256:<hex>` of the bytes (image-spec descriptor.md §Digests). */
export function digestOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${toHex(digestBytes(algorithm, bytes))}`;
}

/** The algorithm and raw bytes of a checked digest string. */
export function splitDigest(digest: string): { algorithm: 'sha256' | 'sha512'; bytes: Buffer } {
  const [algorithm, hex] = checkDigest(digest).split(':') as ['sha256' | 'sha512', string];
  return { algorithm, bytes: fromHex(hex) };
}

/**
 * distribution-spec v1.1 §Pull: content fetched by digest MUST be verified against that digest, never against a
 * header. Registries are attacker-controlled: a mismatch is a verification failure.
 */
export function assertContentDigest(bytes: Uint8Array, digest: string, what: string): void {
  const { algorithm } = splitDigest(digest);
  const actual = digestOf(bytes, algorithm);
  if (actual !== digest) {
    throw new VouchError(
      'ERR_DIGEST_MISMATCH',
      `${what}: the registry sent bytes whose digest is ${actual}`,
      {
        details: { expected: digest, actual },
      },
    );
  }
}
