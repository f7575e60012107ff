import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Algorithm } from './algorithms.js';
import { algorithmForKey } from './algorithms.js';
import { keyIdOf } from './keys.js';
import { canSignDigest, signDigestEcdsa } from './prehash.js';
import { signBytes } from './signature.js';

/**
 * A signing backend: bytes in, signature bytes out. Implementations (`FileSigner` here; `Pkcs11Signer` and
 * the signing-service signer later) MUST never expose private key material through this interface.
 */
export interface Signer {
  /** Hex SHA-256 of the SPKI DER of the public key. */
  readonly keyId: string;
  readonly algorithm: Algorithm;
  publicKey(): Promise<KeyObject>;
  /** Signs the message itself (hashing is the algorithm's business). ECDSA output is DER. */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Signs a digest the caller computed (ECDSA only, where signing a digest is the same primitive). Lets a
   * huge file be signed in constant memory; absent where the backend cannot.
   */
  readonly signDigest?: ((hash: 'sha256' | 'sha384', digest: Uint8Array) => Promise<Uint8Array>) | undefined;
}

/** A signer over an in-memory private key (read from a file or an environment variable). */
export class FileSigner implements Signer {
  readonly keyId: string;
  readonly algorithm: Algorithm;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;

  constructor(privateKey: KeyObject, algorithm: Algorithm = algorithmForKey(privateKey)) {
    this.#privateKey = privateKey;
    this.#publicKey = createPublicKey(privateKey);
    this.algorithm = algorithm;
    this.keyId = keyIdOf(this.#publicKey);
    if (canSignDigest(algorithm)) {
      const key = privateKey;
      this.signDigest = async (hash, digest) => {
        if (hash !== algorithm.hash)
          throw new TypeError(`${algorithm.id} signs ${algorithm.hash ?? ''} digests`);
        return signDigestEcdsa(algorithm, key, digest);
      };
    } else {
      this.signDigest = undefined;
    }
  }

  async publicKey(): Promise<KeyObject> {
    return this.#publicKey;
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return signBytes(this.algorithm, this.#privateKey, data);
  }

  readonly signDigest: Signer['signDigest'];
}

export function createFileSigner(privateKey: KeyObject, algorithm?: Algorithm): FileSigner {
  return new FileSigner(privateKey, algorithm);
}
