import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import fc from 'fast-check';
import { isVouchError } from '../../src/core/index.js';
import { parseCertificates, verifyCertificateChain } from '../../src/crypto/index.js';
import {
  parseRfc3161Timestamp,
  type TimestampAuthority,
  verifyRfc3161Timestamp,
} from '../../src/tsa/index.js';
import { expectCode, tempDir, VECTORS } from '../helpers.js';

const TOB = join(VECTORS, 'rfc3161', 'trailofbits-rfc3161-client');
const HELLO = Buffer.from('hello');
const EPOCH = new Date(0);

const tsr = (path: string): Buffer => readFileSync(join(TOB, path));

/** ts_chain.pem is PEM in most folders, a single DER root in identrust/. */
function chainOf(folder: string): Uint8Array[] {
  const raw = readFileSync(join(TOB, folder, 'ts_chain.pem'));
  if (raw.subarray(0, 5).toString() !== '-----') return [raw];
  return parseCertificates(raw.toString('utf8')).map((c) => new Uint8Array(c.rawData));
}

/** Children of a constructed asn1js block (empty for anything else). */
const kids = (b: asn1js.AsnType | undefined): asn1js.AsnType[] =>
  (b?.valueBlock as unknown as { value?: asn1js.AsnType[] } | undefined)?.value ?? [];

const authority = (certChain: Uint8Array[], start = EPOCH, end?: Date): TimestampAuthority =>
  end === undefined ? { certChain, validFor: { start } } : { certChain, validFor: { start, end } };

describe('tsa/parseRfc3161Timestamp (trailofbits/rfc3161-client vectors)', () => {
  const table: [string, string, 'sha256' | 'sha384' | 'sha512', number][] = [
    ['sigstage/response-sha256.tsr', '2025-05-09T11:58:55.000Z', 'sha256', 1],
    ['sigstage/response-sha384.tsr', '2025-05-09T11:58:55.000Z', 'sha384', 1],
    ['sigstage/response-sha512.tsr', '2025-05-09T11:58:56.000Z', 'sha512', 1],
    ['sigstage/response-no-embedded-cert.tsr', '2025-06-18T08:13:02.000Z', 'sha256', 0],
    ['sigstage/response-invalid-signature.tsr', '2025-05-09T11:58:55.000Z', 'sha256', 1],
    ['test_tsa/response.tsr', '2024-10-08T15:40:32.000Z', 'sha512', 1],
    ['test_tsa/other_response.tsr', '2024-10-31T13:31:44.000Z', 'sha512', 1],
    ['test_tsa/response-injected-certs.tsr', '2024-10-08T15:40:32.000Z', 'sha512', 3],
    ['sigstore.mock/response-expired.tsr', '2023-02-01T00:00:00.000Z', 'sha256', 0],
    ['identrust/issue-104.tsr', '2025-03-11T08:52:08.000Z', 'sha512', 2],
  ];
  for (const [file, genTime, hash, certs] of table) {
    it(`parses ${file}`, () => {
      const p = parseRfc3161Timestamp(tsr(file));
      assert.equal(p.genTime.toISOString(), genTime);
      assert.equal(p.hashAlgorithm, hash);
      assert.equal(p.embeddedCertificates.length, certs);
      assert.equal(p.messageImprint.byteLength, { sha256: 32, sha384: 48, sha512: 64 }[hash]);
    });
  }

  it('reads serial numbers as signed integers (the mock TSA issues a negative one)', () => {
    assert.equal(parseRfc3161Timestamp(tsr('sigstore.mock/response-expired.tsr')).serialNumber, -559038737n);
    assert.equal(
      parseRfc3161Timestamp(tsr('test_tsa/response.tsr')).serialNumber,
      0x797035501f358571fed54952bebbd000497461dcn,
    );
  });

  it('refuses what is not a granted timestamp with ERR_TIMESTAMP_MALFORMED', async () => {
    const good = tsr('sigstage/response-sha256.tsr');
    const bad: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['garbage', Buffer.from('not a timestamp')],
      ['truncated', good.subarray(0, good.length - 10)],
      ['trailing byte', Buffer.concat([good, Buffer.from([0])])],
      ['a TimeStampReq', tsr('test_tsa/request.der')],
      ['status rejection(2)', Buffer.from('30053003020102', 'hex')],
      ['granted without a token', Buffer.from('30053003020100', 'hex')],
      ['an INTEGER', Buffer.from('020100', 'hex')],
      // asn1js throws a RangeError on a UniversalString whose length is not a multiple of 4.
      ['a nested odd UniversalString', Buffer.from('30051c03616263', 'hex')],
      ['BER long-form length', Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), good.subarray(2)])],
    ];
    for (const [what, der] of bad) {
      await expectCode(() => parseRfc3161Timestamp(der), 'ERR_TIMESTAMP_MALFORMED').catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
    }
  });
});

describe('tsa/verifyRfc3161Timestamp (trailofbits/rfc3161-client vectors)', () => {
  const pass: [string, string, Uint8Array][] = [
    ['sigstage/response-sha256.tsr', 'sigstage', HELLO],
    ['sigstage/response-sha384.tsr', 'sigstage', HELLO],
    ['sigstage/response-sha512.tsr', 'sigstage', HELLO],
    ['sigstage/response-no-embedded-cert.tsr', 'sigstage', HELLO],
    ['test_tsa/response.tsr', 'test_tsa', HELLO],
    // The extra "Spoofed TSA" certificate is ignored: the authority's own leaf is the signer.
    ['test_tsa/response-injected-certs.tsr', 'test_tsa', HELLO],
    // CA-only authority (IdenTrust root): signer and intermediate come embedded; RSA, ESSCertID (v1).
    ['identrust/issue-104.tsr', 'identrust', HELLO],
    // Validated at genTime (2023-02-01), when the mock TSA certificate (2023) was valid.
    ['sigstore.mock/response-expired.tsr', 'sigstore.mock', readFileSync(join(TOB, 'sigstore.mock/payload'))],
  ];
  for (const [file, folder, data] of pass) {
    it(`verifies ${file}`, async () => {
      const auth = authority(chainOf(folder));
      const r = await verifyRfc3161Timestamp(tsr(file), data, [auth]);
      assert.equal(r.genTime.getTime(), parseRfc3161Timestamp(tsr(file)).genTime.getTime());
      assert.equal(r.authority, auth);
    });
  }

  it('the mock TSA chain has expired by now: current-time validation would fail', async () => {
    const [leaf, ...rest] = chainOf('sigstore.mock');
    assert.ok(leaf !== undefined);
    await expectCode(
      () => verifyCertificateChain({ certificates: [leaf], anchors: rest, at: new Date() }),
      'ERR_CERT_VALIDITY',
    );
  });

  const fail: [string, string, Uint8Array, string, 'ERR_TIMESTAMP_INVALID' | 'ERR_TIMESTAMP_UNTRUSTED'][] = [
    [
      'corrupted signature',
      'sigstage/response-invalid-signature.tsr',
      HELLO,
      'sigstage',
      'ERR_TIMESTAMP_INVALID',
    ],
    [
      'other data (sha256)',
      'sigstage/response-sha256.tsr',
      Buffer.from('hello!'),
      'sigstage',
      'ERR_TIMESTAMP_INVALID',
    ],
    [
      'other data (sha512)',
      'test_tsa/response.tsr',
      Buffer.from('Hello'),
      'test_tsa',
      'ERR_TIMESTAMP_INVALID',
    ],
    ['empty data', 'identrust/issue-104.tsr', new Uint8Array(0), 'identrust', 'ERR_TIMESTAMP_INVALID'],
    ['another TSA instance', 'test_tsa/other_response.tsr', HELLO, 'test_tsa', 'ERR_TIMESTAMP_UNTRUSTED'],
    ['a different authority', 'sigstage/response-sha256.tsr', HELLO, 'test_tsa', 'ERR_TIMESTAMP_UNTRUSTED'],
    [
      'a CA-only authority that did not issue it',
      'identrust/issue-104.tsr',
      HELLO,
      'sigstage',
      'ERR_TIMESTAMP_UNTRUSTED',
    ],
    [
      'no embedded signer for a CA-only authority',
      'sigstage/response-no-embedded-cert.tsr',
      HELLO,
      'identrust',
      'ERR_TIMESTAMP_UNTRUSTED',
    ],
  ];
  for (const [what, file, data, folder, code] of fail) {
    it(`rejects ${what} with ${code}`, async () => {
      await expectCode(() => verifyRfc3161Timestamp(tsr(file), data, [authority(chainOf(folder))]), code);
    });
  }

  it('rejects a timestamp when no authority is trusted, or the spoofed embedded TSA is', async () => {
    const token = tsr('test_tsa/response-injected-certs.tsr');
    await expectCode(() => verifyRfc3161Timestamp(token, HELLO, []), 'ERR_TIMESTAMP_UNTRUSTED');
    const embedded = parseRfc3161Timestamp(token).embeddedCertificates;
    const [, root] = chainOf('test_tsa').slice(1);
    const spoofed = embedded.find((d) => Buffer.from(d).includes(Buffer.from('Spoofed TSA')));
    assert.ok(spoofed !== undefined && root !== undefined);
    await expectCode(
      () => verifyRfc3161Timestamp(token, HELLO, [authority([spoofed, root])]),
      'ERR_TIMESTAMP_UNTRUSTED',
    );
  });

  it("treats the authority's validFor as a closed interval around genTime", async () => {
    const token = tsr('sigstage/response-sha256.tsr');
    const t = parseRfc3161Timestamp(token).genTime;
    const chain = chainOf('sigstage');
    const before = new Date(t.getTime() - 1);
    const after = new Date(t.getTime() + 1);
    assert.ok(await verifyRfc3161Timestamp(token, HELLO, [authority(chain, t)]));
    assert.ok(await verifyRfc3161Timestamp(token, HELLO, [authority(chain, EPOCH, t)]));
    await expectCode(
      () => verifyRfc3161Timestamp(token, HELLO, [authority(chain, after)]),
      'ERR_TIMESTAMP_UNTRUSTED',
    );
    await expectCode(
      () => verifyRfc3161Timestamp(token, HELLO, [authority(chain, EPOCH, before)]),
      'ERR_TIMESTAMP_UNTRUSTED',
    );
  });

  it('returns the authority that vouches, skipping others', async () => {
    const wanted = authority(chainOf('sigstage'));
    const r = await verifyRfc3161Timestamp(tsr('sigstage/response-sha384.tsr'), HELLO, [
      authority(chainOf('test_tsa')),
      authority(chainOf('identrust')),
      wanted,
    ]);
    assert.equal(r.authority, wanted);
  });

  it('accepts a bare TimeStampToken (ContentInfo) as well as a TimeStampResp', async () => {
    const resp = asn1js.fromBER(tsr('sigstage/response-sha256.tsr'));
    const token = (resp.result.valueBlock as unknown as { value: asn1js.AsnType[] }).value[1];
    assert.ok(token !== undefined);
    const bare = new Uint8Array(token.valueBeforeDecodeView);
    assert.equal(parseRfc3161Timestamp(bare).hashAlgorithm, 'sha256');
    const r = await verifyRfc3161Timestamp(bare, HELLO, [authority(chainOf('sigstage'))]);
    assert.equal(r.genTime.toISOString(), '2025-05-09T11:58:55.000Z');
  });

  it('rejects a tampered embedded signer certificate through the ESSCertID binding', async () => {
    const token = Buffer.from(tsr('identrust/issue-104.tsr'));
    const [leaf] = parseRfc3161Timestamp(token).embeddedCertificates;
    assert.ok(leaf !== undefined);
    const at = token.indexOf(Buffer.from(leaf)) + leaf.byteLength - 3;
    token.writeUInt8(token.readUInt8(at) ^ 0x01, at);
    const run = () => verifyRfc3161Timestamp(token, HELLO, [authority(chainOf('identrust'))]);
    await expectCode(run, 'ERR_TIMESTAMP_INVALID');
    await assert.rejects(run, /names another certificate/);
  });

  it('property: any byte flipped in the signed TSTInfo, signed attributes or signature is rejected', async () => {
    const token = tsr('sigstage/response-sha256.tsr');
    const auth = [authority(chainOf('sigstage'))];
    // The signed parts: the encapsulated TSTInfo, and the SignerInfo (attributes, signature). The embedded
    // certificate set between them is unsigned and ignored for an authority that names its leaf.
    const signedData = kids(kids(kids(asn1js.fromBER(token).result)[1])[1])[0];
    const encap = kids(signedData)[2]?.valueBeforeDecodeView;
    const signerInfos = kids(signedData).at(-1)?.valueBeforeDecodeView;
    assert.ok(encap !== undefined && signerInfos !== undefined);
    const positions = fc.oneof(
      fc.integer({ min: encap.byteOffset, max: encap.byteOffset + encap.byteLength - 1 }),
      fc.integer({ min: signerInfos.byteOffset, max: token.length - 1 }),
    );
    await fc.assert(
      fc.asyncProperty(positions, fc.integer({ min: 1, max: 255 }), async (i, x) => {
        const bad = Buffer.from(token);
        bad.writeUInt8(bad.readUInt8(i) ^ x, i);
        try {
          await verifyRfc3161Timestamp(bad, HELLO, auth);
        } catch (e) {
          return isVouchError(e) && e.code.startsWith('ERR_TIMESTAMP_');
        }
        return false;
      }),
      { numRuns: 200 },
    );
  });
});

describe('tsa/verifyRfc3161Timestamp (sigstore-conformance bundles)', () => {
  const root = join(VECTORS, 'sigstore-conformance');
  const expected: Record<string, 'ERR_TIMESTAMP_UNTRUSTED'> = {
    'rekor2-timestamp-outside-trust-root-tsa-validity_fail': 'ERR_TIMESTAMP_UNTRUSTED',
    'rekor2-timestamp-outside-tsa-cert-validity_fail': 'ERR_TIMESTAMP_UNTRUSTED',
    'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': 'ERR_TIMESTAMP_UNTRUSTED',
    'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': 'ERR_TIMESTAMP_UNTRUSTED',
  };
  interface TrustedRoot {
    timestampAuthorities?: {
      certChain: { certificates: { rawBytes: string }[] };
      validFor: { start: string; end?: string | null };
    }[];
  }
  const cases = readdirSync(join(root, 'cases')).flatMap((name) => {
    let bundle: {
      verificationMaterial?: {
        timestampVerificationData?: { rfc3161Timestamps?: { signedTimestamp: string }[] };
      };
      messageSignature?: { signature: string };
      dsseEnvelope?: { signatures: { sig: string }[] };
    };
    try {
      bundle = JSON.parse(readFileSync(join(root, 'cases', name, 'bundle.sigstore.json'), 'utf8'));
    } catch {
      return [];
    }
    const stamps = bundle.verificationMaterial?.timestampVerificationData?.rfc3161Timestamps ?? [];
    const sig = bundle.messageSignature?.signature ?? bundle.dsseEnvelope?.signatures[0]?.sig;
    return stamps.length > 0 && sig !== undefined ? [{ name, stamps, sig }] : [];
  });

  it('covers every bundle that carries an RFC 3161 timestamp', () => {
    assert.ok(cases.length >= 20, `found ${cases.length}`);
    for (const name of Object.keys(expected))
      assert.ok(
        cases.some((c) => c.name === name),
        name,
      );
  });

  for (const { name, stamps, sig } of cases) {
    const code = expected[name];
    it(`${name}: the timestamp over the signature ${code === undefined ? 'verifies' : `fails with ${code}`}`, async () => {
      const trustPath = join(root, 'cases', name, 'trusted_root.json');
      const tr = JSON.parse(
        readFileSync(
          existsSync(trustPath) ? trustPath : join(root, '_defaults/public-good-trusted_root.json'),
          'utf8',
        ),
      ) as TrustedRoot;
      const authorities = (tr.timestampAuthorities ?? []).map((a) =>
        authority(
          a.certChain.certificates.map((c) => Buffer.from(c.rawBytes, 'base64')),
          new Date(a.validFor.start),
          a.validFor.end == null ? undefined : new Date(a.validFor.end),
        ),
      );
      for (const { signedTimestamp } of stamps) {
        const run = () =>
          verifyRfc3161Timestamp(
            Buffer.from(signedTimestamp, 'base64'),
            Buffer.from(sig, 'base64'),
            authorities,
          );
        if (code === undefined) {
          const r = await run();
          assert.ok(authorities.includes(r.authority));
        } else {
          await expectCode(run, code);
        }
      }
    });
  }
});

describe('tsa/verifyRfc3161Timestamp (tokens made by openssl ts)', () => {
  const dir = tempDir('vouch-tsa-');
  const sh = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const der = (name: string) => {
    sh(['x509', '-in', `${name}.pem`, '-outform', 'DER', '-out', `${name}.der`]);
    return readFileSync(join(dir, `${name}.der`));
  };
  const EXT = `[req]
distinguished_name=dn
[dn]
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign
subjectKeyIdentifier=hash
[tsa]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping
[tsa2]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping,codeSigning
`;
  const tsaConfig = (section: string, essAlg: string, certs: string) => `[${section}]
serial = ./serial
signer_cert = ./tsa.pem
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
ess_cert_id_alg = ${essAlg}
${certs}
`;
  const certs: Record<string, Buffer> = {};
  const token = (section: string, opts: { embed: boolean; bare?: boolean }): Buffer => {
    const out = `${section}-${opts.embed}-${opts.bare === true}.der`;
    sh(['ts', '-query', '-data', 'data', '-sha256', ...(opts.embed ? ['-cert'] : []), '-out', 'q.tsq']);
    sh(
      ['ts', '-reply', '-config', 'ts.cnf', '-section', section, '-queryfile', 'q.tsq'].concat([
        ...(opts.bare === true ? ['-token_out'] : []),
        '-out',
        out,
      ]),
    );
    return readFileSync(join(dir, out));
  };
  const DATA = Buffer.from('timestamped by openssl');

  before(() => {
    writeFileSync(join(dir, 'ext.cnf'), EXT);
    writeFileSync(join(dir, 'data'), DATA);
    writeFileSync(join(dir, 'serial'), '01\n');
    writeFileSync(
      join(dir, 'ts.cnf'),
      [
        tsaConfig('v1', 'sha1', ''),
        tsaConfig('v2', 'sha256', ''),
        tsaConfig('v2sha512', 'sha512', 'certs = ./inter.pem'),
      ].join('\n'),
    );
    sh(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'root.key']);
    sh(
      ['req', '-x509', '-new', '-key', 'root.key', '-subj', '/CN=ts-root', '-days', '30'].concat([
        '-config',
        'ext.cnf',
        '-extensions',
        'ca',
        '-out',
        'root.pem',
      ]),
    );
    sh(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'inter.key']);
    sh([
      'req',
      '-new',
      '-key',
      'inter.key',
      '-subj',
      '/CN=ts-inter',
      '-config',
      'ext.cnf',
      '-out',
      'inter.csr',
    ]);
    sh(
      [
        'x509',
        '-req',
        '-in',
        'inter.csr',
        '-CA',
        'root.pem',
        '-CAkey',
        'root.key',
        '-set_serial',
        '2',
      ].concat(['-days', '30', '-extfile', 'ext.cnf', '-extensions', 'ca', '-out', 'inter.pem']),
    );
    sh(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'tsa.key']);
    sh(['req', '-new', '-key', 'tsa.key', '-subj', '/CN=ts-signer', '-config', 'ext.cnf', '-out', 'tsa.csr']);
    for (const [name, ext] of [
      ['tsa', 'tsa'],
      // Same issuer, serial and key as tsa, but two extended key usages.
      ['tsa2', 'tsa2'],
    ]) {
      sh(
        [
          'x509',
          '-req',
          '-in',
          'tsa.csr',
          '-CA',
          'inter.pem',
          '-CAkey',
          'inter.key',
          '-set_serial',
          '7',
        ].concat(['-days', '10', '-extfile', 'ext.cnf', '-extensions', String(ext), '-out', `${name}.pem`]),
      );
    }
    for (const name of ['root', 'inter', 'tsa', 'tsa2']) certs[name] = der(name);
  });

  const c = (name: string): Buffer => {
    const d = certs[name];
    assert.ok(d !== undefined);
    return d;
  };
  const full = () => authority([c('tsa'), c('inter'), c('root')]);
  const caOnly = () => authority([c('inter'), c('root')]);

  it('verifies RSA tokens with ESSCertID (SHA-1) and ESSCertIDv2 (default SHA-256 and explicit SHA-512)', async () => {
    for (const section of ['v1', 'v2', 'v2sha512']) {
      for (const embed of [true, false]) {
        const r = await verifyRfc3161Timestamp(token(section, { embed }), DATA, [full()]);
        assert.ok(Math.abs(r.genTime.getTime() - Date.now()) < 600_000, section);
      }
    }
    assert.ok(await verifyRfc3161Timestamp(token('v1', { embed: true, bare: true }), DATA, [full()]));
  });

  it('with a CA-only authority, needs the signer (and intermediates) embedded', async () => {
    // v2sha512 embeds tsa + inter; v1 embeds tsa only.
    assert.ok(
      await verifyRfc3161Timestamp(token('v2sha512', { embed: true }), DATA, [authority([c('root')])]),
    );
    assert.ok(await verifyRfc3161Timestamp(token('v1', { embed: true }), DATA, [caOnly()]));
    await expectCode(
      () => verifyRfc3161Timestamp(token('v1', { embed: true }), DATA, [authority([c('root')])]),
      'ERR_TIMESTAMP_UNTRUSTED',
    );
    await expectCode(
      () => verifyRfc3161Timestamp(token('v1', { embed: false }), DATA, [caOnly()]),
      'ERR_TIMESTAMP_UNTRUSTED',
    );
  });

  /**
   * Edits the signed attributes in place (same length) and re-signs them with the TSA key, so each
   * attribute check can be reached with an otherwise valid RSA signature (PKCS#1 v1.5 length is fixed).
   */
  function resign(tok: Buffer, edit: (attrs: Buffer) => void): Buffer {
    const out = Buffer.from(tok);
    const top = asn1js.fromBER(out).result;
    const signedData = kids(kids(kids(top)[1])[1])[0];
    const signerInfo = kids(kids(signedData).at(-1))[0];
    const attrs = kids(signerInfo).find((b) => b.idBlock.tagClass === 3 && b.idBlock.tagNumber === 0);
    const signature = kids(signerInfo).at(-1);
    assert.ok(attrs !== undefined && signature !== undefined);
    const a = attrs.valueBeforeDecodeView;
    const edited = Buffer.from(a);
    edit(edited);
    edited.copy(out, a.byteOffset);
    const toSign = Buffer.from(edited);
    toSign.writeUInt8(0x31, 0);
    const sig = sign('sha256', toSign, createPrivateKey(readFileSync(join(dir, 'tsa.key'))));
    const s = signature.valueBeforeDecodeView;
    assert.equal(sig.length, 256);
    sig.copy(out, s.byteOffset + s.byteLength - 256);
    return out;
  }
  const replace = (attrs: Buffer, from: Buffer, to: Buffer) => {
    const at = attrs.indexOf(from);
    assert.ok(at >= 0 && from.length === to.length);
    to.copy(attrs, at);
  };

  it('re-signing with the same key still verifies (the edit helper is faithful)', async () => {
    const tok = resign(token('v1', { embed: false }), () => undefined);
    assert.ok(await verifyRfc3161Timestamp(tok, DATA, [full()]));
  });

  it('rejects a signer certificate with more than id-kp-timeStamping (RFC 3161 §2.3)', async () => {
    const sha1 = (d: Buffer) => createHash('sha1').update(d).digest();
    const tok = resign(token('v1', { embed: false }), (attrs) =>
      replace(attrs, sha1(c('tsa')), sha1(c('tsa2'))),
    );
    const run = () => verifyRfc3161Timestamp(tok, DATA, [authority([c('tsa2'), c('inter'), c('root')])]);
    await expectCode(run, 'ERR_TIMESTAMP_UNTRUSTED');
    await assert.rejects(run, /only id-kp-timeStamping/);
  });

  it('rejects wrong signed attributes with ERR_TIMESTAMP_INVALID, each for its own reason', async () => {
    const tstInfoOid = Buffer.from('060b2a864886f70d0109100104', 'hex');
    const edits: [string, (attrs: Buffer) => void, RegExp][] = [
      [
        'content type',
        (a) => replace(a, tstInfoOid, Buffer.from('060b2a864886f70d0109100105', 'hex')),
        /content-type/,
      ],
      ['message digest', (a) => a.writeUInt8(a.readUInt8(a.length - 1) ^ 1, a.length - 1), /message-digest/],
      [
        'signing certificate',
        (a) => replace(a, createHash('sha1').update(c('tsa')).digest(), Buffer.alloc(20, 7)),
        /names another certificate/,
      ],
    ];
    const base = token('v1', { embed: false });
    // messageDigest is the last attribute openssl writes (attributes are a DER SET, sorted by encoding).
    for (const [what, edit, message] of edits) {
      const run = () => verifyRfc3161Timestamp(resign(base, edit), DATA, [full()]);
      await expectCode(run, 'ERR_TIMESTAMP_INVALID').catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
      await assert.rejects(run, message);
    }
  });
});
