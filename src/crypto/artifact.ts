import { constants as bufferConstants } from 'node:buffer';
import { constants, createHash, createVerify, type Hash, type KeyObject } from 'node:crypto';
import {
  type DigestAlgorithm,
  digestBytes,
  fromHex,
  readInput,
  streamFile,
  VouchError,
} from '../core/index.js';
import type { Algorithm } from './algorithms.js';
import { canVerifyDigest, verifyDigest } from './prehash.js';
import { assertKeyFits, verifyBytes } from './signature.js';
import type { Signer } from './signer.js';

/**
 * What is signed or verified: bytes in memory, a file (streamed), or only a digest (`sha256:<hex>`).
 * Digest-only artifacts verify with ECDSA and RSA and sign with ECDSA; Ed25519 (pure, RFC 8032) needs the bytes.
 */
export type Artifact =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | {
      readonly kind: 'file';
      readonly path: string;
      /** Called after each chunk read (bytes read so far, file size), for progress on long work. */
      readonly onProgress?: (done: number, total: number) => void;
    }
  | { readonly kind: 'digest'; readonly algorithm: DigestAlgorithm; readonly digest: Uint8Array };

// A file literally named like `sha256:...` can still be given as `./sha256:...`.
const DIGEST_REF = /^(sha256|sha384|sha512):(.*)$/s;
const DIGEST_LEN: Record<DigestAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** `sha256:<hex>` (or sha384/sha512) is a digest; anything else is a file path. */
export function parseArtifactRef(ref: string): Artifact {
  const m = DIGEST_REF.exec(ref);
  if (m === null) return { kind: 'file', path: ref };
  const algorithm = m[1] as DigestAlgorithm;
  const digest = fromHex(m[2] as string, `${algorithm} digest`);
  if (digest.length !== DIGEST_LEN[algorithm]) {
    throw new VouchError(
      'ERR_USAGE',
      `a ${algorithm} digest has ${DIGEST_LEN[algorithm] * 2} hex characters`,
    );
  }
  return { kind: 'digest', algorithm, digest };
}

export function describeArtifact(a: Artifact): string {
  switch (a.kind) {
    case 'bytes':
      return `${a.bytes.byteLength} bytes`;
    case 'file':
      return a.path;
    case 'digest':
      return `${a.algorithm}:${Buffer.from(a.digest).toString('hex')}`;
  }
}

/** Pure (non-prehash) algorithms need the whole file; Buffer's maximum size bounds it. */
function readWhole(path: string): Promise<Buffer> {
  return readInput(path, bufferConstants.MAX_LENGTH);
}

/** The artifact's digest with `alg`; files are streamed in constant memory. */
export async function artifactDigest(a: Artifact, alg: DigestAlgorithm = 'sha256'): Promise<Buffer> {
  switch (a.kind) {
    case 'bytes':
      return digestBytes(alg, a.bytes);
    case 'file': {
      const h = createHash(alg);
      await streamFile(a.path, [h], a.onProgress);
      return h.digest();
    }
    case 'digest':
      if (a.algorithm !== alg) {
        throw new VouchError(
          'ERR_USAGE',
          `a ${alg} digest is needed, but the artifact was given as ${a.algorithm}`,
        );
      }
      return Buffer.from(a.digest);
  }
}

function padding(alg: Algorithm) {
  if (alg.padding === 'pss')
    return { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  if (alg.padding === 'pkcs1') return { padding: constants.RSA_PKCS1_PADDING };
  return {};
}

export interface ArtifactSignature {
  readonly signature: Uint8Array;
  /** SHA-256 of the artifact, for the bundle's message digest and the log entry. */
  readonly sha256: Buffer;
}

/**
 * Signs an artifact. Files are streamed: a signer that can sign a digest (ECDSA) never holds the file in
 * memory; pure Ed25519 and RSA-PSS read it whole (bounded by Buffer's maximum size).
 */
export async function signArtifact(signer: Signer, a: Artifact): Promise<ArtifactSignature> {
  const alg = signer.algorithm;
  if (a.kind === 'bytes')
    return { signature: await signer.sign(a.bytes), sha256: digestBytes('sha256', a.bytes) };
  if (signer.signDigest !== undefined && alg.hash !== null) {
    const hash = alg.hash;
    if (a.kind === 'digest') {
      if (a.algorithm !== hash) {
        throw new VouchError(
          'ERR_USAGE',
          `${alg.id} signs a ${hash} digest, but the artifact was given as ${a.algorithm}`,
        );
      }
      if (hash !== 'sha256')
        throw new VouchError('ERR_USAGE', 'a sha256 digest of the artifact is needed for the bundle');
      return { signature: await signer.signDigest(hash, a.digest), sha256: Buffer.from(a.digest) };
    }
    const h = createHash(hash);
    const h256 = hash === 'sha256' ? h : createHash('sha256');
    await streamFile(a.path, h === h256 ? [h] : [h, h256], a.onProgress);
    const digest = h.digest();
    return { signature: await signer.signDigest(hash, digest), sha256: h === h256 ? digest : h256.digest() };
  }
  if (a.kind === 'digest') {
    throw new VouchError('ERR_USAGE', `${alg.id} signatures need the artifact itself, not only its digest`);
  }
  const bytes = await readWhole(a.path);
  return { signature: await signer.sign(bytes), sha256: digestBytes('sha256', bytes) };
}

/**
 * Verifies a signature over an artifact; `valid` is false for a bad signature. Files are streamed through
 * the verifier and SHA-256 in one pass (Ed25519 reads the file whole: RFC 8032 has no streaming form).
 */
export async function verifyArtifact(
  alg: Algorithm,
  key: KeyObject,
  a: Artifact,
  signature: Uint8Array,
): Promise<{ valid: boolean; sha256: Buffer | undefined }> {
  switch (a.kind) {
    case 'bytes':
      return { valid: verifyBytes(alg, key, a.bytes, signature), sha256: digestBytes('sha256', a.bytes) };
    case 'digest': {
      if (!canVerifyDigest(alg)) {
        throw new VouchError(
          'ERR_USAGE',
          `${alg.id} signatures need the artifact itself, not only its digest`,
        );
      }
      if (a.algorithm !== alg.hash) {
        throw new VouchError(
          'ERR_USAGE',
          `${alg.id} verifies a ${alg.hash ?? ''} digest, but ${a.algorithm} was given`,
        );
      }
      assertKeyFits(alg, key);
      return {
        valid: verifyDigest(alg, key, a.digest, signature),
        sha256: a.algorithm === 'sha256' ? Buffer.from(a.digest) : undefined,
      };
    }
    case 'file': {
      if (alg.hash === null) {
        const bytes = await readWhole(a.path);
        return { valid: verifyBytes(alg, key, bytes, signature), sha256: digestBytes('sha256', bytes) };
      }
      assertKeyFits(alg, key);
      const v = createVerify(alg.hash);
      const h256: Hash = createHash('sha256');
      await streamFile(a.path, [v, h256], a.onProgress);
      let valid = false;
      try {
        valid = v.verify({ key, ...padding(alg) }, signature);
      } catch {
        valid = false;
      }
      return { valid, sha256: h256.digest() };
    }
  }
}
