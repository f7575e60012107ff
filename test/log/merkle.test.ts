import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  hashChildren,
  hashLeaf,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../src/log/index.js';
import { expectCode, VECTORS } from '../helpers.js';
import { consistencyProof, inclusionPath, leaf, mth } from './reference.js';

const MERKLE = join(VECTORS, 'merkle');
const b64 = (s: string) => Buffer.from(s, 'base64');

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? files(p) : n.endsWith('.json') ? [p] : [];
    });
}

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  wantErr: boolean;
}
interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  wantErr: boolean;
}

const read = <T>(p: string) => JSON.parse(readFileSync(p, 'utf8')) as T;

/** The leaves of the Tessera golden log: entry i is the i-th word (vectors/tlog/SOURCE.md). */
function tesseraLeaves(): Buffer[] {
  const bundle = readFileSync(join(VECTORS, 'tlog/tessera-testdata/log/tile/entries/000.p/15'));
  const out: Buffer[] = [];
  for (let i = 0; i < bundle.length; ) {
    const n = bundle.readUInt16BE(i);
    out.push(hashLeaf(bundle.subarray(i + 2, i + 2 + n)));
    i += 2 + n;
  }
  return out;
}

describe('log/merkle: hashing (RFC 6962 §2.1)', () => {
  it('hashes leaves and nodes with domain separation', () => {
    // SHA-256("") and SHA-256(0x00): the empty tree root and the hash of an empty leaf.
    assert.equal(
      hashLeaf(new Uint8Array()).toString('hex'),
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    const l = hashLeaf(Buffer.from('one'));
    const r = hashLeaf(Buffer.from('two'));
    assert.deepEqual(hashChildren(l, r), mth([l, r]));
    assert.notDeepEqual(hashChildren(l, r), hashChildren(r, l));
  });

  it('reproduces the Tessera golden log: leaf tile and root', () => {
    const leaves = tesseraLeaves();
    assert.equal(leaves.length, 15);
    const tile = readFileSync(join(VECTORS, 'tlog/tessera-testdata/log/tile/0/000.p/15'));
    assert.deepEqual(Buffer.concat(leaves), tile);
    assert.equal(mth(leaves).toString('base64'), 'rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=');
  });
});

describe('log/merkle: transparency-dev vectors', () => {
  const inclusion = files(join(MERKLE, 'inclusion'));
  const consistency = files(join(MERKLE, 'consistency'));

  it('has the documented case counts (98 + 98; 12 pass)', () => {
    assert.equal(inclusion.length, 98);
    assert.equal(consistency.length, 98);
    const passing = [...inclusion, ...consistency].filter((f) => !read<{ wantErr: boolean }>(f).wantErr);
    assert.equal(passing.length, 12);
  });

  for (const f of inclusion) {
    const c = read<InclusionCase>(f);
    it(`inclusion ${relative(MERKLE, f)} ${c.wantErr ? 'fails' : 'passes'}`, async () => {
      const o = {
        leafHash: b64(c.leafHash),
        index: BigInt(c.leafIdx),
        treeSize: BigInt(c.treeSize),
        proof: (c.proof ?? []).map(b64),
        rootHash: b64(c.root),
      };
      if (c.wantErr) await expectCode(() => verifyInclusion(o), 'ERR_MERKLE_PROOF');
      else {
        verifyInclusion(o);
        assert.deepEqual(rootFromInclusionProof(o.leafHash, o.index, o.treeSize, o.proof), o.rootHash);
      }
    });
  }

  for (const f of consistency) {
    const c = read<ConsistencyCase>(f);
    it(`consistency ${relative(MERKLE, f)} ${c.wantErr ? 'fails' : 'passes'}`, async () => {
      const o = {
        size1: BigInt(c.size1),
        size2: BigInt(c.size2),
        proof: (c.proof ?? []).map(b64),
        root1: b64(c.root1),
        root2: b64(c.root2),
      };
      if (c.wantErr) await expectCode(() => verifyConsistency(o), 'ERR_MERKLE_PROOF');
      else assert.equal(verifyConsistency(o), undefined);
    });
  }
});

describe('log/merkle: every proof of small trees', () => {
  const leaves = Array.from({ length: 33 }, (_, i) => leaf(Buffer.from(`leaf ${i}`)));

  it('verifies every inclusion proof for sizes 1..33 and rejects it at the wrong index', async () => {
    for (let n = 1; n <= leaves.length; n++) {
      const tree = leaves.slice(0, n);
      const root = mth(tree);
      for (let m = 0; m < n; m++) {
        const proof = inclusionPath(m, tree);
        const o = {
          leafHash: tree[m] as Buffer,
          index: BigInt(m),
          treeSize: BigInt(n),
          proof,
          rootHash: root,
        };
        verifyInclusion(o);
        if (n > 1)
          await expectCode(() => verifyInclusion({ ...o, index: BigInt((m + 1) % n) }), 'ERR_MERKLE_PROOF');
      }
    }
  });

  it('verifies every consistency proof for 1 <= m <= n <= 33 and rejects swapped roots', async () => {
    for (let n = 1; n <= leaves.length; n++) {
      const root2 = mth(leaves.slice(0, n));
      for (let m = 1; m <= n; m++) {
        const root1 = mth(leaves.slice(0, m));
        const o = {
          size1: BigInt(m),
          size2: BigInt(n),
          proof: consistencyProof(m, leaves.slice(0, n)),
          root1,
          root2,
        };
        verifyConsistency(o);
        if (m < n)
          await expectCode(() => verifyConsistency({ ...o, root1: root2, root2: root1 }), 'ERR_MERKLE_PROOF');
      }
    }
  });

  it('proves the Tessera golden log consistent between every pair of its checkpoints', () => {
    const words = tesseraLeaves();
    let pairs = 0;
    for (let n = 1; n <= 15; n++) {
      for (let m = 1; m <= n; m++) {
        verifyConsistency({
          size1: BigInt(m),
          size2: BigInt(n),
          proof: consistencyProof(m, words.slice(0, n)),
          root1: mth(words.slice(0, m)),
          root2: mth(words.slice(0, n)),
        });
        pairs++;
      }
    }
    assert.equal(pairs, 120);
  });
});

describe('log/merkle: real Rekor inclusion proofs', () => {
  for (const name of ['happy-path-v0.3', 'rekor2-happy-path']) {
    it(`verifies the inclusion proof of ${name}`, async () => {
      const bundle = JSON.parse(
        readFileSync(join(VECTORS, 'sigstore-conformance/cases', name, 'bundle.sigstore.json'), 'utf8'),
      );
      const entry = bundle.verificationMaterial.tlogEntries[0];
      const p = entry.inclusionProof;
      const o = {
        leafHash: hashLeaf(b64(entry.canonicalizedBody)),
        index: BigInt(p.logIndex),
        treeSize: BigInt(p.treeSize),
        proof: (p.hashes as string[]).map(b64),
        rootHash: b64(p.rootHash),
      };
      verifyInclusion(o);
      await expectCode(() => verifyInclusion({ ...o, index: o.index - 1n }), 'ERR_MERKLE_PROOF');
      await expectCode(
        () => verifyInclusion({ ...o, leafHash: hashLeaf(Buffer.from('other')) }),
        'ERR_MERKLE_PROOF',
      );
    });
  }
});

describe('log/merkle: rejects malformed input', () => {
  const leaves = Array.from({ length: 7 }, (_, i) => leaf(Buffer.of(i)));
  const root = mth(leaves);
  const proof = inclusionPath(2, leaves);
  const ok = { leafHash: leaves[2] as Buffer, index: 2n, treeSize: 7n, proof, rootHash: root };

  it('sizes outside uint64, negative indexes, short hashes and oversize proofs', async () => {
    verifyInclusion(ok);
    await expectCode(() => verifyInclusion({ ...ok, index: -1n }), 'ERR_MERKLE_PROOF');
    await expectCode(() => verifyInclusion({ ...ok, treeSize: 1n << 64n }), 'ERR_MERKLE_PROOF');
    await expectCode(() => verifyInclusion({ ...ok, index: 7n }), 'ERR_MERKLE_PROOF');
    await expectCode(
      () => verifyInclusion({ ...ok, leafHash: (leaves[2] as Buffer).subarray(1) }),
      'ERR_MERKLE_PROOF',
    );
    await expectCode(
      () =>
        verifyInclusion({ ...ok, proof: [...proof.slice(0, -1), (proof.at(-1) as Buffer).subarray(0, 31)] }),
      'ERR_MERKLE_PROOF',
    );
    await expectCode(() => verifyInclusion({ ...ok, proof: Array(129).fill(root) }), 'ERR_MERKLE_PROOF');
    const c = {
      size1: 3n,
      size2: 7n,
      proof: consistencyProof(3, leaves),
      root1: mth(leaves.slice(0, 3)),
      root2: root,
    };
    verifyConsistency(c);
    await expectCode(() => verifyConsistency({ ...c, size2: 1n << 64n }), 'ERR_MERKLE_PROOF');
    await expectCode(() => verifyConsistency({ ...c, size1: -3n }), 'ERR_MERKLE_PROOF');
    await expectCode(() => verifyConsistency({ ...c, proof: [...c.proof, root] }), 'ERR_MERKLE_PROOF');
    await expectCode(() => verifyConsistency({ ...c, proof: c.proof.slice(1) }), 'ERR_MERKLE_PROOF');
  });

  it('handles the largest uint64 tree size without overflow', () => {
    // The right-most leaf of a tree of 2^64 - 1 leaves has a 63-hash path whose shape the code must accept.
    const size = (1n << 64n) - 1n;
    const path = Array.from({ length: 63 }, (_, i) => leaf(Buffer.of(i)));
    const r = rootFromInclusionProof(leaf(Buffer.from('x')), size - 1n, size, path);
    assert.equal(r.byteLength, 32);
  });
});

describe('log/merkle: property tests', () => {
  const tree = fc.integer({ min: 1, max: 70 }).chain((n) =>
    fc.record({
      leaves: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: n, maxLength: n }),
      m: fc.integer({ min: 0, max: n - 1 }),
      bit: fc.nat(),
    }),
  );

  it('a valid inclusion proof with any one bit flipped is rejected', async () => {
    await fc.assert(
      fc.asyncProperty(tree, async ({ leaves, m, bit }) => {
        const hashes = leaves.map((l) => Buffer.from(l));
        const proof = inclusionPath(m, hashes);
        const o = {
          leafHash: hashes[m] as Buffer,
          index: BigInt(m),
          treeSize: BigInt(hashes.length),
          proof,
          rootHash: mth(hashes),
        };
        verifyInclusion(o);
        // Flip one bit in the concatenation of leaf hash, proof and root.
        const parts = [o.leafHash, ...proof, o.rootHash].map((b) => Buffer.from(b));
        const i = bit % (parts.length * 256);
        const part = parts[Math.floor(i / 256)] as Buffer;
        part[(i % 256) >> 3] = (part[(i % 256) >> 3] as number) ^ (1 << (i & 7));
        const [leafHash, ...rest] = parts as [Buffer, ...Buffer[]];
        const mutated = { ...o, leafHash, proof: rest.slice(0, -1), rootHash: rest.at(-1) as Buffer };
        await expectCode(() => verifyInclusion(mutated), 'ERR_MERKLE_PROOF');
      }),
      { numRuns: 200 },
    );
  });

  it('a valid consistency proof with any one bit flipped is rejected', async () => {
    await fc.assert(
      fc.asyncProperty(tree, async ({ leaves, m, bit }) => {
        const hashes = leaves.map((l) => Buffer.from(l));
        const size1 = m + 1;
        const o = {
          size1: BigInt(size1),
          size2: BigInt(hashes.length),
          proof: consistencyProof(size1, hashes),
          root1: mth(hashes.slice(0, size1)),
          root2: mth(hashes),
        };
        verifyConsistency(o);
        const parts = [o.root1, ...o.proof, o.root2].map((b) => Buffer.from(b));
        const i = bit % (parts.length * 256);
        const part = parts[Math.floor(i / 256)] as Buffer;
        part[(i % 256) >> 3] = (part[(i % 256) >> 3] as number) ^ (1 << (i & 7));
        const [root1, ...rest] = parts as [Buffer, ...Buffer[]];
        const mutated = { ...o, root1, proof: rest.slice(0, -1), root2: rest.at(-1) as Buffer };
        await expectCode(() => verifyConsistency(mutated), 'ERR_MERKLE_PROOF');
      }),
      { numRuns: 200 },
    );
  });
});
