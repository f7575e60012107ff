import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import { parseCertificate, parseCertificates, verifyCertificateChain } from '../../src/crypto/index.js';
import { type CtLog, verifyEmbeddedScts } from '../../src/verify/sct.js';
import { expectCode, VECTORS } from '../helpers.js';

const ROOT = join(VECTORS, 'sigstore-conformance');

interface TrustedRoot {
  certificateAuthorities?: { certChain: { certificates: { rawBytes: string }[] } }[];
  ctlogs?: {
    logId: { keyId: string };
    publicKey: { rawBytes: string; keyDetails: string; validFor: { start: string; end?: string | null } };
  }[];
}

function trustedRoot(name: string): TrustedRoot {
  const own = join(ROOT, 'cases', name, 'trusted_root.json');
  return JSON.parse(
    readFileSync(existsSync(own) ? own : join(ROOT, '_defaults/public-good-trusted_root.json'), 'utf8'),
  );
}

function ctlogsOf(tr: TrustedRoot): CtLog[] {
  return (tr.ctlogs ?? []).map((l) => {
    const { rawBytes, keyDetails, validFor } = l.publicKey;
    // trusted_root.json stores most keys as SPKI, older RSA ones as PKCS#1.
    const type = keyDetails === 'PKCS1_RSA_PKCS1V5' ? 'pkcs1' : 'spki';
    const publicKey = createPublicKey({ key: Buffer.from(rawBytes, 'base64'), format: 'der', type });
    const start = new Date(validFor.start);
    return {
      logId: Buffer.from(l.logId.keyId, 'base64'),
      publicKey,
      // protobuf JSON may spell an open end as null.
      validFor: validFor.end == null ? { start } : { start, end: new Date(validFor.end) },
    };
  });
}

function leafOf(name: string): Buffer | undefined {
  let bundle: {
    verificationMaterial?: {
      certificate?: { rawBytes: string };
      x509CertificateChain?: { certificates: { rawBytes: string }[] };
    };
  };
  try {
    bundle = JSON.parse(readFileSync(join(ROOT, 'cases', name, 'bundle.sigstore.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const vm = bundle.verificationMaterial;
  const raw = vm?.certificate?.rawBytes ?? vm?.x509CertificateChain?.certificates[0]?.rawBytes;
  return raw === undefined ? undefined : Buffer.from(raw, 'base64');
}

/** The issuing CA certificate, found by validating the chain at issuance. */
async function issuerOf(leaf: Buffer, tr: TrustedRoot): Promise<Uint8Array> {
  const anchors = (tr.certificateAuthorities ?? []).flatMap((ca) =>
    ca.certChain.certificates.map((c) => Buffer.from(c.rawBytes, 'base64')),
  );
  const path = await verifyCertificateChain({
    certificates: [leaf],
    anchors,
    at: parseCertificate(leaf).notBefore,
  });
  const issuer = path[1];
  assert.ok(issuer !== undefined);
  return new Uint8Array(issuer.rawData);
}

describe('verify/sct: real Fulcio leaves (sigstore-conformance)', () => {
  const expected: Record<string, 'ERR_SCT_INVALID' | 'no chain'> = {
    // The SCT's log is not in this case's trusted root.
    'invalid-ct-key_fail': 'ERR_SCT_INVALID',
    // These leaves do not chain to their trusted root at issuance, so there is no issuer to test with.
    'bundle-from-wrong-instance_fail': 'no chain',
    'intoto-expired-certificate_fail': 'no chain',
  };
  const cases = readdirSync(join(ROOT, 'cases')).filter((n) => leafOf(n) !== undefined);

  it('covers every case with a certificate', () => {
    assert.ok(cases.length >= 40, `found ${cases.length}`);
    for (const name of Object.keys(expected)) assert.ok(cases.includes(name), name);
  });

  for (const name of cases) {
    const want = expected[name];
    if (want === 'no chain') continue;
    it(`${name}: ${want ?? 'one log verified'}`, async () => {
      const leaf = leafOf(name);
      assert.ok(leaf !== undefined);
      const tr = trustedRoot(name);
      const issuer = await issuerOf(leaf, tr);
      if (want === undefined) assert.equal(verifyEmbeddedScts(leaf, issuer, ctlogsOf(tr)), 1);
      else await expectCode(() => verifyEmbeddedScts(leaf, issuer, ctlogsOf(tr)), want);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Mutations of one real leaf (happy-path-v0.3, public-good CT log 2022).

const kids = (b: asn1js.AsnType | undefined): asn1js.AsnType[] =>
  (b?.valueBlock as unknown as { value?: asn1js.AsnType[] } | undefined)?.value ?? [];

function sctExtension(leaf: Uint8Array): { cert: asn1js.AsnType; value: asn1js.OctetString } {
  const cert = asn1js.fromBER(Uint8Array.from(leaf)).result;
  const exts = kids(
    kids(kids(kids(cert)[0]).find((f) => f.idBlock.tagClass === 3 && f.idBlock.tagNumber === 3))[0],
  );
  const ext = exts.find((e) => kids(e)[0]?.valueBlock.toString() === '1.3.6.1.4.1.11129.2.4.2');
  const value = kids(ext).at(-1);
  assert.ok(value instanceof asn1js.OctetString);
  return { cert, value };
}

/** The serialized SCTs of the leaf's list (RFC 6962 §3.3). */
function sctsOf(leaf: Uint8Array): Buffer[] {
  const inner = asn1js.fromBER(sctExtension(leaf).value.valueBlock.valueHexView).result as asn1js.OctetString;
  const list = Buffer.from(inner.valueBlock.valueHexView);
  const out: Buffer[] = [];
  for (let i = 2; i < list.length; ) {
    const len = list.readUInt16BE(i);
    out.push(list.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const serializeList = (scts: Buffer[]) => {
  const body = Buffer.concat(scts.flatMap((s) => [u16(s.length), s]));
  return Buffer.concat([u16(body.length), body]);
};

/** The leaf re-encoded with another SCT list (the CA signature breaks; SCT verification does not use it). */
function withList(leaf: Uint8Array, list: Uint8Array): Buffer {
  const { cert, value } = sctExtension(leaf);
  value.valueBlock.valueHexView = new Uint8Array(new asn1js.OctetString({ valueHex: list }).toBER(false));
  return Buffer.from(cert.toBER(false));
}

describe('verify/sct: rejections and boundaries', async () => {
  const name = 'happy-path-v0.3';
  const leaf = leafOf(name) as Buffer;
  const tr = trustedRoot(name);
  const logs = ctlogsOf(tr);
  const issuer = await issuerOf(leaf, tr);
  // From `openssl x509 -text`: Timestamp Mar 19 17:26:26.470 2024 GMT, log DD:3D:30:6A:…
  const sctTime = Date.UTC(2024, 2, 19, 17, 26, 26, 470);
  const logId = Buffer.from('3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4=', 'base64');
  const log = logs.find((l) => Buffer.from(l.logId).equals(logId));
  assert.ok(log !== undefined);
  const only = (validFor: CtLog['validFor'], publicKey = log.publicKey): CtLog[] => [
    { logId, publicKey, validFor },
  ];

  it('reads the SCT list back unchanged (the test helper is faithful)', () => {
    assert.deepEqual(withList(leaf, serializeList(sctsOf(leaf))), leaf);
    assert.equal(verifyEmbeddedScts(leaf, issuer, only({ start: new Date(0) })), 1);
  });

  it("treats the log's validFor as a closed interval around the SCT timestamp", async () => {
    const at = new Date(sctTime);
    assert.equal(verifyEmbeddedScts(leaf, issuer, only({ start: at })), 1);
    assert.equal(verifyEmbeddedScts(leaf, issuer, only({ start: new Date(0), end: at })), 1);
    await expectCode(
      () => verifyEmbeddedScts(leaf, issuer, only({ start: new Date(sctTime + 1) })),
      'ERR_SCT_INVALID',
    );
    await expectCode(
      () => verifyEmbeddedScts(leaf, issuer, only({ start: new Date(0), end: new Date(sctTime - 1) })),
      'ERR_SCT_INVALID',
    );
  });

  it('rejects an unknown log, a wrong log key, a wrong issuer and no logs at all', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    await expectCode(() => verifyEmbeddedScts(leaf, issuer, []), 'ERR_SCT_INVALID');
    await expectCode(
      () =>
        verifyEmbeddedScts(leaf, issuer, [
          { ...only({ start: new Date(0) })[0], logId: Buffer.alloc(32) } as CtLog,
        ]),
      'ERR_SCT_INVALID',
    );
    await expectCode(
      () => verifyEmbeddedScts(leaf, issuer, only({ start: new Date(0) }, other)),
      'ERR_SCT_INVALID',
    );
    // The root instead of the intermediate: issuer_key_hash differs.
    const root = (tr.certificateAuthorities ?? []).flatMap((ca) => ca.certChain.certificates).at(-1);
    assert.ok(root !== undefined);
    await expectCode(
      () => verifyEmbeddedScts(leaf, Buffer.from(root.rawBytes, 'base64'), logs),
      'ERR_SCT_INVALID',
    );
  });

  it('rejects a changed TBS, a changed SCT signature or timestamp, and a changed SCT extension field', async () => {
    const [sct] = sctsOf(leaf);
    assert.ok(sct !== undefined);
    // Outside the SCT: the SAN URI in the TBS.
    const tbsTampered = Buffer.from(leaf);
    const san = tbsTampered.indexOf(Buffer.from('extremely-dangerous'));
    tbsTampered.writeUInt8(tbsTampered.readUInt8(san) ^ 0x20, san);
    await expectCode(() => verifyEmbeddedScts(tbsTampered, issuer, logs), 'ERR_SCT_INVALID');
    const mutate = (at: number) => {
      const s = Buffer.from(sct);
      s.writeUInt8(s.readUInt8(at) ^ 0x01, at);
      return withList(leaf, serializeList([s]));
    };
    // v1 layout: version(1) log_id(32) timestamp(8) extensions<2+0> hash(1) sig(1) signature<2+…>.
    await expectCode(() => verifyEmbeddedScts(mutate(40), issuer, logs), 'ERR_SCT_INVALID');
    await expectCode(() => verifyEmbeddedScts(mutate(sct.length - 1), issuer, logs), 'ERR_SCT_INVALID');
    await expectCode(() => verifyEmbeddedScts(mutate(43), issuer, logs), 'ERR_SCT_INVALID');
    const withExtension = Buffer.concat([
      sct.subarray(0, 41),
      Buffer.from('00020000', 'hex'),
      sct.subarray(43),
    ]);
    await expectCode(
      () => verifyEmbeddedScts(withList(leaf, serializeList([withExtension])), issuer, logs),
      'ERR_SCT_INVALID',
    );
  });

  it('skips SCTs of an unknown version and counts distinct logs, not copies', async () => {
    const [sct] = sctsOf(leaf);
    assert.ok(sct !== undefined);
    const v2 = Buffer.from(sct);
    v2.writeUInt8(1, 0);
    await expectCode(
      () => verifyEmbeddedScts(withList(leaf, serializeList([v2])), issuer, logs),
      'ERR_SCT_INVALID',
    );
    assert.equal(verifyEmbeddedScts(withList(leaf, serializeList([v2, sct, sct])), issuer, logs), 1);
    const truncated = sct.subarray(0, 50);
    assert.equal(verifyEmbeddedScts(withList(leaf, serializeList([truncated, sct])), issuer, logs), 1);
  });

  it('rejects malformed lists with ERR_SCT_INVALID and an empty one with ERR_SCT_MISSING', async () => {
    const [sct] = sctsOf(leaf);
    assert.ok(sct !== undefined);
    const good = serializeList([sct]);
    const bad: Buffer[] = [
      Buffer.concat([u16(good.length), good.subarray(2)]), // total length off by two
      good.subarray(0, good.length - 1), // truncated
      Buffer.from([0x00, 0x02, 0x00, 0x00]), // one zero-length SCT
      Buffer.concat([good, Buffer.from([0])]), // trailing byte
    ];
    for (const list of bad)
      await expectCode(() => verifyEmbeddedScts(withList(leaf, list), issuer, logs), 'ERR_SCT_INVALID');
    await expectCode(
      () => verifyEmbeddedScts(withList(leaf, Buffer.from([0, 0])), issuer, logs),
      'ERR_SCT_MISSING',
    );
  });

  it('reports ERR_SCT_MISSING for a certificate without SCTs and ERR_CERT_MALFORMED for junk', async () => {
    const tsaChain = readFileSync(
      join(VECTORS, 'rfc3161/trailofbits-rfc3161-client/sigstage/ts_chain.pem'),
      'utf8',
    );
    const [tsaLeaf, tsaRoot] = parseCertificates(tsaChain).map((c) => new Uint8Array(c.rawData));
    assert.ok(tsaLeaf !== undefined && tsaRoot !== undefined);
    await expectCode(() => verifyEmbeddedScts(tsaLeaf, tsaRoot, logs), 'ERR_SCT_MISSING');
    await expectCode(() => verifyEmbeddedScts(Buffer.from('junk'), issuer, logs), 'ERR_CERT_MALFORMED');
    await expectCode(
      () => verifyEmbeddedScts(Buffer.from('30051c03616263', 'hex'), issuer, logs),
      'ERR_CERT_MALFORMED',
    );
    await expectCode(
      () => verifyEmbeddedScts(Buffer.concat([leaf, Buffer.from([0])]), issuer, logs),
      'ERR_CERT_MALFORMED',
    );
    await expectCode(() => verifyEmbeddedScts(leaf, Buffer.from('junk'), logs), 'ERR_CERT_MALFORMED');
  });
});
