import type { KeyObject } from 'node:crypto';
import { VouchError } from '../core/index.js';

/** Signature algorithms Vouch signs or verifies with. `sign: false` rows are accepted for verification only. */
export type AlgorithmId =
  | 'ed25519'
  | 'ecdsa-p256'
  | 'ecdsa-p384'
  | 'rsa-pss-3072'
  | 'rsa-pss-4096'
  | 'rsa-pkcs1-sha256';

export interface Algorithm {
  readonly id: AlgorithmId;
  /** Node's asymmetricKeyType of a matching key. */
  readonly keyType: 'ed25519' | 'ec' | 'rsa';
  /** Named curve for ECDSA (Node's names). */
  readonly curve?: 'prime256v1' | 'secp384r1';
  /** Message digest fed to the signature primitive; `null` for Ed25519, which hashes internally (RFC 8032). */
  readonly hash: 'sha256' | 'sha384' | null;
  readonly padding?: 'pss' | 'pkcs1';
  /** Modulus size for key generation (RSA). */
  readonly bits?: number;
  /** Smallest RSA modulus accepted on verification; anything below is refused with ERR_ALG_WEAK. */
  readonly minBits?: number;
  /** Sigstore protobuf `PublicKeyDetails` name, used in trusted roots and bundles. */
  readonly sigstore: string;
  /** Whether `vouch keygen` may create it and Vouch signs with it. */
  readonly sign: boolean;
}

const RSA_MIN_BITS = 2048;

/** The one algorithm table (STYLE §5). Resolve a row once at the edge; pass the row, not strings. */
export const ALGORITHMS: Readonly<Record<AlgorithmId, Algorithm>> = {
  ed25519: { id: 'ed25519', keyType: 'ed25519', hash: null, sigstore: 'PKIX_ED25519', sign: true },
  'ecdsa-p256': {
    id: 'ecdsa-p256',
    keyType: 'ec',
    curve: 'prime256v1',
    hash: 'sha256',
    sigstore: 'PKIX_ECDSA_P256_SHA_256',
    sign: true,
  },
  'ecdsa-p384': {
    id: 'ecdsa-p384',
    keyType: 'ec',
    curve: 'secp384r1',
    hash: 'sha384',
    sigstore: 'PKIX_ECDSA_P384_SHA_384',
    sign: true,
  },
  'rsa-pss-3072': {
    id: 'rsa-pss-3072',
    keyType: 'rsa',
    hash: 'sha256',
    padding: 'pss',
    bits: 3072,
    minBits: RSA_MIN_BITS,
    sigstore: 'PKIX_RSA_PSS_3072_SHA256',
    sign: true,
  },
  'rsa-pss-4096': {
    id: 'rsa-pss-4096',
    keyType: 'rsa',
    hash: 'sha256',
    padding: 'pss',
    bits: 4096,
    minBits: RSA_MIN_BITS,
    sigstore: 'PKIX_RSA_PSS_4096_SHA256',
    sign: true,
  },
  'rsa-pkcs1-sha256': {
    id: 'rsa-pkcs1-sha256',
    keyType: 'rsa',
    hash: 'sha256',
    padding: 'pkcs1',
    minBits: RSA_MIN_BITS,
    sigstore: 'PKIX_RSA_PKCS1V15_3072_SHA256',
    sign: false,
  },
};

/** Algorithms `vouch keygen` offers, in the order `--help` lists them. */
export const SIGNING_ALGORITHMS: readonly AlgorithmId[] = [
  'ed25519',
  'ecdsa-p256',
  'ecdsa-p384',
  'rsa-pss-3072',
];

export function getAlgorithm(id: string): Algorithm {
  if (/sha-?1\b|sha1$/i.test(id))
    throw new VouchError('ERR_ALG_WEAK', `algorithm "${id}" uses SHA-1, which is refused`);
  const row = (ALGORITHMS as Record<string, Algorithm | undefined>)[id];
  if (row === undefined) {
    throw new VouchError(
      'ERR_ALG_UNSUPPORTED',
      `algorithm "${id}" is not supported (use one of: ${Object.keys(ALGORITHMS).join(', ')})`,
    );
  }
  return row;
}

/** Maps a Sigstore `PublicKeyDetails` name to our row; unknown or weak names are coded errors. */
export function algorithmFromSigstore(details: string): Algorithm {
  if (/SHA1|_1024_|PKCS1V15_1024/.test(details))
    throw new VouchError('ERR_ALG_WEAK', `key details ${details} are refused`);
  if (/^PKIX_RSA_PKCS1V15_(2048|3072|4096)_SHA256$/.test(details)) return ALGORITHMS['rsa-pkcs1-sha256'];
  if (/^PKIX_RSA_PSS_(2048|3072|4096)_SHA256$/.test(details)) return ALGORITHMS['rsa-pss-3072'];
  const row = Object.values(ALGORITHMS).find((a) => a.sigstore === details);
  if (row === undefined)
    throw new VouchError('ERR_ALG_UNSUPPORTED', `key details ${details} are not supported`);
  return row;
}

/**
 * The algorithm a key implies. RSA keys are ambiguous between PSS and PKCS#1 v1.5: `rsaPadding` decides
 * (PSS by default, since that is what Vouch signs with). Keys too weak or of an unknown type are refused.
 */
export function algorithmForKey(key: KeyObject, rsaPadding: 'pss' | 'pkcs1' = 'pss'): Algorithm {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (type) {
    case 'ed25519':
      return ALGORITHMS.ed25519;
    case 'ec':
      if (details.namedCurve === 'prime256v1') return ALGORITHMS['ecdsa-p256'];
      if (details.namedCurve === 'secp384r1') return ALGORITHMS['ecdsa-p384'];
      throw new VouchError(
        'ERR_ALG_UNSUPPORTED',
        `EC curve ${details.namedCurve ?? 'unknown'} is not supported`,
      );
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      if (bits < RSA_MIN_BITS) {
        throw new VouchError('ERR_ALG_WEAK', `RSA key of ${bits} bits is refused (minimum ${RSA_MIN_BITS})`);
      }
      if (rsaPadding === 'pkcs1') return ALGORITHMS['rsa-pkcs1-sha256'];
      return bits >= 4096 ? ALGORITHMS['rsa-pss-4096'] : ALGORITHMS['rsa-pss-3072'];
    }
    default:
      throw new VouchError('ERR_ALG_UNSUPPORTED', `key type ${type ?? 'unknown'} is not supported`);
  }
}
