import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  EKU_CODE_SIGNING,
  EKU_TIME_STAMPING,
  parseCertificate,
  parseCertificates,
  verifyAlgorithmSignature,
  verifyCertificateChain,
} from '../../src/crypto/index.js';
import { expectCode, tempDir, VECTORS } from '../helpers.js';

// Certificates are made by the real openssl binary, so the validator is tested against an independent encoder.
const dir = tempDir('vouch-x509-');

type KeyKind = 'ec' | 'rsa1024' | 'rsa2048' | 'ed25519';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeKey(name: string, kind: KeyKind): void {
  const spec: Record<KeyKind, string[]> = {
    ec: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    rsa1024: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
    rsa2048: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
    ed25519: ['-algorithm', 'ED25519'],
  };
  openssl(['genpkey', ...spec[kind], '-out', `${name}.key`]);
}

const CA_EXT = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
const LEAF_EXT = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature'];
let serial = 1;

/** Makes `<name>.pem` (self-signed when `issuer` is absent) and returns its DER. */
function makeCert(
  name: string,
  o: { issuer?: string; cn?: string; key?: KeyKind; ext: string[]; days?: number; sign?: string[] },
): Buffer {
  makeKey(name, o.key ?? 'ec');
  const cfg = join(dir, `${name}.cnf`);
  const ext = [...o.ext, 'subjectKeyIdentifier=hash'];
  if (o.issuer !== undefined) ext.push('authorityKeyIdentifier=keyid');
  writeFileSync(cfg, `[req]\ndistinguished_name=dn\n[dn]\n[ext]\n${ext.join('\n')}\n`);
  const subj = `/O=vouch-test/CN=${o.cn ?? name}`;
  const days = String(o.days ?? 365);
  if (o.issuer === undefined) {
    openssl(
      ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', subj, '-days', days].concat([
        '-config',
        cfg,
        '-extensions',
        'ext',
        '-out',
        `${name}.pem`,
      ]),
    );
  } else {
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', subj, '-config', cfg, '-out', `${name}.csr`]);
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', `${o.issuer}.pem`, '-CAkey', `${o.issuer}.key`]
        .concat(['-set_serial', String(serial++), '-days', days, '-extfile', cfg, '-extensions', 'ext'])
        .concat([...(o.sign ?? []), '-out', `${name}.pem`]),
    );
  }
  openssl(['x509', '-in', `${name}.pem`, '-outform', 'DER', '-out', `${name}.der`]);
  return readFileSync(join(dir, `${name}.der`));
}

const certs: Record<string, Buffer> = {};

before(() => {
  const mk = (name: string, o: Parameters<typeof makeCert>[1]) => {
    certs[name] = makeCert(name, o);
  };
  mk('root', { ext: CA_EXT, days: 3650 });
  mk('otherroot', { ext: CA_EXT, days: 3650 });
  mk('fakeroot', { cn: 'root', ext: CA_EXT, days: 3650 });
  mk('inter', {
    issuer: 'root',
    ext: ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign'],
  });
  mk('leaf', { issuer: 'inter', ext: [...LEAF_EXT, 'extendedKeyUsage=codeSigning'], days: 30 });
  mk('leafnoeku', { issuer: 'inter', ext: LEAF_EXT });
  mk('leafshort', { issuer: 'inter', ext: [...LEAF_EXT, 'extendedKeyUsage=codeSigning'], days: 1 });
  mk('leafsha1', { issuer: 'inter', ext: LEAF_EXT, sign: ['-sha1'] });
  mk('leaflong', { issuer: 'inter', ext: LEAF_EXT, days: 3000 });
  mk('leafcrit', { issuer: 'inter', ext: [...LEAF_EXT, '1.2.3.4=critical,ASN1:UTF8String:x'] });
  mk('critca', { issuer: 'root', ext: [...CA_EXT, '1.2.3.4=critical,ASN1:UTF8String:x'] });
  mk('undercritca', { issuer: 'critca', ext: LEAF_EXT });
  mk('notca', { issuer: 'root', ext: LEAF_EXT });
  mk('undernotca', { issuer: 'notca', ext: LEAF_EXT });
  mk('nocertsign', {
    issuer: 'root',
    ext: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature'],
  });
  mk('undernocertsign', { issuer: 'nocertsign', ext: LEAF_EXT });
  mk('inter2', { issuer: 'inter', ext: CA_EXT });
  mk('underinter2', { issuer: 'inter2', ext: LEAF_EXT });
  mk('rsa1024ca', { issuer: 'root', key: 'rsa1024', ext: CA_EXT });
  mk('underrsa1024', { issuer: 'rsa1024ca', ext: LEAF_EXT });
  mk('rsaca', { issuer: 'root', key: 'rsa2048', ext: CA_EXT });
  mk('underrsa', { issuer: 'rsaca', ext: LEAF_EXT, sign: ['-sha384'] });
  mk('underrsapss', {
    issuer: 'rsaca',
    ext: LEAF_EXT,
    sign: ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'],
  });
  mk('edca', { issuer: 'root', key: 'ed25519', ext: CA_EXT });
  mk('undered', { issuer: 'edca', ext: [...LEAF_EXT, 'extendedKeyUsage=codeSigning'] });
  mk('servercaonly', { issuer: 'root', ext: [...CA_EXT, 'extendedKeyUsage=serverAuth'] });
  mk('underservercaonly', { issuer: 'servercaonly', ext: [...LEAF_EXT, 'extendedKeyUsage=codeSigning'] });
  mk('tsaca', { issuer: 'root', ext: [...CA_EXT, 'extendedKeyUsage=timeStamping'] });
  mk('tsa', { issuer: 'tsaca', ext: [...LEAF_EXT, 'extendedKeyUsage=critical,timeStamping'] });
});

const c = (name: string): Buffer => {
  const der = certs[name];
  assert.ok(der !== undefined, `no test certificate ${name}`);
  return der;
};
const now = () => new Date();
const subjects = (path: { subject: string }[]) => path.map((p) => p.subject.replace('O=vouch-test, CN=', ''));

describe('crypto/x509 parse', () => {
  it('reads DER, PEM text and PEM bytes to the same certificate', () => {
    const pem = readFileSync(join(dir, 'leaf.pem'), 'utf8');
    const fromDer = parseCertificate(c('leaf'));
    assert.equal(fromDer.subject, 'O=vouch-test, CN=leaf');
    assert.equal(fromDer.issuer, 'O=vouch-test, CN=inter');
    assert.deepEqual(new Uint8Array(parseCertificate(pem).rawData), new Uint8Array(c('leaf')));
    assert.deepEqual(
      new Uint8Array(parseCertificate(Buffer.from(`\n${pem}`)).rawData),
      new Uint8Array(c('leaf')),
    );
  });

  it('refuses anything that is not exactly one certificate', async () => {
    const der = c('leaf');
    await expectCode(() => parseCertificate(Buffer.from('not a certificate')), 'ERR_CERT_MALFORMED');
    await expectCode(() => parseCertificate(new Uint8Array(0)), 'ERR_CERT_MALFORMED');
    await expectCode(() => parseCertificate(Buffer.concat([der, Buffer.from([0])])), 'ERR_CERT_MALFORMED');
    await expectCode(() => parseCertificate(der.subarray(0, der.length - 1)), 'ERR_CERT_MALFORMED');
    const pem = readFileSync(join(dir, 'leaf.pem'), 'utf8');
    await expectCode(() => parseCertificate(pem + pem), 'ERR_CERT_MALFORMED');
    await expectCode(
      () => parseCertificate(readFileSync(join(dir, 'leaf.key'), 'utf8')),
      'ERR_CERT_MALFORMED',
    );
    await expectCode(
      () => parseCertificate(pem.replace(/-----END CERTIFICATE-----/, '')),
      'ERR_CERT_MALFORMED',
    );
    await expectCode(() => parseCertificate(pem.replace(/\n[A-Za-z0-9+/]/, '\n!')), 'ERR_CERT_MALFORMED');
    // A syntactically valid SEQUENCE that is not a certificate.
    await expectCode(() => parseCertificate(Buffer.from('3003020101', 'hex')), 'ERR_CERT_MALFORMED');
    // asn1js throws a RangeError on a UniversalString whose length is not a multiple of 4.
    const universal = Buffer.from(der);
    universal.writeUInt8(0x1c, 4);
    await expectCode(() => parseCertificate(universal), 'ERR_CERT_MALFORMED');
    // BER, not DER: a length in long form where the short form fits.
    await expectCode(() => parseCertificate(Buffer.from('30810302010a', 'hex')), 'ERR_CERT_MALFORMED');
  });

  it('refuses a certificate whose outer signature algorithm differs from the signed one', async () => {
    // RSA-signed leaf: swap sha384WithRSAEncryption (…01 0c) for sha256WithRSAEncryption (…01 0b) in the
    // outer AlgorithmIdentifier only, i.e. the last occurrence.
    const der = Buffer.from(c('underrsa'));
    const oid = Buffer.from('06092a864886f70d01010c', 'hex');
    const at = der.lastIndexOf(oid);
    assert.ok(at > 0 && der.indexOf(oid) !== at);
    der[at + oid.length - 1] = 0x0b;
    await expectCode(() => parseCertificate(der), 'ERR_CERT_MALFORMED');
  });

  it('reads a PEM bundle in order, ignoring text between blocks', async () => {
    const bundle = ['leaf', 'inter', 'root']
      .map((n) => `subject=${n}\n${readFileSync(join(dir, `${n}.pem`), 'utf8')}`)
      .join('\n');
    assert.deepEqual(subjects(parseCertificates(bundle)), ['leaf', 'inter', 'root']);
    await expectCode(() => parseCertificates('no certificates here'), 'ERR_CERT_MALFORMED');
    await expectCode(
      () => parseCertificates(`${bundle}\n-----BEGIN CERTIFICATE-----\nAAAA\n`),
      'ERR_CERT_MALFORMED',
    );
  });
});

describe('crypto/x509 verifyCertificateChain', () => {
  it('builds leaf → intermediate → root from untrusted intermediates in any order', async () => {
    const path = await verifyCertificateChain({
      certificates: [c('leaf'), c('otherroot'), c('leafnoeku'), c('inter')],
      anchors: [c('otherroot'), c('root')],
      at: now(),
      requiredEku: EKU_CODE_SIGNING,
    });
    assert.deepEqual(subjects(path), ['leaf', 'inter', 'root']);
  });

  it('stops at an intermediate that is itself trusted, and at a leaf that is trusted as it is', async () => {
    const viaInter = await verifyCertificateChain({
      certificates: [c('leaf')],
      anchors: [c('inter')],
      at: now(),
    });
    assert.deepEqual(subjects(viaInter), ['leaf', 'inter']);
    const self = await verifyCertificateChain({ certificates: [c('leaf')], anchors: [c('leaf')], at: now() });
    assert.deepEqual(subjects(self), ['leaf']);
  });

  it('accepts RSA PKCS#1 v1.5, RSA-PSS and Ed25519 signatures on the path', async () => {
    for (const [leaf, ca] of [
      ['underrsa', 'rsaca'],
      ['underrsapss', 'rsaca'],
      ['undered', 'edca'],
    ] as const) {
      const path = await verifyCertificateChain({
        certificates: [c(leaf), c(ca)],
        anchors: [c('root')],
        at: now(),
      });
      assert.deepEqual(subjects(path), [leaf, ca, 'root']);
    }
  });

  it('treats the validity bounds as inclusive and checks every certificate on the path', async () => {
    const leaf = parseCertificate(c('leafshort'));
    const o = { certificates: [c('leafshort'), c('inter')], anchors: [c('root')] };
    assert.equal((await verifyCertificateChain({ ...o, at: leaf.notAfter })).length, 3);
    assert.equal((await verifyCertificateChain({ ...o, at: leaf.notBefore })).length, 3);
    await expectCode(
      () => verifyCertificateChain({ ...o, at: new Date(leaf.notAfter.getTime() + 1000) }),
      'ERR_CERT_VALIDITY',
    );
    await expectCode(
      () => verifyCertificateChain({ ...o, at: new Date(leaf.notBefore.getTime() - 1000) }),
      'ERR_CERT_VALIDITY',
    );
    // The leaf outlives its intermediate (365 days): in 400 days the leaf is valid, the path is not.
    const late = new Date(Date.now() + 400 * 86400_000);
    const run = () =>
      verifyCertificateChain({ certificates: [c('leaflong'), c('inter')], anchors: [c('root')], at: late });
    await expectCode(run, 'ERR_CERT_VALIDITY');
    await assert.rejects(run, /CN=inter/);
  });

  it('requires the extended key usage on the leaf and allows it on every CA that restricts it', async () => {
    await expectCode(
      () =>
        verifyCertificateChain({
          certificates: [c('leafnoeku'), c('inter')],
          anchors: [c('root')],
          at: now(),
          requiredEku: EKU_CODE_SIGNING,
        }),
      'ERR_CERT_EKU',
    );
    await expectCode(
      () =>
        verifyCertificateChain({
          certificates: [c('leaf'), c('inter')],
          anchors: [c('root')],
          at: now(),
          requiredEku: EKU_TIME_STAMPING,
        }),
      'ERR_CERT_EKU',
    );
    await expectCode(
      () =>
        verifyCertificateChain({
          certificates: [c('underservercaonly'), c('servercaonly')],
          anchors: [c('root')],
          at: now(),
          requiredEku: EKU_CODE_SIGNING,
        }),
      'ERR_CERT_EKU',
    );
    const tsa = await verifyCertificateChain({
      certificates: [c('tsa'), c('tsaca')],
      anchors: [c('root')],
      at: now(),
      requiredEku: EKU_TIME_STAMPING,
    });
    assert.deepEqual(subjects(tsa), ['tsa', 'tsaca', 'root']);
    const noEku = await verifyCertificateChain({
      certificates: [c('leafnoeku'), c('inter')],
      anchors: [c('root')],
      at: now(),
    });
    assert.equal(noEku.length, 3);
  });

  const chainFailures: [string, string[], string[], RegExp][] = [
    ['missing intermediate', ['leaf'], ['root'], /no issuer found/],
    ['wrong anchor with the same name', ['leaf', 'inter'], ['fakeroot'], /no issuer found/],
    ['an untrusted self-signed root', ['otherroot'], ['root'], /no issuer found/],
    ['issuer that is not a CA', ['undernotca', 'notca'], ['root'], /is not a CA/],
    ['issuer without keyCertSign', ['undernocertsign', 'nocertsign'], ['root'], /keyCertSign/],
    ['pathLen exceeded', ['underinter2', 'inter2', 'inter'], ['root'], /allows 0 intermediates/],
    ['SHA-1 signature', ['leafsha1', 'inter'], ['root'], /sha1WithRSAEncryption|ecdsa-with-SHA1/],
    ['RSA-1024 issuer', ['underrsa1024', 'rsa1024ca'], ['root'], /1024 bits/],
    ['unknown critical extension on the leaf', ['leafcrit', 'inter'], ['root'], /1\.2\.3\.4/],
    ['unknown critical extension on a CA', ['undercritca', 'critca'], ['root'], /1\.2\.3\.4/],
  ];
  for (const [what, chain, anchors, message] of chainFailures) {
    it(`rejects ${what} with ERR_CERT_CHAIN`, async () => {
      const run = () =>
        verifyCertificateChain({ certificates: chain.map(c), anchors: anchors.map(c), at: now() });
      await expectCode(run, 'ERR_CERT_CHAIN');
      await assert.rejects(run, message);
    });
  }

  it('rejects a tampered signature, empty input and oversized pools', async () => {
    const tampered = Buffer.from(c('leaf'));
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 5) ^ 0x01, tampered.length - 5);
    const run = () =>
      verifyCertificateChain({ certificates: [tampered, c('inter')], anchors: [c('root')], at: now() });
    await expectCode(run, 'ERR_CERT_CHAIN');
    await assert.rejects(run, /does not verify/);
    await expectCode(
      () => verifyCertificateChain({ certificates: [], anchors: [c('root')], at: now() }),
      'ERR_CERT_CHAIN',
    );
    await expectCode(
      () => verifyCertificateChain({ certificates: [c('leaf')], anchors: [], at: now() }),
      'ERR_CERT_CHAIN',
    );
    await expectCode(
      () =>
        verifyCertificateChain({
          certificates: [c('leaf'), ...Array.from({ length: 17 }, () => c('inter'))],
          anchors: [c('root')],
          at: now(),
        }),
      'ERR_CERT_CHAIN',
    );
    await expectCode(
      () =>
        verifyCertificateChain({
          certificates: [c('leaf'), Buffer.from('junk')],
          anchors: [c('root')],
          at: now(),
        }),
      'ERR_CERT_MALFORMED',
    );
  });
});

describe('crypto/x509 verifyAlgorithmSignature', () => {
  const data = Buffer.from('signed bytes');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('verifies CMS-style bare key algorithms with the digest algorithm, and refuses weak or unknown ones', async () => {
    const sig = sign('sha256', data, rsa.privateKey);
    const base = { publicKey: rsa.publicKey, data, signature: sig };
    assert.equal(
      verifyAlgorithmSignature({
        ...base,
        algorithm: '1.2.840.113549.1.1.1',
        digestAlgorithm: '2.16.840.1.101.3.4.2.1',
      }),
      true,
    );
    assert.equal(verifyAlgorithmSignature({ ...base, algorithm: '1.2.840.113549.1.1.11' }), true);
    assert.equal(verifyAlgorithmSignature({ ...base, algorithm: '1.2.840.113549.1.1.12' }), false);
    assert.equal(verifyAlgorithmSignature({ ...base, algorithm: '1.2.840.10045.4.3.2' }), false);
    await expectCode(
      () =>
        verifyAlgorithmSignature({
          ...base,
          algorithm: '1.2.840.113549.1.1.1',
          digestAlgorithm: '1.3.14.3.2.26',
        }),
      'ERR_ALG_WEAK',
    );
    await expectCode(
      () => verifyAlgorithmSignature({ ...base, algorithm: '1.2.840.113549.1.1.5' }),
      'ERR_ALG_WEAK',
    );
    await expectCode(
      () => verifyAlgorithmSignature({ ...base, algorithm: '1.2.840.113549.1.1.10' }),
      'ERR_ALG_WEAK',
    );
    await expectCode(
      () => verifyAlgorithmSignature({ ...base, algorithm: '1.2.3.4' }),
      'ERR_ALG_UNSUPPORTED',
    );
    await expectCode(
      () => verifyAlgorithmSignature({ ...base, algorithm: '1.2.840.113549.1.1.1' }),
      'ERR_ALG_UNSUPPORTED',
    );
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expectCode(
      () =>
        verifyAlgorithmSignature({
          algorithm: '1.2.840.113549.1.1.11',
          publicKey: small.publicKey,
          data,
          signature: sign('sha256', data, small.privateKey),
        }),
      'ERR_ALG_WEAK',
    );
  });

  it('returns false, never throws, for a garbage ECDSA signature', () => {
    const good = sign('sha256', data, ec.privateKey);
    const o = { algorithm: '1.2.840.10045.4.3.2', publicKey: ec.publicKey, data };
    assert.equal(verifyAlgorithmSignature({ ...o, signature: good }), true);
    assert.equal(verifyAlgorithmSignature({ ...o, signature: Buffer.from('not DER') }), false);
    assert.equal(verifyAlgorithmSignature({ ...o, signature: new Uint8Array(0) }), false);
    // The same key exported and re-imported still verifies: keys are compared by value, not identity.
    const again = createPublicKey(createPrivateKey(ec.privateKey.export({ type: 'pkcs8', format: 'pem' })));
    assert.equal(verifyAlgorithmSignature({ ...o, publicKey: again, signature: good }), true);
  });
});

describe('crypto/x509 real Fulcio chains (sigstore-conformance)', () => {
  const root = join(VECTORS, 'sigstore-conformance');
  interface TrustedRoot {
    certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
  }
  const cases: [string, string][] = [
    ['happy-path-v0.2', '_defaults/public-good-trusted_root.json'],
    ['happy-path-v0.3', '_defaults/public-good-trusted_root.json'],
    ['happy-path-intoto-in-dsse-v3', '_defaults/public-good-trusted_root.json'],
    ['intoto-with-custom-trust-root', 'cases/intoto-with-custom-trust-root/trusted_root.json'],
    ['bundle-with-sct-with-extensions', 'cases/bundle-with-sct-with-extensions/trusted_root.json'],
  ];
  for (const [name, trust] of cases) {
    it(`${name}: the leaf chains to the trusted root at its issuance time`, async () => {
      const bundle = JSON.parse(readFileSync(join(root, 'cases', name, 'bundle.sigstore.json'), 'utf8'));
      const vm = bundle.verificationMaterial;
      const leafDer = Buffer.from(
        (vm.certificate ?? vm.x509CertificateChain.certificates[0]).rawBytes,
        'base64',
      );
      const tr = JSON.parse(readFileSync(join(root, trust), 'utf8')) as TrustedRoot;
      const chains = tr.certificateAuthorities.map((ca) =>
        ca.certChain.certificates.map((x) => Buffer.from(x.rawBytes, 'base64')),
      );
      const leaf = parseCertificate(leafDer);
      // Roots trusted, intermediates offered as untrusted: the path must reach a self-signed root.
      const roots = chains.map((ch) => ch[ch.length - 1] as Buffer);
      const intermediates = chains.flatMap((ch) => ch.slice(0, -1));
      const path = await verifyCertificateChain({
        certificates: [leafDer, ...intermediates],
        anchors: roots,
        at: leaf.notBefore,
        requiredEku: EKU_CODE_SIGNING,
      });
      assert.ok(path.length >= 2);
      assert.equal(path[0]?.serialNumber, leaf.serialNumber);
      const last = path[path.length - 1];
      assert.ok(last !== undefined && last.subject === last.issuer);
      await expectCode(
        () =>
          verifyCertificateChain({
            certificates: [leafDer, ...intermediates],
            anchors: roots,
            at: new Date(),
          }),
        'ERR_CERT_VALIDITY',
      );
    });
  }
});
