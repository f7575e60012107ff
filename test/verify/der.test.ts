import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { certificateFields, oidString, readTlv } from '../../src/verify/der.js';
import { expectCode, VECTORS } from '../helpers.js';
import { makePki, tlv } from './fixtures.js';

const CONF = join(VECTORS, 'sigstore-conformance');
const pki = await makePki();

function conformanceLeaf(): Buffer {
  const b = JSON.parse(
    readFileSync(join(CONF, 'cases', 'happy-path-v0.3', 'bundle.sigstore.json'), 'utf8'),
  ) as {
    verificationMaterial: { certificate: { rawBytes: string } };
  };
  return Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64');
}

describe('der: certificate fields', () => {
  it('agrees with OpenSSL on a Fulcio leaf and the public-good CA certificates', () => {
    const root = JSON.parse(
      readFileSync(join(CONF, '_defaults', 'public-good-trusted_root.json'), 'utf8'),
    ) as {
      certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
    };
    const ders = [
      conformanceLeaf(),
      ...root.certificateAuthorities.flatMap((c) =>
        c.certChain.certificates.map((x) => Buffer.from(x.rawBytes, 'base64')),
      ),
    ];
    for (const der of ders) {
      const f = certificateFields(der);
      const x = new X509Certificate(der);
      assert.equal(f.notBefore.getTime(), new Date(x.validFrom).getTime());
      assert.equal(f.notAfter.getTime(), new Date(x.validTo).getTime());
      assert.equal(f.algorithmsAgree, true);
      assert.equal(f.signatureAlgorithm, '1.2.840.10045.4.3.3');
    }
    const leaf = certificateFields(conformanceLeaf());
    assert.deepEqual(
      leaf.extensions.filter((e) => e.critical).map((e) => e.oid),
      ['2.5.29.15', '2.5.29.17'],
    );
    assert.ok(leaf.extensions.some((e) => e.oid === '1.3.6.1.4.1.11129.2.4.2'));
  });

  it('reads GeneralizedTime validity (years from 2050)', async () => {
    const leaf = await pki.issue({
      notBefore: new Date('2049-12-31T23:59:59Z'),
      notAfter: new Date('2051-01-01T00:00:00Z'),
    });
    const f = certificateFields(leaf.der);
    assert.equal(f.notBefore.toISOString(), '2049-12-31T23:59:59.000Z');
    assert.equal(f.notAfter.toISOString(), '2051-01-01T00:00:00.000Z');
  });

  it('refuses malformed DER and times (ERR_CERT_MALFORMED)', async () => {
    const good = conformanceLeaf();
    const time = good.indexOf(Buffer.from('240319172626Z'));
    assert.ok(time > 0);
    const badMonth = Buffer.from(good);
    badMonth.write('241319172626Z', time, 'latin1');
    const fraction = Buffer.from(good);
    fraction.write('2403191726.6Z', time, 'latin1');
    for (const bad of [badMonth, fraction, good.subarray(0, 100), Buffer.concat([good, Buffer.from([0])])]) {
      await expectCode(() => certificateFields(bad), 'ERR_CERT_MALFORMED');
    }
  });

  it('refuses indefinite, non-minimal and overlong lengths', async () => {
    for (const bytes of [
      [0x30, 0x80, 0x00, 0x00],
      [0x30, 0x81, 0x05, 0, 0, 0, 0, 0],
      [0x30, 0x82, 0x00, 0x05, 0, 0, 0, 0, 0],
      [0x30, 0x85, 1, 0, 0, 0, 0],
      [0x30, 0x05, 0x00],
      [0x1f, 0x01, 0x00],
    ]) {
      await expectCode(() => readTlv(Uint8Array.from(bytes), 0), 'ERR_CERT_MALFORMED');
    }
  });

  it('decodes object identifiers and refuses non-minimal arcs', async () => {
    const oid = tlv(0x06, Buffer.from([0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08]));
    assert.equal(oidString(oid, readTlv(oid, 0)), '1.3.6.1.4.1.57264.1.8');
    const joint = tlv(0x06, Buffer.from([0x88, 0x37, 0x03]));
    assert.equal(oidString(joint, readTlv(joint, 0)), '2.999.3');
    const padded = tlv(0x06, Buffer.from([0x2b, 0x80, 0x06]));
    await expectCode(() => oidString(padded, readTlv(padded, 0)), 'ERR_CERT_MALFORMED');
    const truncated = tlv(0x06, Buffer.from([0x2b, 0x86]));
    await expectCode(() => oidString(truncated, readTlv(truncated, 0)), 'ERR_CERT_MALFORMED');
  });
});
