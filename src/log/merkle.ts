import { createHash } from 'node:crypto';
import { bytesEqual, VouchError } from '../core/index.js';

/**
 * RFC 6962 / RFC 9162 Merkle tree hashing and proof verification (SHA-256).
 * Every input here usually comes from a bundle or a log server: treat indexes, sizes and proof hashes as
 * attacker-controlled. Failures are ERR_MERKLE_PROOF; nothing is trusted until the recomputed root matches.
 */

const HASH_BYTES = 32;
/** Tree sizes and indexes are uint64 in every log format we read (RFC 6962 §3.5, C2SP tlog-checkpoint). */
const MAX_UINT64 = (1n << 64n) - 1n;
/** A proof for a tree of fewer than 2^64 leaves never needs more hashes than this (RFC 9162 §2.1.3, §2.1.4). */
const MAX_PROOF_HASHES = 128;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** RFC 6962 §2.1: MTH({d}) = SHA-256(0x00 || d). */
export function hashLeaf(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** RFC 6962 §2.1: MTH(D[n]) = SHA-256(0x01 || MTH(left) || MTH(right)). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

function fail(message: string, details?: Record<string, unknown>): VouchError {
  return new VouchError('ERR_MERKLE_PROOF', message, details === undefined ? undefined : { details });
}

function checkSize(value: bigint, what: string): void {
  if (value < 0n || value > MAX_UINT64) throw fail(`${what} ${value} is outside the uint64 range`);
}

function checkHashes(proof: readonly Uint8Array[]): void {
  if (proof.length > MAX_PROOF_HASHES)
    throw fail(`proof has ${proof.length} hashes; at most ${MAX_PROOF_HASHES}`);
  proof.forEach((h, i) => {
    if (h.byteLength !== HASH_BYTES)
      throw fail(`proof hash ${i} is ${h.byteLength} bytes, not ${HASH_BYTES}`);
  });
}

/**
 * Recomputes the root of a tree of `treeSize` leaves from the hash of leaf `index` and its audit path
 * (RFC 9162 §2.1.3.2). Throws ERR_MERKLE_PROOF when the path has the wrong shape for that index and size;
 * the caller compares the result with a root it trusts (see verifyInclusion).
 */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: bigint,
  treeSize: bigint,
  proof: readonly Uint8Array[],
): Buffer {
  checkSize(index, 'leaf index');
  checkSize(treeSize, 'tree size');
  if (index >= treeSize) throw fail(`leaf index ${index} is not below tree size ${treeSize}`);
  if (leafHash.byteLength !== HASH_BYTES)
    throw fail(`leaf hash is ${leafHash.byteLength} bytes, not ${HASH_BYTES}`);
  checkHashes(proof);

  let fn = index;
  let sn = treeSize - 1n;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    // A path longer than the tree is high cannot describe this leaf.
    if (sn === 0n) throw fail('inclusion proof is too long', { index, treeSize, length: proof.length });
    if ((fn & 1n) === 1n || fn === sn) {
      r = hashChildren(p, r);
      // The last node of an unbalanced level has no right sibling: climb until it is a right child.
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw fail('inclusion proof is too short', { index, treeSize, length: proof.length });
  return r;
}

/** Proves that `leafHash` is leaf `index` of the tree of `treeSize` leaves whose root is `rootHash`. */
export function verifyInclusion(o: {
  leafHash: Uint8Array;
  index: bigint;
  treeSize: bigint;
  proof: readonly Uint8Array[];
  rootHash: Uint8Array;
}): void {
  const root = rootFromInclusionProof(o.leafHash, o.index, o.treeSize, o.proof);
  if (!bytesEqual(root, o.rootHash)) {
    throw fail('inclusion proof does not lead to the expected root', {
      index: o.index,
      treeSize: o.treeSize,
    });
  }
}

/**
 * Proves that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2` leaves with
 * root `root2` (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and equal roots. A first tree of size 0
 * is refused: it is a prefix of every tree, so the proof would say nothing.
 */
export function verifyConsistency(o: {
  size1: bigint;
  size2: bigint;
  proof: readonly Uint8Array[];
  root1: Uint8Array;
  root2: Uint8Array;
}): void {
  const { size1, size2, proof, root1, root2 } = o;
  checkSize(size1, 'first tree size');
  checkSize(size2, 'second tree size');
  if (size1 === 0n) throw fail('a consistency proof from the empty tree proves nothing');
  if (size1 > size2) throw fail(`first tree size ${size1} is larger than second tree size ${size2}`);
  checkHashes(proof);
  if (size1 === size2) {
    if (proof.length !== 0) throw fail('trees of equal size need an empty consistency proof');
    if (!bytesEqual(root1, root2)) throw fail('trees of equal size have different roots', { size1 });
    return;
  }
  if (proof.length === 0) throw fail('consistency proof is empty');

  // RFC 9162 §2.1.4.2 step 2: when size1 is a power of two, root1 is itself the first node of the path.
  const path = (size1 & (size1 - 1n)) === 0n ? [root1, ...proof] : [...proof];
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  const [first, ...rest] = path as [Uint8Array, ...Uint8Array[]];
  let fr: Buffer = Buffer.from(first);
  let sr: Buffer = Buffer.from(first);
  for (const c of rest) {
    if (sn === 0n) throw fail('consistency proof is too long', { size1, size2, length: proof.length });
    if ((fn & 1n) === 1n || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw fail('consistency proof is too short', { size1, size2, length: proof.length });
  if (!bytesEqual(fr, root1))
    throw fail('consistency proof does not lead to the first root', { size1, size2 });
  if (!bytesEqual(sr, root2))
    throw fail('consistency proof does not lead to the second root', { size1, size2 });
}
