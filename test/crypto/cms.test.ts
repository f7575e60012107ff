import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { isVouchError, type VouchErrorCode } from '../../src/core/index.js';
import { signCmsDetached, verifyCmsDetached } from '../../src/crypto/index.js';
import { expectCode, tempDir } from '../helpers.js';

const dir = tempDir('vouch-cms-');
const at = (name: string) => join(dir, name);

/** Runs openssl in the test directory; returns the exit status (asserted by the caller). */
function openssl(args: string[]): { status: number; stderr: string } {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error !== undefined) throw r.error;
  return { status: r.status ?? -1, stderr: r.stderr };
}

function opensslOk(args: string[]): void {
  const r = openssl(args);
  assert.equal(r.status, 0, `openssl ${args.join(' ')} failed: ${r.stderr}`);
}

const CA_CNF = `[ca]
default_ca = test
[test]
dir = .
database = index.txt
new_certs_dir = .
serial = serial.txt
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
`;

const EXT_CNF = `[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[codesign]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

type KeyKind = 'p256' | 'p384' | 'rsa' | 'ed25519';
const GENPKEY: Record<KeyKind, string[]> = {
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  ed25519: ['-algorithm', 'ed25519'],
};

/** Makes `<name>.key` and `<name>.pem` with `openssl ca` (which, unlike `openssl x509`, sets both dates). */
function issue(
  name: string,
  o: { key: KeyKind; issuer: string | 'self'; ext: string; start?: string; end?: string },
): void {
  opensslOk(['genpkey', ...GENPKEY[o.key], '-out', `${name}.key`]);
  opensslOk(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
  const signer =
    o.issuer === 'self'
      ? ['-selfsign', '-keyfile', `${name}.key`]
      : ['-cert', `${o.issuer}.pem`, '-keyfile', `${o.issuer}.key`];
  opensslOk([
    'ca',
    '-batch',
    '-notext',
    '-config',
    'ca.cnf',
    ...signer,
    '-in',
    `${name}.csr`,
    '-out',
    `${name}.pem`,
    '-startdate',
    o.start ?? '20190101000000Z',
    '-enddate',
    o.end ?? '20391231000000Z',
    '-extfile',
    'ext.cnf',
    '-extensions',
    o.ext,
  ]);
}

function der(name: string): Uint8Array {
  const pem = readFileSync(at(`${name}.pem`), 'utf8');
  return Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
}

function key(name: string): KeyObject {
  return createPrivateKey(readFileSync(at(`${name}.key`)));
}

function write(name: string, data: string | Uint8Array): string {
  writeFileSync(at(name), data);
  return name;
}

/** `openssl cms -verify` of a DER detached signature against root.pem; returns the exit status. */
function opensslVerify(sigFile: string, contentFile: string, caFile = 'root.pem'): number {
  return openssl([
    'cms',
    '-verify',
    '-binary',
    '-inform',
    'DER',
    '-in',
    sigFile,
    '-content',
    contentFile,
    '-CAfile',
    caFile,
    '-purpose',
    'any',
    '-out',
    '/dev/null',
  ]).status;
}

function opensslSign(signer: string, out: string, extra: string[] = [], content = 'data.bin'): Uint8Array {
  opensslOk([
    'cms',
    '-sign',
    '-binary',
    '-outform',
    'DER',
    '-md',
    'sha256',
    '-signer',
    `${signer}.pem`,
    '-inkey',
    `${signer}.key`,
    '-in',
    content,
    '-out',
    out,
    ...extra,
  ]);
  return readFileSync(at(out));
}

async function codeOf(fn: () => Promise<unknown>): Promise<VouchErrorCode | 'none'> {
  try {
    await fn();
    return 'none';
  } catch (e) {
    assert.ok(isVouchError(e), `expected a VouchError, got ${String(e)}`);
    return e.code;
  }
}

const data = Buffer.from(`build output\n${'0123456789abcdef'.repeat(4096)}`);
const tampered = Buffer.concat([data, Buffer.from('\n')]);
let anchors: Uint8Array[] = [];

before(() => {
  writeFileSync(at('ca.cnf'), CA_CNF);
  writeFileSync(at('ext.cnf'), EXT_CNF);
  writeFileSync(at('index.txt'), '');
  writeFileSync(at('serial.txt'), '1000\n');
  write('data.bin', data);
  write('tampered.bin', tampered);
  issue('root', {
    key: 'p256',
    issuer: 'self',
    ext: 'root',
    start: '20180101000000Z',
    end: '20450101000000Z',
  });
  issue('inter', { key: 'p384', issuer: 'root', ext: 'inter', start: '20180101000000Z' });
  issue('leaf-p256', { key: 'p256', issuer: 'root', ext: 'codesign' });
  issue('leaf-rsa', { key: 'rsa', issuer: 'root', ext: 'codesign' });
  issue('leaf-ed25519', { key: 'ed25519', issuer: 'root', ext: 'codesign' });
  issue('leaf-p384', { key: 'p384', issuer: 'inter', ext: 'codesign' });
  issue('leaf-server', { key: 'p256', issuer: 'root', ext: 'server' });
  issue('leaf-expired', {
    key: 'p256',
    issuer: 'root',
    ext: 'codesign',
    start: '20200101000000Z',
    end: '20200201000000Z',
  });
  issue('other-root', { key: 'p256', issuer: 'self', ext: 'root' });
  issue('leaf-untrusted', { key: 'p256', issuer: 'other-root', ext: 'codesign' });
  anchors = [der('root')];
});

describe('crypto/cms: Vouch → openssl', () => {
  for (const leaf of ['leaf-p256', 'leaf-rsa'] as const) {
    it(`${leaf}: a detached signature passes openssl cms -verify; tampered content fails`, async () => {
      const sig = await signCmsDetached(data, { certificate: der(leaf), privateKey: key(leaf) });
      write(`${leaf}.vouch.p7s`, sig);
      assert.equal(opensslVerify(`${leaf}.vouch.p7s`, 'data.bin'), 0);
      assert.notEqual(opensslVerify(`${leaf}.vouch.p7s`, 'tampered.bin'), 0);
      const r = await verifyCmsDetached(data, sig, { anchors });
      assert.equal(r.signer.subject, `CN=${leaf}`);
      assert.equal(r.digestAlgorithm, 'sha256');
      assert.deepEqual(
        r.chain.map((c) => c.subject),
        [`CN=${leaf}`, 'CN=root'],
      );
      await expectCode(() => verifyCmsDetached(tampered, sig, { anchors }), 'ERR_CMS_SIGNATURE');
    });
  }

  it('P-384 leaf under an intermediate: chain embedded, openssl and Vouch build the path to the root', async () => {
    const sig = await signCmsDetached(data, {
      certificate: der('leaf-p384'),
      chain: [der('inter')],
      privateKey: key('leaf-p384'),
    });
    write('p384.vouch.p7s', sig);
    assert.equal(opensslVerify('p384.vouch.p7s', 'data.bin'), 0);
    const r = await verifyCmsDetached(data, sig, { anchors });
    assert.equal(r.digestAlgorithm, 'sha384');
    assert.deepEqual(
      r.chain.map((c) => c.subject),
      ['CN=leaf-p384', 'CN=inter', 'CN=root'],
    );
    // Without the intermediate there is no path.
    const bare = await signCmsDetached(data, { certificate: der('leaf-p384'), privateKey: key('leaf-p384') });
    await expectCode(() => verifyCmsDetached(data, bare, { anchors }), 'ERR_CERT_CHAIN');
  });

  it('a streamed file and a digest-only artifact give signatures openssl accepts', async () => {
    const opts = { certificate: der('leaf-p256'), privateKey: key('leaf-p256') };
    const fromFile = await signCmsDetached({ kind: 'file', path: at('data.bin') }, opts);
    const digest = createHash('sha256').update(data).digest();
    const fromDigest = await signCmsDetached({ kind: 'digest', algorithm: 'sha256', digest }, opts);
    for (const [name, sig] of [
      ['file.p7s', fromFile],
      ['digest.p7s', fromDigest],
    ] as const) {
      write(name, sig);
      assert.equal(opensslVerify(name, 'data.bin'), 0);
      const r = await verifyCmsDetached({ kind: 'file', path: at('data.bin') }, sig, { anchors });
      assert.equal(r.signer.subject, 'CN=leaf-p256');
      await verifyCmsDetached({ kind: 'digest', algorithm: 'sha256', digest }, sig, { anchors });
    }
    await expectCode(
      () =>
        verifyCmsDetached({ kind: 'digest', algorithm: 'sha512', digest: new Uint8Array(64) }, fromFile, {
          anchors,
        }),
      'ERR_USAGE',
    );
    await expectCode(
      () => verifyCmsDetached({ kind: 'file', path: at('tampered.bin') }, fromFile, { anchors }),
      'ERR_CMS_SIGNATURE',
    );
  });

  // OpenSSL 3.0 cannot sign or verify Ed25519 CMS with signed attributes (its EdDSA init refuses the
  // digest), so this one is a round trip through Vouch only.
  it('Ed25519 (RFC 8419: SHA-512 message digest, PureEdDSA over the attributes) round-trips', async () => {
    const sig = await signCmsDetached(data, {
      certificate: der('leaf-ed25519'),
      privateKey: key('leaf-ed25519'),
    });
    const r = await verifyCmsDetached(data, sig, { anchors });
    assert.equal(r.digestAlgorithm, 'sha512');
    await expectCode(() => verifyCmsDetached(tampered, sig, { anchors }), 'ERR_CMS_SIGNATURE');
  });

  it('signing time: UTCTime of the given instant (whole seconds), returned by the verifier', async () => {
    const signingTime = new Date('2030-06-01T12:34:56.789Z');
    const sig = await signCmsDetached(data, {
      certificate: der('leaf-p256'),
      privateKey: key('leaf-p256'),
      signingTime,
    });
    // A signingTime in the future of the verifier's clock is refused…
    await expectCode(() => verifyCmsDetached(data, sig, { anchors }), 'ERR_CMS_SIGNATURE');
    const past = await signCmsDetached(data, {
      certificate: der('leaf-p256'),
      privateKey: key('leaf-p256'),
      signingTime: new Date('2026-01-01T00:00:00.789Z'),
    });
    const r = await verifyCmsDetached(data, past, { anchors });
    assert.equal(r.signingTime?.toISOString(), '2026-01-01T00:00:00.000Z');
    // RFC 5652 §11.3: UTCTime for years 1950–2049.
    const ci = new pkijs.ContentInfo({ schema: asn1js.fromBER(past).result });
    const attrs = new pkijs.SignedData({ schema: ci.content }).signerInfos[0]?.signedAttrs?.attributes ?? [];
    const time = attrs.find((a) => a.type === '1.2.840.113549.1.9.5')?.values[0] as unknown;
    assert.ok(time instanceof asn1js.UTCTime);
  });
});

describe('crypto/cms: openssl → Vouch', () => {
  for (const leaf of ['leaf-p256', 'leaf-rsa'] as const) {
    it(`${leaf}: openssl cms -sign (DER, PEM text, PEM bytes) verifies; tampered → ERR_CMS_SIGNATURE`, async () => {
      const sig = opensslSign(leaf, `${leaf}.openssl.p7s`);
      const r = await verifyCmsDetached(data, sig, { anchors });
      assert.equal(r.signer.subject, `CN=${leaf}`);
      assert.ok(r.signingTime instanceof Date);
      assert.ok(Math.abs((r.signingTime?.getTime() ?? 0) - Date.now()) < 600_000);
      await expectCode(() => verifyCmsDetached(tampered, sig, { anchors }), 'ERR_CMS_SIGNATURE');
      opensslOk([
        'cms',
        '-cmsout',
        '-inform',
        'DER',
        '-in',
        `${leaf}.openssl.p7s`,
        '-outform',
        'PEM',
        '-out',
        `${leaf}.pem.p7s`,
      ]);
      const pem = readFileSync(at(`${leaf}.pem.p7s`), 'utf8');
      assert.match(pem, /^-----BEGIN CMS-----/);
      assert.equal((await verifyCmsDetached(data, pem, { anchors })).signer.subject, `CN=${leaf}`);
      assert.equal(
        (await verifyCmsDetached(data, Buffer.from(pem), { anchors })).signer.subject,
        `CN=${leaf}`,
      );
    });
  }

  it('RSASSA-PSS, the SubjectKeyIdentifier signer id and an embedded intermediate all verify', async () => {
    const pss = opensslSign('leaf-rsa', 'pss.p7s', ['-keyopt', 'rsa_padding_mode:pss']);
    assert.equal((await verifyCmsDetached(data, pss, { anchors })).signer.subject, 'CN=leaf-rsa');
    await expectCode(() => verifyCmsDetached(tampered, pss, { anchors }), 'ERR_CMS_SIGNATURE');
    const keyid = opensslSign('leaf-p256', 'keyid.p7s', ['-keyid']);
    assert.equal((await verifyCmsDetached(data, keyid, { anchors })).signer.subject, 'CN=leaf-p256');
    const chained = opensslSign('leaf-p384', 'chained.p7s', ['-certfile', 'inter.pem']);
    assert.equal((await verifyCmsDetached(data, chained, { anchors })).chain.length, 3);
  });

  it('errors from the chain check: no codeSigning EKU, expired, untrusted CA', async () => {
    await expectCode(
      () => verifyCmsDetached(data, opensslSign('leaf-server', 's.p7s'), { anchors }),
      'ERR_CERT_EKU',
    );
    const server = await verifyCmsDetached(data, opensslSign('leaf-server', 's.p7s'), {
      anchors,
      requiredEku: '1.3.6.1.5.5.7.3.1',
    });
    assert.equal(server.signer.subject, 'CN=leaf-server');
    await expectCode(
      () => verifyCmsDetached(data, opensslSign('leaf-expired', 'e.p7s'), { anchors }),
      'ERR_CERT_VALIDITY',
    );
    const untrusted = opensslSign('leaf-untrusted', 'u.p7s');
    await expectCode(() => verifyCmsDetached(data, untrusted, { anchors }), 'ERR_CERT_CHAIN');
    assert.equal(
      (await verifyCmsDetached(data, untrusted, { anchors: [der('other-root')] })).signer.subject,
      'CN=leaf-untrusted',
    );
  });

  it('forms Vouch refuses: embedded content, no attributes, no certificates, two signers, SHA-1', async () => {
    await expectCode(
      () => verifyCmsDetached(data, opensslSign('leaf-p256', 'n.p7s', ['-nodetach']), { anchors }),
      'ERR_CMS_MALFORMED',
    );
    await expectCode(
      () => verifyCmsDetached(data, opensslSign('leaf-p256', 'a.p7s', ['-noattr']), { anchors }),
      'ERR_CMS_MALFORMED',
    );
    await expectCode(
      () => verifyCmsDetached(data, opensslSign('leaf-p256', 'c.p7s', ['-nocerts']), { anchors }),
      'ERR_CMS_MALFORMED',
    );
    const two = opensslSign('leaf-p256', 't.p7s', ['-signer', 'leaf-rsa.pem', '-inkey', 'leaf-rsa.key']);
    await expectCode(() => verifyCmsDetached(data, two, { anchors }), 'ERR_CMS_MALFORMED');
    opensslOk([
      'cms',
      '-sign',
      '-binary',
      '-outform',
      'DER',
      '-md',
      'sha1',
      '-signer',
      'leaf-p256.pem',
      '-inkey',
      'leaf-p256.key',
      '-in',
      'data.bin',
      '-out',
      'sha1.p7s',
    ]);
    await expectCode(
      () => verifyCmsDetached(data, readFileSync(at('sha1.p7s')), { anchors }),
      'ERR_ALG_WEAK',
    );
  });
});

describe('crypto/cms: signing time and the verification time', () => {
  it('an expired leaf: a backdated signingTime does not help; only a trusted `at` inside the validity does', async () => {
    const o = { certificate: der('leaf-expired'), privateKey: key('leaf-expired') };
    const backdated = await signCmsDetached(data, { ...o, signingTime: new Date('2020-01-15T00:00:00Z') });
    write('backdated.p7s', backdated);
    await expectCode(() => verifyCmsDetached(data, backdated, { anchors }), 'ERR_CERT_VALIDITY');
    const r = await verifyCmsDetached(data, backdated, { anchors, at: new Date('2020-01-15T00:00:00Z') });
    assert.equal(r.signingTime?.toISOString(), '2020-01-15T00:00:00.000Z');
    const now = await signCmsDetached(data, o);
    await expectCode(() => verifyCmsDetached(data, now, { anchors }), 'ERR_CERT_VALIDITY');
  });

  it('no EKU and untrusted CA on Vouch-signed data, too', async () => {
    const s = await signCmsDetached(data, {
      certificate: der('leaf-server'),
      privateKey: key('leaf-server'),
    });
    await expectCode(() => verifyCmsDetached(data, s, { anchors }), 'ERR_CERT_EKU');
    const u = await signCmsDetached(data, {
      certificate: der('leaf-untrusted'),
      privateKey: key('leaf-untrusted'),
    });
    await expectCode(() => verifyCmsDetached(data, u, { anchors }), 'ERR_CERT_CHAIN');
  });
});

describe('crypto/cms: rejections', () => {
  let good: Uint8Array = new Uint8Array();
  before(async () => {
    good = await signCmsDetached(data, { certificate: der('leaf-p256'), privateKey: key('leaf-p256') });
  });

  it('malformed input → ERR_CMS_MALFORMED', async () => {
    const cases: (Uint8Array | string)[] = [
      new Uint8Array(),
      new Uint8Array([0x30, 0x03, 0x02, 0x01]),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, new Uint8Array([0])]),
      'not pem',
      `-----BEGIN CERTIFICATE-----\n${Buffer.from(good).toString('base64')}\n-----END CERTIFICATE-----\n`,
      '-----BEGIN CMS-----\n!!!!\n-----END CMS-----\n',
      der('root'),
    ];
    for (const c of cases)
      await expectCode(() => verifyCmsDetached(data, c, { anchors }), 'ERR_CMS_MALFORMED');
  });

  it('every bit flip in the signed attributes and the signature is rejected', async () => {
    const ci = new pkijs.ContentInfo({ schema: asn1js.fromBER(good).result });
    const si = new pkijs.SignedData({ schema: ci.content }).signerInfos[0];
    assert.ok(si?.signedAttrs !== undefined);
    const attrs = new Uint8Array(si.signedAttrs.encodedValue);
    attrs[0] = 0xa0;
    const start = Buffer.from(good).indexOf(attrs);
    assert.ok(start > 0);
    const allowed = new Set<string>(['ERR_CMS_SIGNATURE', 'ERR_CMS_MALFORMED', 'ERR_ALG_UNSUPPORTED']);
    for (let i = start; i < good.length; i++) {
      const mutated = Buffer.from(good);
      mutated[i] = (mutated[i] as number) ^ 0x01;
      const code = await codeOf(() => verifyCmsDetached(data, mutated, { anchors }));
      assert.ok(allowed.has(code), `byte ${i}: ${code}`);
    }
  });

  it('a CMSAlgorithmProtection attribute naming another digest is refused (RFC 6211)', async () => {
    const sha256Oid = Buffer.from('0609608648016503040201', 'hex');
    const bytes = Buffer.from(good);
    // Occurrences: SignedData.digestAlgorithms, SignerInfo.digestAlgorithm, then the one inside the attribute.
    let pos = -1;
    for (let n = 0; n < 3; n++) pos = bytes.indexOf(sha256Oid, pos + 1);
    assert.ok(pos > 0);
    bytes[pos + sha256Oid.length - 1] = 0x02;
    let thrown: unknown;
    try {
      await verifyCmsDetached(data, bytes, { anchors });
    } catch (e) {
      thrown = e;
    }
    assert.ok(isVouchError(thrown, 'ERR_CMS_SIGNATURE'));
    assert.match(thrown.message, /CMSAlgorithmProtection/);
  });

  it('signing refuses a key that does not match the certificate, and a malformed certificate', async () => {
    await expectCode(
      () => signCmsDetached(data, { certificate: der('leaf-p256'), privateKey: key('leaf-rsa') }),
      'ERR_KEY_MISMATCH',
    );
    await expectCode(
      () => signCmsDetached(data, { certificate: new Uint8Array([1, 2, 3]), privateKey: key('leaf-p256') }),
      'ERR_CERT_MALFORMED',
    );
    await expectCode(
      () =>
        signCmsDetached(
          { kind: 'file', path: at('missing.bin') },
          { certificate: der('leaf-p256'), privateKey: key('leaf-p256') },
        ),
      'ERR_INPUT_UNREADABLE',
    );
  });

  it('anchors must be given; a missing content file is unreadable', async () => {
    await expectCode(() => verifyCmsDetached(data, good, { anchors: [] }), 'ERR_CERT_CHAIN');
    await expectCode(
      () => verifyCmsDetached({ kind: 'file', path: at('missing.bin') }, good, { anchors }),
      'ERR_INPUT_UNREADABLE',
    );
  });
});
