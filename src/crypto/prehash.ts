import type { KeyObject } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import { fromBase64, VouchError } from '../core/index.js';
import type { Algorithm } from './algorithms.js';

// node:crypto cannot sign or verify ECDSA over a digest the caller already has, which a `sha256:<hex>` artifact
// and a constant-memory signature of a huge file both need; @noble/curves can (prehash: false). See
// docs/decisions/003-prehashed-ecdsa.md. Ed25519 (RFC 8032, pure) and RSA-PSS have no such path here.

function curveOf(alg: Algorithm) {
  if (alg.id === 'ecdsa-p256') return p256;
  if (alg.id === 'ecdsa-p384') return p384;
  throw new VouchError('ERR_USAGE', `${alg.id} signatures need the artifact itself, not only its digest`);
}

function jwkBytes(key: KeyObject, field: 'x' | 'y' | 'd'): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const v = jwk[field];
  if (typeof v !== 'string') throw new VouchError('ERR_KEY_MALFORMED', `EC key has no ${field} coordinate`);
  return fromBase64(v);
}

/** ECDSA over a precomputed digest; DER output, as node:crypto and Sigstore produce. */
export function signDigestEcdsa(alg: Algorithm, privateKey: KeyObject, digest: Uint8Array): Uint8Array {
  const curve = curveOf(alg);
  return curve.sign(digest, jwkBytes(privateKey, 'd'), { prehash: false, format: 'der', lowS: true });
}

/** Verifies ECDSA over a digest. High-S signatures are accepted (OpenSSL and Go produce them). */
export function verifyDigestEcdsa(
  alg: Algorithm,
  publicKey: KeyObject,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const curve = curveOf(alg);
  const point = Buffer.concat([Buffer.from([4]), jwkBytes(publicKey, 'x'), jwkBytes(publicKey, 'y')]);
  try {
    return curve.verify(signature, digest, point, { prehash: false, format: 'der', lowS: false });
  } catch {
    return false;
  }
}

export function canUseDigest(alg: Algorithm): boolean {
  return alg.keyType === 'ec';
}
