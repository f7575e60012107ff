import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  cosignatureTimestamp,
  type Note,
  noteVerifierFromVkey,
  parseCheckpoint,
  parseNote,
  verifyNote,
} from '../../src/log/index.js';
import { expectCode, VECTORS } from '../helpers.js';

const SUNLIGHT = join(VECTORS, 'tlog/sunlight-skylight');
const WITNESS = 'witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN';
const WITNESS2 = 'witness2.example.org+2e55b896+BIZ7fpceQWd60IfqQeS9IAnmNOCZjMDne8lZuguz/bi9';
const MIRROR = 'mirror.example.org+3fb148ef+BAAjjch9GyYz0sJsJx7ALhbdAtz2ov0unbzSl1vMp94O';
const HASH = '000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706';
const ROOT = 'lCkHUpkmVBEms2r2T1K6Og69+wUuuN3MIEW1/ezu2v0=';

const read = (p: string) => parseNote(readFileSync(join(SUNLIGHT, p)));
const sigOf = (note: Note, name: string) => note.signatures.find((s) => s.name === name);
const line = (name: string, keyHash: Uint8Array, sig: Uint8Array) =>
  `\u2014 ${name} ${Buffer.concat([keyHash, sig]).toString('base64')}\n`;

/** A fresh witness: its vkey and a function producing cosignature/v1 bytes (timestamp || Ed25519). */
function witness(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = Buffer.concat([
    Uint8Array.of(0x04),
    publicKey.export({ format: 'der', type: 'spki' }).subarray(-32),
  ]);
  const keyHash = createHash('sha256').update(`${name}\n`).update(key).digest().subarray(0, 4);
  const cosign = (body: string, ts: bigint, header = 'cosignature/v1') => {
    const t = Buffer.alloc(8);
    t.writeBigUInt64BE(ts);
    return Buffer.concat([t, sign(null, Buffer.from(`${header}\ntime ${ts}\n${body}`), privateKey)]);
  };
  return { vkey: `${name}+${keyHash.toString('hex')}+${key.toString('base64')}`, keyHash, cosign };
}

describe('log/cosignature: Sunlight witness vectors (tlog-cosignature v1)', () => {
  const cases: [string, string, string, string][] = [
    [`witness/${HASH}/checkpoint`, WITNESS, 'rome2026h1.example.org', ROOT],
    [
      `witness2/88ad7a28caeb0b2aa890fdf0304c2fcaf59fca2ee140134ff8c1300bac493482/checkpoint`,
      WITNESS2,
      'milan2026h1.example.org',
      ROOT,
    ],
    [
      `witness/mirror/${HASH}/checkpoint`,
      MIRROR,
      'rome2026h1.example.org',
      'gw31yQrqZZCcEOPrzX+bpy3nJ6QgngTKn8G1m0i62uU=',
    ],
  ];
  for (const [path, vkey, origin, root] of cases) {
    it(`${path} is cosigned by ${vkey.split('+')[0]} at 1767139200`, () => {
      const v = noteVerifierFromVkey(vkey);
      const note = read(path);
      assert.deepEqual(verifyNote(note, [v]), [v]);
      assert.equal(cosignatureTimestamp(sigOf(note, v.name) as Note['signatures'][number]), 1767139200n);
      const cp = parseCheckpoint(note.text);
      assert.equal(cp.origin, origin);
      assert.equal(cp.size, 300n);
      assert.equal(Buffer.from(cp.rootHash).toString('base64'), root);
    });
  }

  it('all three witnesses together: only the ones that signed are returned', () => {
    const vs = [WITNESS, WITNESS2, MIRROR].map(noteVerifierFromVkey);
    assert.deepEqual(
      verifyNote(read(`witness/${HASH}/checkpoint`), vs).map((v) => v.name),
      ['witness.example.org'],
    );
  });

  it('a log-only checkpoint carries no cosignature', async () => {
    await expectCode(
      () => verifyNote(read('tree/checkpoint'), [noteVerifierFromVkey(WITNESS)]),
      'ERR_NOTE_SIGNATURE',
    );
  });

  it('a cosignature does not verify over another body or another timestamp', async () => {
    const v = noteVerifierFromVkey(WITNESS);
    const text = readFileSync(join(SUNLIGHT, `witness/${HASH}/checkpoint`), 'utf8');
    await expectCode(
      () => verifyNote(parseNote(text.replace('\n300\n', '\n301\n')), [v]),
      'ERR_NOTE_SIGNATURE',
    );
    const note = read(`witness/${HASH}/checkpoint`);
    const sig = sigOf(note, v.name) as Note['signatures'][number];
    const later = Buffer.from(sig.signature);
    later[7] = (later[7] as number) + 1;
    const tampered = parseNote(`${note.text}\n${line(sig.name, sig.keyHash, later)}`);
    await expectCode(() => verifyNote(tampered, [v]), 'ERR_NOTE_SIGNATURE');
  });

  it('the witness key as a plain Ed25519 (0x01) vkey has another key ID, so the cosignature is ignored', async () => {
    const [name, , ...key] = WITNESS.split('+') as [string, string, ...string[]];
    const raw = Buffer.from(key.join('+'), 'base64');
    raw[0] = 0x01;
    const id = createHash('sha256').update(`${name}\n`).update(raw).digest().subarray(0, 4).toString('hex');
    const plain = noteVerifierFromVkey(`${name}+${id}+${raw.toString('base64')}`);
    await expectCode(() => verifyNote(read(`witness/${HASH}/checkpoint`), [plain]), 'ERR_NOTE_SIGNATURE');
  });
});

describe('log/cosignature: C2SP and Rekor v2 examples', () => {
  it('reads the C2SP example cosignature timestamp and key ID', () => {
    const ex = JSON.parse(readFileSync(join(VECTORS, 'tlog/c2sp-examples.json'), 'utf8'));
    const note = parseNote(ex.cosigned_checkpoint_example.text);
    const want = ex.cosigned_checkpoint_example.expect_parse.signatures[1];
    const sig = note.signatures[1] as Note['signatures'][number];
    assert.equal(sig.name, want.name);
    assert.equal(Buffer.from(sig.keyHash).toString('hex'), want.key_id);
    assert.equal(cosignatureTimestamp(sig), BigInt(want.cosignature_timestamp));
  });

  it('reads the witness timestamps of a real Rekor v2 checkpoint', () => {
    const bundle = JSON.parse(
      readFileSync(
        join(VECTORS, 'sigstore-conformance/cases/rekor2-checkpoint-multiple-cosigs/bundle.sigstore.json'),
        'utf8',
      ),
    );
    const note = parseNote(bundle.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope);
    const witnesses = note.signatures.slice(1);
    assert.deepEqual(
      witnesses.map((s) => s.name),
      ['witness.example/w1', 'witness.example/w2'],
    );
    for (const s of witnesses) assert.equal(cosignatureTimestamp(s), 1755640554n);
  });
});

describe('log/cosignature: generated witness', () => {
  const body = 'example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
  const w = witness('witness.example.com/w1');
  const v = noteVerifierFromVkey(w.vkey);
  const open = (sig: Uint8Array) => parseNote(`${body}\n${line('witness.example.com/w1', w.keyHash, sig)}`);

  it('verifies timestamps 0 and 2^63 - 1, refuses 2^63', async () => {
    assert.deepEqual(verifyNote(open(w.cosign(body, 0n)), [v]), [v]);
    const max = (1n << 63n) - 1n;
    const note = open(w.cosign(body, max));
    assert.deepEqual(verifyNote(note, [v]), [v]);
    assert.equal(cosignatureTimestamp(note.signatures[0] as Note['signatures'][number]), max);
    const over = open(w.cosign(body, 1n << 63n));
    await expectCode(() => verifyNote(over, [v]), 'ERR_NOTE_SIGNATURE');
    await expectCode(
      () => cosignatureTimestamp(over.signatures[0] as Note['signatures'][number]),
      'ERR_NOTE_MALFORMED',
    );
  });

  it('refuses another header line, a truncated signature and a signature without timestamp', async () => {
    await expectCode(() => verifyNote(open(w.cosign(body, 1n, 'cosignature/v2')), [v]), 'ERR_NOTE_SIGNATURE');
    const sig = w.cosign(body, 1n);
    await expectCode(() => verifyNote(open(sig.subarray(0, 71)), [v]), 'ERR_NOTE_SIGNATURE');
    await expectCode(() => verifyNote(open(sig.subarray(8)), [v]), 'ERR_NOTE_SIGNATURE');
    await expectCode(
      () => cosignatureTimestamp({ name: 'w', keyHash: w.keyHash, signature: sig.subarray(8) }),
      'ERR_NOTE_MALFORMED',
    );
  });
});
