import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  hashLeaf,
  type NoteVerifier,
  noteVerifierFromPublicKey,
  noteVerifierFromVkey,
  parseCheckpoint,
  parseNote,
  verifyInclusion,
  verifyNote,
} from '../../src/log/index.js';
import { expectCode, VECTORS } from '../helpers.js';
import { mth } from './reference.js';

const TESSERA = join(VECTORS, 'tlog/tessera-testdata/log');
const TESSERA_VKEY = 'example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx';
const CONFORMANCE = join(VECTORS, 'sigstore-conformance');
const b64 = (s: string) => Buffer.from(s, 'base64');
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

interface TlogEntry {
  logIndex: string;
  logId: { keyId: string };
  canonicalizedBody: string;
  inclusionProof?: {
    logIndex: string;
    treeSize: string;
    rootHash: string;
    hashes: string[];
    checkpoint: { envelope: string };
  };
}
interface TrustedLog {
  baseUrl: string;
  publicKey: { rawBytes: string };
  logId: { keyId: string };
}

function caseEntry(name: string): TlogEntry {
  return readJson(join(CONFORMANCE, 'cases', name, 'bundle.sigstore.json')).verificationMaterial
    .tlogEntries[0];
}

/** Every log of a trusted root as a note verifier named after its base URL's host, as Rekor signs. */
function logVerifiers(trustedRoot: string): { log: TrustedLog; verifier: NoteVerifier }[] {
  return (readJson(trustedRoot).tlogs as TrustedLog[]).map((log) => ({
    log,
    verifier: noteVerifierFromPublicKey(
      new URL(log.baseUrl).host,
      createPublicKey({ key: b64(log.publicKey.rawBytes), format: 'der', type: 'spki' }),
    ),
  }));
}

describe('log/checkpoint: Tessera golden log', () => {
  const leaves = (() => {
    const bundle = readFileSync(join(TESSERA, 'tile/entries/000.p/15'));
    const out: Buffer[] = [];
    for (let i = 0; i < bundle.length; i += 2 + bundle.readUInt16BE(i)) {
      out.push(hashLeaf(bundle.subarray(i + 2, i + 2 + bundle.readUInt16BE(i))));
    }
    return out;
  })();
  const verifier = noteVerifierFromVkey(TESSERA_VKEY);

  for (let n = 0; n <= 15; n++) {
    it(`checkpoint.${n} verifies with the vkey and commits to the first ${n} entries`, () => {
      const note = parseNote(readFileSync(join(TESSERA, `checkpoint.${n}`)));
      assert.deepEqual(verifyNote(note, [verifier]), [verifier]);
      const cp = parseCheckpoint(note.text);
      assert.equal(cp.origin, 'example.com/log/testdata');
      assert.equal(cp.size, BigInt(n));
      assert.deepEqual(Buffer.from(cp.rootHash), mth(leaves.slice(0, n)));
      assert.deepEqual(cp.extensions, []);
    });
  }

  it('the current checkpoint is checkpoint.15', () => {
    assert.equal(
      readFileSync(join(TESSERA, 'checkpoint'), 'utf8'),
      readFileSync(join(TESSERA, 'checkpoint.15'), 'utf8'),
    );
  });
});

describe('log/checkpoint: C2SP examples (parse only)', () => {
  const ex = readJson(join(VECTORS, 'tlog/c2sp-examples.json'));

  it('parses the tlog-checkpoint example', () => {
    const note = parseNote(ex.checkpoint_example.text);
    const cp = parseCheckpoint(note.text);
    const want = ex.checkpoint_example.expect_parse;
    assert.equal(cp.origin, want.origin);
    assert.equal(cp.size, BigInt(want.size));
    assert.equal(Buffer.from(cp.rootHash).toString('base64'), want.root_hash_b64);
    assert.deepEqual(cp.extensions, want.extensions);
    assert.deepEqual(
      note.signatures.map((s) => [s.name, Buffer.from(s.keyHash).toString('hex')]),
      want.signatures.map((s: { name: string; key_id: string }) => [s.name, s.key_id]),
    );
  });
});

describe('log/checkpoint: Rekor v1 (ECDSA P-256, key hint = SHA-256(SPKI)[:4])', () => {
  const logs = logVerifiers(join(CONFORMANCE, '_defaults/public-good-trusted_root.json'));
  const rekor = logs.find((l) => l.log.baseUrl === 'https://rekor.sigstore.dev')?.verifier as NoteVerifier;

  it('verifies the checkpoint of happy-path-v0.3 and the inclusion proof against it', () => {
    const entry = caseEntry('happy-path-v0.3');
    const proof = entry.inclusionProof as NonNullable<TlogEntry['inclusionProof']>;
    // Rekor v1's key hint is the first 4 bytes of its log ID.
    assert.deepEqual(Buffer.from(rekor.keyHash), b64(entry.logId.keyId).subarray(0, 4));
    const note = parseNote(proof.checkpoint.envelope);
    assert.deepEqual(
      verifyNote(
        note,
        logs.map((l) => l.verifier),
      ),
      [rekor],
    );
    const cp = parseCheckpoint(note.text);
    assert.equal(cp.origin, 'rekor.sigstore.dev - 2605736670972794746');
    assert.equal(cp.size, BigInt(proof.treeSize));
    assert.deepEqual(Buffer.from(cp.rootHash), b64(proof.rootHash));
    verifyInclusion({
      leafHash: hashLeaf(b64(entry.canonicalizedBody)),
      index: BigInt(proof.logIndex),
      treeSize: cp.size,
      proof: proof.hashes.map(b64),
      rootHash: cp.rootHash,
    });
  });

  it('keeps Rekor v1 "Timestamp:" lines as extensions', () => {
    const note = parseNote(
      caseEntry('checkpoint-bad-keyhint_fail').inclusionProof?.checkpoint.envelope ?? '',
    );
    assert.deepEqual(parseCheckpoint(note.text).extensions, ['Timestamp: 1689177396617352539']);
  });

  it('checkpoint-bad-keyhint_fail: a wrong key hint is an unknown key, so nothing verifies', async () => {
    const note = parseNote(
      caseEntry('checkpoint-bad-keyhint_fail').inclusionProof?.checkpoint.envelope ?? '',
    );
    await expectCode(() => verifyNote(note, [rekor]), 'ERR_NOTE_SIGNATURE');
  });

  it('the same signature with the right hint but a changed body is refused', async () => {
    const env = caseEntry('happy-path-v0.3').inclusionProof?.checkpoint.envelope ?? '';
    const note = parseNote(env.replace('75408393', '75408394'));
    await expectCode(() => verifyNote(note, [rekor]), 'ERR_NOTE_SIGNATURE');
  });
});

describe('log/checkpoint: Rekor v2 (rekor-tiles, Ed25519, key ID = C2SP key ID of the origin)', () => {
  const pass = [
    'rekor2-happy-path',
    'rekor2-checkpoint-cosigned',
    'rekor2-checkpoint-multiple-cosigs',
    'rekor2-checkpoint-two-sigs-cosigned',
    'rekor2-checkpoint-two-sigs-from-origin',
    'rekor2-timestamp-with-embedded-cert',
    'rekor2-timestamp-without-embedded-cert',
    // These fail for DSSE reasons; their checkpoint (log2025-alpha3) is genuine.
    'rekor2-dsse-invalid-sig_fail',
  ];
  for (const name of pass) {
    it(`${name}: the checkpoint verifies with the log key of the trusted root and proves inclusion`, () => {
      const entry = caseEntry(name);
      const proof = entry.inclusionProof as NonNullable<TlogEntry['inclusionProof']>;
      const logs = logVerifiers(join(CONFORMANCE, 'cases', name, 'trusted_root.json'));
      const log = logs.find((l) => l.log.logId.keyId === entry.logId.keyId);
      assert.ok(log);
      // rekor-tiles: the log ID is the full SHA-256(origin || 0x0A || 0x01 || key); its first 4 bytes are the key ID.
      assert.deepEqual(Buffer.from(log.verifier.keyHash), b64(entry.logId.keyId).subarray(0, 4));
      const note = parseNote(proof.checkpoint.envelope);
      assert.deepEqual(
        verifyNote(
          note,
          logs.map((l) => l.verifier),
        ),
        [log.verifier],
      );
      const cp = parseCheckpoint(note.text);
      assert.equal(cp.origin, new URL(log.log.baseUrl).host);
      verifyInclusion({
        leafHash: hashLeaf(b64(entry.canonicalizedBody)),
        index: BigInt(proof.logIndex),
        treeSize: cp.size,
        proof: proof.hashes.map(b64),
        rootHash: cp.rootHash,
      });
    });
  }

  it('rekor2-checkpoint-two-sigs-from-origin: the second, unknown key of the origin is ignored', () => {
    const note = parseNote(
      caseEntry('rekor2-checkpoint-two-sigs-from-origin').inclusionProof?.checkpoint.envelope ?? '',
    );
    assert.equal(note.signatures.length, 2);
    assert.equal(note.signatures[0]?.name, note.signatures[1]?.name);
    assert.notDeepEqual(note.signatures[0]?.keyHash, note.signatures[1]?.keyHash);
  });

  it('rekor2-checkpoint-no-matching-signature_fail: a checkpoint signed under another origin name is refused', async () => {
    const name = 'rekor2-checkpoint-no-matching-signature_fail';
    const note = parseNote(caseEntry(name).inclusionProof?.checkpoint.envelope ?? '');
    const logs = logVerifiers(join(CONFORMANCE, 'cases', name, 'trusted_root.json'));
    await expectCode(
      () =>
        verifyNote(
          note,
          logs.map((l) => l.verifier),
        ),
      'ERR_NOTE_SIGNATURE',
    );
  });

  for (const name of ['rekor2-checkpoint-missing-origin_fail', 'rekor2-checkpoint-missing-root-hash_fail']) {
    it(`${name}: the body is not a checkpoint, and the log signature does not cover it`, async () => {
      const note = parseNote(caseEntry(name).inclusionProof?.checkpoint.envelope ?? '');
      await expectCode(() => parseCheckpoint(note.text), 'ERR_CHECKPOINT_INVALID');
      const logs = logVerifiers(join(CONFORMANCE, 'cases', name, 'trusted_root.json'));
      await expectCode(
        () =>
          verifyNote(
            note,
            logs.map((l) => l.verifier),
          ),
        'ERR_NOTE_SIGNATURE',
      );
    });
  }
});

describe('log/checkpoint: strict body parsing', () => {
  const root = Buffer.alloc(32, 7).toString('base64');
  it('accepts size 0, the largest uint64 and extension lines', () => {
    assert.equal(parseCheckpoint(`o\n0\n${root}\n`).size, 0n);
    assert.equal(parseCheckpoint(`o\n18446744073709551615\n${root}\n`).size, (1n << 64n) - 1n);
    assert.deepEqual(parseCheckpoint(`o\n1\n${root}\next one\next two\n`).extensions, ['ext one', 'ext two']);
    assert.equal(parseCheckpoint(`origin with spaces - 1\n1\n${root}\n`).origin, 'origin with spaces - 1');
  });

  const bad: [string, string][] = [
    ['an empty body', ''],
    ['two lines', `o\n1\n`],
    ['a missing final newline', `o\n1\n${root}`],
    ['an empty origin', `\n1\n${root}\n`],
    ['an empty extension line', `o\n1\n${root}\n\next\n`],
    ['a trailing empty line', `o\n1\n${root}\n\n`],
    ['a leading zero', `o\n01\n${root}\n`],
    ['a plus sign', `o\n+1\n${root}\n`],
    ['a negative size', `o\n-1\n${root}\n`],
    ['an exponent', `o\n1e3\n${root}\n`],
    ['a space in the size', `o\n 1\n${root}\n`],
    ['a size of 2^64', `o\n18446744073709551616\n${root}\n`],
    ['a 21-digit size', `o\n100000000000000000000\n${root}\n`],
    ['a 31-byte root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['a 33-byte root', `o\n1\n${Buffer.alloc(33).toString('base64')}\n`],
    ['an unpadded root', `o\n1\n${root.replace(/=$/, '')}\n`],
    ['a URL-safe root', `o\n1\n${Buffer.alloc(32, 0xfb).toString('base64url')}=\n`],
    ['a hex root', `o\n1\n${Buffer.alloc(32).toString('hex')}\n`],
    ['a CR line ending', `o\r\n1\n${root}\n`],
    ['a NUL byte', `o\u0000\n1\n${root}\n`],
  ];
  for (const [what, body] of bad) {
    it(`refuses ${what}`, async () => {
      await expectCode(() => parseCheckpoint(body), 'ERR_CHECKPOINT_INVALID');
    });
  }

  it('refuses the Sunlight decoy files as notes', async () => {
    for (const p of ['witness/checkpoint', 'witness/mirror/checkpoint']) {
      await expectCode(
        () => parseNote(readFileSync(join(VECTORS, 'tlog/sunlight-skylight', p))),
        'ERR_NOTE_MALFORMED',
      );
    }
  });
});
