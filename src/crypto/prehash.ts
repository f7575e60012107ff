import { constants, createHash, type KeyObject, publicDecrypt } from 'node:crypto';
import { bytesEqual, fromBase64, VouchError } from '../core/index.js';
import type { Algorithm } from './algorithms.js';
import { nistCurves } from './lazy.js';

// node:crypto cannot sign or verify over a digest the caller already has, which a `sha256:<hex>` artifact and
// a constant-memory signature of a huge file both need. ECDSA goes through @noble/curves (prehash: false);
// RSA verification opens the signature with the public key and checks the encoding (RFC 8017). See
// docs/decisions/003-prehashed-ecdsa.md. Ed25519 (RFC 8032, pure) has no such path.

function curveOf(alg: Algorithm) {
  if (alg.id === 'ecdsa-p256') return nistCurves().p256;
  if (alg.id === 'ecdsa-p384') return nistCurves().p384;
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
function verifyDigestEcdsa(
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

/** Whether `signDigestEcdsa` can sign for this algorithm (ECDSA only). */
export function canSignDigest(alg: Algorithm): boolean {
  return alg.keyType === 'ec';
}

/** Whether `verifyDigest` can verify for this algorithm (ECDSA and RSA). */
export function canVerifyDigest(alg: Algorithm): boolean {
  return alg.keyType === 'ec' || alg.keyType === 'rsa';
}

// RFC 8017 §9.2 note 1: DER DigestInfo prefixes, followed by the digest.
const DIGEST_INFO: Record<'sha256' | 'sha384', Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
};

function rsaOpen(key: KeyObject, signature: Uint8Array, padding: number): Buffer | undefined {
  const k = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (signature.byteLength !== k) return undefined; // RFC 8017 §8.2.2 step 1
  try {
    return publicDecrypt({ key, padding }, signature);
  } catch {
    return undefined;
  }
}

/** MGF1 (RFC 8017 §B.2.1) with the given hash. */
function mgf1(hash: string, seed: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0, have = 0; have < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with salt length = digest length, as Vouch signs. */
function pssVerify(hash: 'sha256' | 'sha384', digest: Uint8Array, em0: Buffer, modBits: number): boolean {
  const hLen = digest.byteLength;
  const sLen = hLen;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  // RSAVP1 output has k bytes; when emBits is a multiple of 8 the leading octet must be zero (§8.1.2 step 2c).
  if (em0.length - emLen === 1 && em0[0] !== 0) return false;
  const em = em0.subarray(em0.length - emLen);
  if (emLen < hLen + sLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDB = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const zeroBits = 8 * emLen - emBits;
  const topMask = (0xff << (8 - zeroBits)) & 0xff;
  if (((maskedDB[0] as number) & topMask) !== 0) return false;
  const db = mgf1(hash, h, maskedDB.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (maskedDB[i] as number);
  db[0] = (db[0] as number) & ~topMask & 0xff;
  const ps = emLen - hLen - sLen - 2;
  for (let i = 0; i < ps; i++) if (db[i] !== 0) return false;
  if (db[ps] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  const h2 = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  return bytesEqual(h, h2);
}

/** Verifies a signature over a digest the caller computed; false for a bad signature, never an exception. */
export function verifyDigest(
  alg: Algorithm,
  publicKey: KeyObject,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (alg.keyType === 'ec') return verifyDigestEcdsa(alg, publicKey, digest, signature);
  if (alg.keyType !== 'rsa' || (alg.hash !== 'sha256' && alg.hash !== 'sha384')) {
    throw new VouchError('ERR_USAGE', `${alg.id} signatures need the artifact itself, not only its digest`);
  }
  if (digest.byteLength !== (alg.hash === 'sha256' ? 32 : 48)) return false;
  if (alg.padding === 'pkcs1') {
    const opened = rsaOpen(publicKey, signature, constants.RSA_PKCS1_PADDING);
    return opened !== undefined && bytesEqual(opened, Buffer.concat([DIGEST_INFO[alg.hash], digest]));
  }
  const em = rsaOpen(publicKey, signature, constants.RSA_NO_PADDING);
  return (
    em !== undefined && pssVerify(alg.hash, digest, em, publicKey.asymmetricKeyDetails?.modulusLength ?? 0)
  );
}
