import { constants, type KeyObject, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { VouchError } from '../core/index.js';
import { type Algorithm, algorithmForKey } from './algorithms.js';

// A key that fitted a row once fits it forever; reading asymmetricKeyDetails builds an object per call.
const fitted = new WeakMap<KeyObject, Algorithm>();

/** Throws ERR_KEY_MISMATCH / ERR_ALG_WEAK when a key does not fit an algorithm row. */
export function assertKeyFits(alg: Algorithm, key: KeyObject): void {
  if (fitted.get(key) === alg) return;
  const type = key.asymmetricKeyType === 'rsa-pss' ? 'rsa' : key.asymmetricKeyType;
  if (type !== alg.keyType) {
    throw new VouchError(
      'ERR_KEY_MISMATCH',
      `a ${key.asymmetricKeyType ?? 'unknown'} key cannot be used with ${alg.id}`,
    );
  }
  const details = key.asymmetricKeyDetails;
  if (alg.curve !== undefined && details?.namedCurve !== alg.curve) {
    throw new VouchError(
      'ERR_KEY_MISMATCH',
      `key curve ${details?.namedCurve ?? '?'} does not match ${alg.id}`,
    );
  }
  if (alg.minBits !== undefined && (details?.modulusLength ?? 0) < alg.minBits) {
    throw new VouchError('ERR_ALG_WEAK', `RSA key of ${details?.modulusLength ?? 0} bits is refused`);
  }
  fitted.set(key, alg);
}

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
const PKCS1 = { padding: constants.RSA_PKCS1_PADDING };

function keyInput(alg: Algorithm, key: KeyObject) {
  if (alg.padding === 'pss') {
    // RFC 8017 §9.1: salt length = digest length, the common interoperable choice (cosign, Go, openssl -sigopt).
    return { key, ...PSS };
  }
  if (alg.padding === 'pkcs1') return { key, ...PKCS1 };
  return key;
}

/** Signs `data` (the message, not a digest). ECDSA signatures are ASN.1 DER, as Sigstore and X.509 expect. */
export function signBytes(alg: Algorithm, privateKey: KeyObject, data: Uint8Array): Buffer {
  assertKeyFits(alg, privateKey);
  return nodeSign(alg.hash, data, keyInput(alg, privateKey));
}

/**
 * Verifies a signature over `data`. Returns false for a bad signature and never lets a crypto-library
 * exception decide the outcome (STYLE §5); a key that does not fit the algorithm is a coded error.
 */
export function verifyBytes(
  alg: Algorithm,
  publicKey: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  assertKeyFits(alg, publicKey);
  try {
    return nodeVerify(alg.hash, data, keyInput(alg, publicKey), signature);
  } catch {
    return false;
  }
}

/** Verifies with the algorithm the key implies; RSA keys try PSS then PKCS#1 v1.5 only when `rsaAny` is set. */
export function verifyWithKey(
  publicKey: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
  opts: { rsaAny?: boolean } = {},
): boolean {
  const alg = algorithmForKey(publicKey);
  if (verifyBytes(alg, publicKey, data, signature)) return true;
  if (opts.rsaAny === true && alg.keyType === 'rsa') {
    return verifyBytes(algorithmForKey(publicKey, 'pkcs1'), publicKey, data, signature);
  }
  return false;
}
