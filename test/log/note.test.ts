import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isVouchError } from '../../src/core/index.js';
import {
  type Note,
  type NoteVerifier,
  noteVerifierFromPublicKey,
  noteVerifierFromVkey,
  parseNote,
  verifyNote,
} from '../../src/log/index.js';
import { expectCode, VECTORS } from '../helpers.js';

interface Sig {
  name: string;
  key_id: string;
  sig_b64: string;
}
interface Vectors {
  verifier_keys: { vkey: string; valid: boolean; name?: string; key_id?: string; why?: string }[];
  sign: { text: string; expected_note: string; skey: string }[];
  open: {
    id: string;
    verifier_keys: string[];
    msg_b64: string;
    expect: 'ok' | 'error';
    error?: string;
    text?: string;
    verified_sigs?: Sig[];
    unverified_sigs?: Sig[];
  }[];
}

const V = JSON.parse(readFileSync(join(VECTORS, 'note/signed-note-vectors.json'), 'utf8')) as Vectors;
const PETER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE = V.sign[0]?.expected_note as string;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sigLine = (name: string, keyHash: Uint8Array, sig: Uint8Array) =>
  `\u2014 ${name} ${Buffer.concat([keyHash, sig]).toString('base64')}\n`;

function isRejected(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    return isVouchError(e);
  }
}

/** Ed25519 vkey of a fresh key, built by hand from the C2SP rules. */
function ed25519Vkey(
  name: string,
  type: number,
): { vkey: string; privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const key = Buffer.concat([Uint8Array.of(type), raw]);
  const id = createHash('sha256').update(`${name}\n`).update(key).digest().subarray(0, 4);
  return { vkey: `${name}+${hex(id)}+${key.toString('base64')}`, privateKey, publicKey };
}

describe('log/note: verifier keys (vkeys)', () => {
  for (const k of V.verifier_keys) {
    it(`${k.valid ? 'accepts' : 'rejects'} ${k.vkey}${k.why ? ` (${k.why})` : ''}`, async () => {
      if (k.valid) {
        const v = noteVerifierFromVkey(k.vkey);
        assert.equal(v.name, k.name);
        assert.equal(hex(v.keyHash), k.key_id);
      } else {
        const code = k.why?.includes('unknown algorithm') ? 'ERR_ALG_UNSUPPORTED' : 'ERR_KEY_MALFORMED';
        await expectCode(() => noteVerifierFromVkey(k.vkey), code);
      }
    });
  }

  it('rejects every proper substring and every single-character +1 mutation of a valid vkey', () => {
    let checked = 0;
    for (let i = 0; i < PETER.length; i++) {
      for (let j = i + 1; j <= PETER.length; j++) {
        if (i === 0 && j === PETER.length) continue;
        assert.ok(
          isRejected(() => noteVerifierFromVkey(PETER.slice(i, j))),
          PETER.slice(i, j),
        );
        checked++;
      }
      const mutated = PETER.slice(0, i) + String.fromCharCode(PETER.charCodeAt(i) + 1) + PETER.slice(i + 1);
      assert.ok(
        isRejected(() => noteVerifierFromVkey(mutated)),
        mutated,
      );
      checked++;
    }
    assert.equal(checked, (PETER.length * (PETER.length + 1)) / 2 - 1 + PETER.length);
  });

  it('rejects unpadded or URL-safe key base64 and a 33-byte key even when the key ID matches', async () => {
    const [name, id, key] = PETER.split('+') as [string, string, string];
    await expectCode(
      () => noteVerifierFromVkey(`${name}+${id}+${key.replace(/=+$/, '')}x`),
      'ERR_KEY_MALFORMED',
    );
    const long = Buffer.concat([Buffer.from(key, 'base64'), Uint8Array.of(0)]);
    const longId = createHash('sha256').update(`${name}\n`).update(long).digest().subarray(0, 4);
    await expectCode(
      () => noteVerifierFromVkey(`${name}+${hex(longId)}+${long.toString('base64')}`),
      'ERR_KEY_MALFORMED',
    );
    const { vkey } = ed25519Vkey('example.com/x', 0x01);
    const urlSafe = vkey.replace(
      /\+([^+]*)$/,
      (_, k: string) => `+${Buffer.from(k, 'base64').toString('base64url')}`,
    );
    if (urlSafe !== vkey) await expectCode(() => noteVerifierFromVkey(urlSafe), 'ERR_KEY_MALFORMED');
    await expectCode(() => noteVerifierFromVkey(`${name}+${id.toUpperCase()}x+${key}`), 'ERR_KEY_MALFORMED');
    assert.equal(hex(noteVerifierFromVkey(`${name}+${id.toUpperCase()}+${key}`).keyHash), id);
  });
});

describe('log/note: open vectors (golang.org/x/mod/sumdb/note)', () => {
  for (const c of V.open) {
    it(`${c.id}: ${c.expect === 'ok' ? 'verifies' : c.error}`, async () => {
      const msg = Buffer.from(c.msg_b64, 'base64');
      const verifiers = c.verifier_keys.map(noteVerifierFromVkey);
      if (c.error === 'malformed note') {
        await expectCode(() => parseNote(msg), 'ERR_NOTE_MALFORMED');
        return;
      }
      const note = parseNote(msg);
      if (c.text !== undefined) assert.equal(note.text, c.text);
      if (c.expect === 'error') {
        await expectCode(() => verifyNote(note, verifiers), 'ERR_NOTE_SIGNATURE');
        return;
      }
      const ok = verifyNote(note, verifiers);
      assert.deepEqual(
        ok.map((v) => `${v.name}+${hex(v.keyHash)}`),
        (c.verified_sigs ?? []).map((s) => `${s.name}+${s.key_id}`),
      );
      // Unverified signatures stay in the parsed note but match no trusted key.
      for (const u of c.unverified_sigs ?? []) {
        const s = note.signatures.find((x) => x.name === u.name && hex(x.keyHash) === u.key_id);
        assert.ok(s, `${u.name} is parsed`);
        assert.ok(!verifiers.some((v) => v.name === u.name && hex(v.keyHash) === u.key_id));
      }
    });
  }

  it('the deterministic signing vector verifies', () => {
    const note = parseNote(PETER_NOTE);
    assert.equal(note.text, TEXT);
    assert.deepEqual(
      verifyNote(note, [noteVerifierFromVkey(PETER)]).map((v) => v.name),
      ['PeterNeumann'],
    );
  });

  it('string and byte input parse the same way', () => {
    assert.deepEqual(parseNote(PETER_NOTE), parseNote(Buffer.from(PETER_NOTE, 'utf8')));
  });
});

describe('log/note: strict parsing', () => {
  const good = parseNote(PETER_NOTE).signatures[0] as Note['signatures'][number];
  const line = sigLine(good.name, good.keyHash, good.signature);

  it('accepts 100 signatures and refuses 101', async () => {
    assert.equal(parseNote(`${TEXT}\n${line.repeat(100)}`).signatures.length, 100);
    await expectCode(() => parseNote(`${TEXT}\n${line.repeat(101)}`), 'ERR_NOTE_MALFORMED');
  });

  it('refuses notes over 1 MiB before parsing', async () => {
    const big = `${'a'.repeat(1 << 20)}\n\n${line}`;
    await expectCode(() => parseNote(big), 'ERR_NOTE_MALFORMED');
    await expectCode(() => parseNote(Buffer.from(big)), 'ERR_NOTE_MALFORMED');
  });

  const b64 = Buffer.concat([good.keyHash, good.signature]).toString('base64');
  const cases: [string, string][] = [
    ['no blank line', `${TEXT}${line}`],
    ['CR before newline', `${TEXT}\n${line.replace('\n', '\r\n')}`],
    ['tab in text', `a\tb\n\n${line}`],
    ['lone surrogate', `a\ud800b\n\n${line}`],
    ['no final newline', `${TEXT}\n${line.slice(0, -1)}`],
    ['hyphen instead of em dash', `${TEXT}\n${line.replace('\u2014', '-')}`],
    ['empty key name', `${TEXT}\n\u2014  ${b64}\n`],
    ['plus in key name', `${TEXT}\n\u2014 Peter+Neumann ${b64}\n`],
    ['no-break space in key name', `${TEXT}\n\u2014 Peter\u00a0Neumann ${b64}\n`],
    ['two spaces', `${TEXT}\n\u2014 PeterNeumann  ${b64}\n`],
    ['unpadded base64', `${TEXT}\n\u2014 PeterNeumann ${b64.replace(/=+$/, '')}\n`],
    ['URL-safe base64', `${TEXT}\n\u2014 PeterNeumann ${b64.replace(/\+/g, '-').replace(/\//g, '_')}\n`],
    ['non-zero padding bits', `${TEXT}\n\u2014 PeterNeumann ${b64.replace(/M=$/, 'N=')}\n`],
    ['key hash only', `${TEXT}\n\u2014 PeterNeumann ${Buffer.from(good.keyHash).toString('base64')}\n`],
  ];
  for (const [what, text] of cases) {
    it(`refuses ${what}`, async () => {
      assert.notEqual(text, PETER_NOTE);
      await expectCode(() => parseNote(text), 'ERR_NOTE_MALFORMED');
    });
  }

  it('treats everything above the last blank line as text (C2SP signed-note)', async () => {
    const n = parseNote(`${TEXT}\n${line}\n${line}`);
    assert.equal(n.text, `${TEXT}\n${line}`);
    assert.equal(n.signatures.length, 1);
    await expectCode(() => verifyNote(n, [noteVerifierFromVkey(PETER)]), 'ERR_NOTE_SIGNATURE');
  });

  it('keeps blank lines of the text and a leading BOM as signed', () => {
    const n = parseNote(`a\n\nb\n\n${line}`);
    assert.equal(n.text, 'a\n\nb\n');
    const bom = parseNote(Buffer.from(`\ufeff${TEXT}\n${line}`, 'utf8'));
    assert.equal(bom.text, `\ufeff${TEXT}`);
  });
});

describe('log/note: verifyNote', () => {
  const peter = noteVerifierFromVkey(PETER);

  it('returns each verifier once even if it signed twice', () => {
    const sig = parseNote(PETER_NOTE).signatures[0] as Note['signatures'][number];
    const note = parseNote(`${TEXT}\n${sigLine(sig.name, sig.keyHash, sig.signature).repeat(3)}`);
    assert.deepEqual(verifyNote(note, [peter]), [peter]);
  });

  it('verifies every signature of a known key, not only the first', async () => {
    const sig = parseNote(PETER_NOTE).signatures[0] as Note['signatures'][number];
    const bad = Buffer.from(sig.signature);
    bad[0] = (bad[0] as number) ^ 1;
    const note = parseNote(
      `${TEXT}\n${sigLine(sig.name, sig.keyHash, sig.signature)}${sigLine(sig.name, sig.keyHash, bad)}`,
    );
    await expectCode(() => verifyNote(note, [peter]), 'ERR_NOTE_SIGNATURE');
  });

  it('a verifier that throws counts as a failed signature', async () => {
    const thrower: NoteVerifier = {
      name: peter.name,
      keyHash: peter.keyHash,
      verify: () => {
        throw new Error('library failure');
      },
    };
    await expectCode(() => verifyNote(parseNote(PETER_NOTE), [thrower]), 'ERR_NOTE_SIGNATURE');
  });

  it('signatures over an altered text are refused', async () => {
    const altered = PETER_NOTE.replace('answer', 'answers');
    await expectCode(() => verifyNote(parseNote(altered), [peter]), 'ERR_NOTE_SIGNATURE');
  });

  it('property: any change to a signed note is rejected by parse or verify', () => {
    fc.assert(
      fc.property(fc.nat({ max: PETER_NOTE.length - 1 }), fc.integer({ min: 1, max: 0x7f }), (i, c) => {
        const ch = String.fromCharCode(c);
        fc.pre(PETER_NOTE[i] !== ch);
        const mutated = PETER_NOTE.slice(0, i) + ch + PETER_NOTE.slice(i + 1);
        let accepted = false;
        try {
          accepted = verifyNote(parseNote(mutated), [peter]).length > 0;
        } catch (e) {
          assert.ok(isVouchError(e), String(e));
        }
        // Canonical base64 leaves no spelling of the same signature bytes, so no change may survive.
        assert.equal(accepted, false, JSON.stringify(mutated));
      }),
      { numRuns: 500 },
    );
  });
});

describe('log/note: verifiers from PKIX keys', () => {
  const text = 'example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
  const open = (name: string, keyHash: Uint8Array, sig: Uint8Array) =>
    parseNote(`${text}\n${sigLine(name, keyHash, sig)}`);

  it('Ed25519: the C2SP key ID, and the same verifier as the equivalent vkey', () => {
    const { vkey, privateKey, publicKey } = ed25519Vkey('example.com/log', 0x01);
    const fromKey = noteVerifierFromPublicKey('example.com/log', publicKey);
    const fromVkey = noteVerifierFromVkey(vkey);
    assert.equal(hex(fromKey.keyHash), hex(fromVkey.keyHash));
    const sig = sign(null, Buffer.from(text), privateKey);
    assert.deepEqual(verifyNote(open('example.com/log', fromKey.keyHash, sig), [fromKey]), [fromKey]);
    assert.deepEqual(verifyNote(open('example.com/log', fromKey.keyHash, sig), [fromVkey]), [fromVkey]);
    // A private key is reduced to its public half.
    assert.equal(hex(noteVerifierFromPublicKey('example.com/log', privateKey).keyHash), hex(fromKey.keyHash));
  });

  for (const [curve, hash] of [
    ['prime256v1', 'sha256'],
    ['secp384r1', 'sha384'],
  ] as const) {
    it(`ECDSA ${curve}: key ID = SHA-256(SPKI)[:4], DER signature with ${hash}`, async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const v = noteVerifierFromPublicKey('rekor.example', publicKey);
      const spkiHash = createHash('sha256')
        .update(publicKey.export({ type: 'spki', format: 'der' }))
        .digest();
      assert.equal(hex(v.keyHash), hex(spkiHash.subarray(0, 4)));
      const sig = sign(hash, Buffer.from(text), privateKey);
      assert.deepEqual(verifyNote(open('rekor.example', v.keyHash, sig), [v]), [v]);
      const p1363 = sign(hash, Buffer.from(text), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      await expectCode(() => verifyNote(open('rekor.example', v.keyHash, p1363), [v]), 'ERR_NOTE_SIGNATURE');
    });
  }

  it('RSA (rekor-tiles): key ID over 0xFF "PKIX-RSA-PKCS#1v1.5" and the SPKI, PKCS#1 v1.5 SHA-256', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const v = noteVerifierFromPublicKey('testkey', publicKey);
    const id = createHash('sha256')
      .update('testkey\n\xff', 'latin1')
      .update('PKIX-RSA-PKCS#1v1.5')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest();
    assert.equal(hex(v.keyHash), hex(id.subarray(0, 4)));
    const sig = sign('sha256', Buffer.from(text), privateKey);
    assert.deepEqual(verifyNote(open('testkey', v.keyHash, sig), [v]), [v]);
  });

  it('refuses invalid names and unsupported or weak keys', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    await expectCode(() => noteVerifierFromPublicKey('', publicKey), 'ERR_USAGE');
    await expectCode(() => noteVerifierFromPublicKey('rekor.sigstore.dev - 1', publicKey), 'ERR_USAGE');
    await expectCode(() => noteVerifierFromPublicKey('a+b', publicKey), 'ERR_USAGE');
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey;
    await expectCode(() => noteVerifierFromPublicKey('log', k1), 'ERR_ALG_UNSUPPORTED');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    await expectCode(() => noteVerifierFromPublicKey('log', weak), 'ERR_ALG_WEAK');
  });
});
