import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { vouch, vouchProcess } from './harness.js';

const env = { VOUCH_PASSWORD: 'test-passphrase' };

describe('cli: keygen, sign, verify, attest, verify-attestation, inspect', () => {
  const dir = tempDir();
  const p = (n: string) => join(dir, n);
  before(async () => {
    writeFileSync(p('app.bin'), Buffer.from('artifact bytes\n'));
    writeFileSync(
      p('pred.json'),
      JSON.stringify({
        buildDefinition: { buildType: 'x', externalParameters: {} },
        runDetails: { builder: { id: 'b' } },
      }),
    );
    assert.equal((await vouch(['keygen', '--alg', 'ecdsa-p256', '--out', p('k')], env)).code, 0);
    assert.equal((await vouch(['keygen', '--alg', 'ed25519', '--out', p('other')], env)).code, 0);
  });

  it('keygen writes an encrypted private key (0600) and a public key; refuses to overwrite', async () => {
    assert.match(readFileSync(p('k.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    assert.equal(statSync(p('k.key')).mode & 0o777, 0o600);
    assert.match(readFileSync(p('k.pub'), 'utf8'), /BEGIN PUBLIC KEY/);
    const again = await vouch(['keygen', '--out', p('k')], env);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /ERR_OUTPUT_EXISTS/);
    const noPass = await vouch(['keygen', '--out', p('nopass')], {});
    assert.equal(noPass.code, 2);
    assert.match(noPass.stderr, /ERR_KEY_PASSWORD_MISSING/);
    assert.equal(existsSync(p('nopass.key')), false);
    const weak = await vouch(['keygen', '--alg', 'rsa-1024', '--out', p('weak')], env);
    assert.equal(weak.code, 2);
    assert.match(weak.stderr, /ERR_ALG_UNSUPPORTED/);
  });

  it('sign then verify; JSON output carries the key id', async () => {
    const s = await vouch(
      ['sign', p('app.bin'), '--key', p('k.key'), '--bundle', p('app.sig.json'), '--json'],
      env,
    );
    assert.equal(s.code, 0, s.stderr);
    const out = JSON.parse(s.stdout) as { ok: boolean; keyId: string };
    assert.equal(out.ok, true);
    assert.match(out.keyId, /^[0-9a-f]{64}$/);
    const v = await vouch([
      'verify',
      p('app.bin'),
      '--key',
      p('k.pub'),
      '--bundle',
      p('app.sig.json'),
      '--json',
    ]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal((JSON.parse(v.stdout) as { signer: { keyId: string } }).signer.keyId, out.keyId);
  });

  it('verification failures exit 1 with one line naming the code', async () => {
    writeFileSync(p('tampered.bin'), Buffer.from('artifact bytes!\n'));
    const t = await vouch(['verify', p('tampered.bin'), '--key', p('k.pub'), '--bundle', p('app.sig.json')]);
    assert.equal(t.code, 1);
    assert.match(t.stderr, /^vouch: verification failed: .*\[ERR_[A-Z_]+\]\n$/);
    const w = await vouch(['verify', p('app.bin'), '--key', p('other.pub'), '--bundle', p('app.sig.json')]);
    assert.equal(w.code, 1);
    assert.match(w.stderr, /\[ERR_(SIGNATURE_INVALID|KEY_MISMATCH)\]/);
  });

  it('attest then verify-attestation checks binding and predicate type', async () => {
    const a = await vouch(
      [
        'attest',
        p('app.bin'),
        '--key',
        p('k.key'),
        '--type',
        'slsa',
        '--predicate',
        p('pred.json'),
        '--bundle',
        p('att.json'),
      ],
      env,
    );
    assert.equal(a.code, 0, a.stderr);
    const ok = await vouch([
      'verify-attestation',
      p('app.bin'),
      '--key',
      p('k.pub'),
      '--type',
      'slsa',
      '--bundle',
      p('att.json'),
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const st = (JSON.parse(ok.stdout) as { statement: { predicateType: string } }).statement;
    assert.equal(st.predicateType, 'https://slsa.dev/provenance/v1');
    const wrongType = await vouch([
      'verify-attestation',
      p('app.bin'),
      '--key',
      p('k.pub'),
      '--type',
      'cyclonedx',
      '--bundle',
      p('att.json'),
    ]);
    assert.equal(wrongType.code, 1);
    assert.match(wrongType.stderr, /ERR_INTOTO_PREDICATE_TYPE/);
    const other = await vouch([
      'verify-attestation',
      p('tampered.bin'),
      '--key',
      p('k.pub'),
      '--type',
      'slsa',
      '--bundle',
      p('att.json'),
    ]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /ERR_INTOTO_SUBJECT_MISMATCH/);
  });

  it('--type names of Object.prototype members are usage errors, not predicate types', async () => {
    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const a = await vouch(
        ['attest', p('app.bin'), '--key', p('k.key'), '--type', type, '--predicate', p('pred.json')],
        env,
      );
      assert.equal(a.code, 2, `attest --type ${type}: ${a.stderr}`);
      assert.match(
        a.stderr,
        new RegExp(`--type ${type} is neither a URI nor one of: slsa, .*\\[ERR_USAGE\\]`),
      );
      const v = await vouch([
        'verify-attestation',
        p('app.bin'),
        '--key',
        p('k.pub'),
        '--type',
        type,
        '--bundle',
        p('att.json'),
        '--json',
      ]);
      assert.equal(v.code, 2, `verify-attestation --type ${type}: ${v.stdout}`);
      assert.equal(JSON.parse(v.stdout).error.code, 'ERR_USAGE');
    }
  });

  it('digest-only artifacts verify with ECDSA', async () => {
    const hex = createHash('sha256')
      .update(readFileSync(p('app.bin')))
      .digest('hex');
    const v = await vouch(['verify', `sha256:${hex}`, '--key', p('k.pub'), '--bundle', p('app.sig.json')]);
    assert.equal(v.code, 0, v.stderr);
    const bad = await vouch([
      'verify',
      `sha256:${'0'.repeat(64)}`,
      '--key',
      p('k.pub'),
      '--bundle',
      p('app.sig.json'),
    ]);
    assert.equal(bad.code, 1);
  });

  it('shows progress for a large file only on a terminal, and erases it', async () => {
    writeFileSync(p('big.bin'), Buffer.alloc(70 * 1024 * 1024, 1));
    const args = ['sign', p('big.bin'), '--key', p('k.key'), '--bundle', p('big.json'), '--force'];
    const tty = await vouch(args, env, { tty: true });
    assert.equal(tty.code, 0, tty.stderr);
    assert.match(tty.stderr, /reading big\.bin: \d+% \(\d+ of 70 MiB\)/);
    assert.ok(tty.stderr.endsWith('\r\u001b[2K'), 'the progress line is erased at the end');
    const piped = await vouch(args, env);
    assert.equal(piped.code, 0);
    assert.equal(piped.stderr, '');
  });

  it('inspect summarises bundles and keys', async () => {
    const b = await vouch(['inspect', p('app.sig.json'), '--json']);
    assert.equal(b.code, 0, b.stderr);
    const info = JSON.parse(b.stdout) as { kind: string; mediaType: string };
    assert.equal(info.kind, 'sigstore-bundle');
    assert.equal(info.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const k = await vouch(['inspect', p('k.pub'), '--json']);
    assert.equal((JSON.parse(k.stdout) as { algorithm: string }).algorithm, 'ecdsa-p256');
  });

  it('usage errors exit 2; --help exits 0 and documents the flags', async () => {
    const h = await vouch(['verify', '--help']);
    assert.equal(h.code, 0);
    for (const flag of [
      '--key',
      '--bundle',
      '--trusted-root',
      '--certificate-identity',
      '--certificate-identity-regexp',
      '--certificate-oidc-issuer',
      '--certificate-oidc-issuer-regexp',
      '--offline',
    ]) {
      assert.ok(h.stdout.includes(flag), `verify --help lacks ${flag}`);
    }
    assert.equal((await vouch(['verify', p('app.bin')])).code, 2);
    assert.equal((await vouch(['frobnicate'])).code, 2);
    assert.equal((await vouch(['sign', p('app.bin'), '--key', 'pkcs11:token=x'], env)).code, 2);
  });
});

describe('cli: bad input is a coded error, no stack trace, nothing written', () => {
  const dir = tempDir();
  const p = (n: string) => join(dir, n);
  before(async () => {
    writeFileSync(p('a.bin'), 'a');
    assert.equal((await vouch(['keygen', '--out', p('k')], env)).code, 0);
    assert.equal(
      (await vouch(['sign', p('a.bin'), '--key', p('k.key'), '--bundle', p('good.json')], env)).code,
      0,
    );
  });
  const cases: [string, () => Buffer, RegExp][] = [
    ['empty', () => Buffer.alloc(0), /ERR_JSON_PARSE|ERR_BUNDLE_MALFORMED/],
    ['truncated', () => readFileSync(p('good.json')).subarray(0, 100), /ERR_JSON_PARSE/],
    ['non-UTF-8', () => Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), /ERR_INPUT_ENCODING/],
    ['wrong type (array)', () => Buffer.from('[1,2,3]'), /ERR_BUNDLE_MALFORMED|ERR_BUNDLE_MEDIA_TYPE/],
    [
      'wrong type (binary)',
      () => Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]),
      /ERR_INPUT_ENCODING|ERR_JSON_PARSE/,
    ],
    [
      'huge (100 MB JSON)',
      () => Buffer.from(`{"mediaType":"${'a'.repeat(100 * 1024 * 1024)}"}`),
      /ERR_INPUT_TOO_LARGE/,
    ],
  ];
  for (const [name, make, code] of cases) {
    it(`verify with a ${name} bundle → exit 3`, async () => {
      writeFileSync(p('bad.json'), make());
      const r = await vouch(['verify', p('a.bin'), '--key', p('k.pub'), '--bundle', p('bad.json')]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, code);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stderr.trim().split('\n').length, 1);
    });
  }
  it('attest with a huge predicate writes nothing', async () => {
    writeFileSync(p('huge.json'), `{"x":"${'a'.repeat(100 * 1024 * 1024)}"}`);
    const before = readdirSync(dir).sort();
    const r = await vouch(
      [
        'attest',
        p('a.bin'),
        '--key',
        p('k.key'),
        '--type',
        'custom',
        '--predicate',
        p('huge.json'),
        '--bundle',
        p('att.json'),
      ],
      env,
    );
    assert.equal(r.code, 3);
    assert.match(r.stderr, /ERR_INPUT_TOO_LARGE/);
    assert.deepEqual(readdirSync(dir).sort(), before);
  });
  it('a wrong passphrase is exit 3 and never echoes the secret', async () => {
    const r = await vouch(['sign', p('a.bin'), '--key', p('k.key'), '--bundle', p('x.json')], {
      VOUCH_PASSWORD: 'hunter2-wrong',
    });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /ERR_KEY_PASSWORD/);
    assert.doesNotMatch(r.stderr + r.stdout, /hunter2/);
    assert.equal(existsSync(p('x.json')), false);
  });
  it('the real binary: exit codes and one-line errors', () => {
    const ok = vouchProcess(['verify', p('a.bin'), '--key', p('k.pub'), '--bundle', p('good.json')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Verified OK/);
    const missing = vouchProcess(['verify', p('a.bin'), '--key', p('k.pub'), '--bundle', p('nope.json')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /ERR_INPUT_UNREADABLE/);
    assert.equal(vouchProcess(['--version']).stdout.trim(), '0.1.0');
  });
});
