import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildTrustedRoot, parseTrustedRoot, trustedRootToJson } from '../../src/verify/trusted-root.js';
import { expectCode, VECTORS } from '../helpers.js';

const CONF = join(VECTORS, 'sigstore-conformance');
const PUBLIC_GOOD = join(CONF, '_defaults', 'public-good-trusted_root.json');

function ownRoots(): string[] {
  return readdirSync(join(CONF, 'cases'))
    .filter((c) => readdirSync(join(CONF, 'cases', c)).includes('trusted_root.json'))
    .map((c) => join(CONF, 'cases', c, 'trusted_root.json'));
}

function publicGoodJson(): Record<string, unknown> {
  return JSON.parse(readFileSync(PUBLIC_GOOD, 'utf8')) as Record<string, unknown>;
}

describe('parseTrustedRoot', () => {
  it('reads the public-good root: logs, CAs, CT logs and TSAs with keys, IDs and validity', () => {
    const root = parseTrustedRoot(readFileSync(PUBLIC_GOOD));
    assert.equal(root.tlogs.length, 2);
    assert.equal(root.certificateAuthorities.length, 2);
    assert.equal(root.ctlogs.length, 2);
    assert.equal(root.timestampAuthorities.length, 1);
    const rekor = root.tlogs[0];
    assert.equal(rekor?.baseUrl, 'https://rekor.sigstore.dev');
    assert.equal(rekor?.publicKey.asymmetricKeyType, 'ec');
    assert.equal(rekor?.keyDetails, 'PKIX_ECDSA_P256_SHA_256');
    assert.equal(
      Buffer.from(rekor?.logId ?? []).toString('base64'),
      'wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=',
    );
    // Rekor's log ID is the SHA-256 of its SPKI.
    assert.deepEqual(
      createHash('sha256')
        .update(rekor?.rawBytes ?? new Uint8Array())
        .digest(),
      rekor?.logId,
    );
    assert.equal(rekor?.validFor.start.toISOString(), '2021-01-12T11:53:27.000Z');
    assert.equal(rekor?.validFor.end, undefined);
    assert.equal(root.tlogs[1]?.publicKey.asymmetricKeyType, 'ed25519');
    const fulcio = root.certificateAuthorities[0];
    assert.equal(fulcio?.uri, 'https://fulcio.sigstore.dev');
    assert.deepEqual(fulcio?.subject, { organization: 'sigstore.dev', commonName: 'sigstore' });
    assert.equal(fulcio?.validFor.end?.toISOString(), '2022-12-31T23:59:59.999Z');
    assert.equal(root.certificateAuthorities[1]?.certChain.length, 2);
    assert.equal(root.timestampAuthorities[0]?.certChain.length, 2);
  });

  it('reads every trusted root of the conformance cases, including a PKCS#1 RSA CT log key', () => {
    const roots = ownRoots();
    assert.ok(roots.length >= 20, `found ${roots.length} case roots`);
    let rsa = 0;
    for (const path of roots) {
      const root = parseTrustedRoot(readFileSync(path));
      assert.ok(root.tlogs.length > 0, path);
      for (const ct of root.ctlogs) {
        if (ct.keyDetails === 'PKCS1_RSA_PKCS1V5') {
          assert.equal(ct.publicKey.asymmetricKeyType, 'rsa');
          rsa++;
        }
      }
    }
    assert.ok(rsa > 0, 'at least one case root has a PKCS#1 RSA key');
  });

  it('accepts text, bytes and parsed JSON alike, and the .v0.1+json media type', () => {
    const text = readFileSync(PUBLIC_GOOD, 'utf8');
    const a = parseTrustedRoot(text);
    const b = parseTrustedRoot(JSON.parse(text));
    assert.deepEqual(trustedRootToJson(a), trustedRootToJson(b));
    const alt = parseTrustedRoot({
      ...publicGoodJson(),
      mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.1+json',
    });
    assert.equal(alt.tlogs.length, 2);
  });

  it('round-trips through trustedRootToJson', () => {
    for (const path of [PUBLIC_GOOD, ...ownRoots()]) {
      const root = parseTrustedRoot(readFileSync(path));
      const again = parseTrustedRoot(JSON.parse(JSON.stringify(trustedRootToJson(root))));
      assert.deepEqual(trustedRootToJson(again), trustedRootToJson(root), path);
      assert.equal(again.tlogs[0]?.validFor.start.getTime(), root.tlogs[0]?.validFor.start.getTime());
    }
  });

  it('writes whole-second times without a fraction, as Sigstore does', () => {
    const json = trustedRootToJson(parseTrustedRoot(readFileSync(PUBLIC_GOOD))) as {
      tlogs: { publicKey: { validFor: { start: string } } }[];
      certificateAuthorities: { validFor: { end?: string } }[];
    };
    assert.equal(json.tlogs[0]?.publicKey.validFor.start, '2021-01-12T11:53:27Z');
    assert.equal(json.certificateAuthorities[0]?.validFor.end, '2022-12-31T23:59:59.999Z');
  });

  const mutations: [string, (j: Record<string, unknown>) => unknown][] = [
    ['unknown media type', (j) => ({ ...j, mediaType: 'application/json' })],
    ['no media type', (j) => ({ ...j, mediaType: undefined })],
    ['tlogs not an array', (j) => ({ ...j, tlogs: {} })],
    ['a log without a key', (j) => ({ ...j, tlogs: [{ baseUrl: 'x', logId: { keyId: 'AAAA' } }] })],
    [
      'a log key that is not base64',
      (j) => setLog(j, (t) => ({ ...t, publicKey: { ...key(t), rawBytes: '%%%' } })),
    ],
    [
      'a log key that is not a key',
      (j) => setLog(j, (t) => ({ ...t, publicKey: { ...key(t), rawBytes: 'AAAA' } })),
    ],
    ['a log without a log ID', (j) => setLog(j, (t) => ({ ...t, logId: undefined }))],
    [
      'a validity without a start',
      (j) => setLog(j, (t) => ({ ...t, publicKey: { ...key(t), validFor: {} } })),
    ],
    [
      'a validity that is not RFC 3339',
      (j) => setLog(j, (t) => ({ ...t, publicKey: { ...key(t), validFor: { start: 'yesterday' } } })),
    ],
    [
      'a validity ending before its start',
      (j) =>
        setLog(j, (t) => ({
          ...t,
          publicKey: { ...key(t), validFor: { start: '2022-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' } },
        })),
    ],
    ['an unknown hash algorithm', (j) => setLog(j, (t) => ({ ...t, hashAlgorithm: 'MD5' }))],
    [
      'a CA without certificates',
      (j) => ({
        ...j,
        certificateAuthorities: [
          { uri: 'x', certChain: { certificates: [] }, validFor: { start: '2021-01-01T00:00:00Z' } },
        ],
      }),
    ],
    ['a CA that is not an object', (j) => ({ ...j, certificateAuthorities: ['fulcio'] })],
    ['the document is an array', () => []],
  ];
  for (const [name, mutate] of mutations) {
    it(`refuses ${name} (ERR_TRUST_ROOT_MALFORMED)`, async () => {
      await expectCode(() => parseTrustedRoot(mutate(publicGoodJson())), 'ERR_TRUST_ROOT_MALFORMED');
    });
  }

  it('refuses text that is not JSON (ERR_JSON_PARSE)', async () => {
    await expectCode(() => parseTrustedRoot('{"mediaType":'), 'ERR_JSON_PARSE');
  });
});

type Log = Record<string, unknown>;
function key(t: Log): Record<string, unknown> {
  const { publicKey } = t;
  return publicKey as Record<string, unknown>;
}
function setLog(j: Record<string, unknown>, f: (t: Log) => Log): Record<string, unknown> {
  const { tlogs } = j;
  const [first, ...rest] = tlogs as Log[];
  return { ...j, tlogs: [f(first as Log), ...rest] };
}

describe('buildTrustedRoot', () => {
  it('derives log IDs and key details from the keys and round-trips through JSON', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const ed = generateKeyPairSync('ed25519');
    const root = buildTrustedRoot({
      tlogs: [
        {
          baseUrl: 'https://log.example',
          publicKey: ec.publicKey,
          validFor: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2025-01-01T00:00:00Z') },
        },
      ],
      ctlogs: [{ baseUrl: 'https://ct.example', publicKey: ed.privateKey, operator: 'example' }],
      certificateAuthorities: [{ certChain: [Buffer.from([0x30, 0x00])], uri: 'https://ca.example' }],
    });
    const spki = ec.publicKey.export({ type: 'spki', format: 'der' });
    assert.deepEqual(root.tlogs[0]?.logId, createHash('sha256').update(spki).digest());
    assert.equal(root.tlogs[0]?.keyDetails, 'PKIX_ECDSA_P256_SHA_256');
    assert.equal(root.ctlogs[0]?.keyDetails, 'PKIX_ED25519');
    assert.equal(root.ctlogs[0]?.publicKey.type, 'public');
    assert.equal(root.ctlogs[0]?.validFor.start.getTime(), 0);
    const again = parseTrustedRoot(JSON.stringify(trustedRootToJson(root)));
    assert.deepEqual(trustedRootToJson(again), trustedRootToJson(root));
    assert.ok(again.tlogs[0]?.publicKey.equals(ec.publicKey));
    assert.equal(again.tlogs[0]?.validFor.end?.toISOString(), '2025-01-01T00:00:00.000Z');
    assert.equal(again.ctlogs[0]?.operator, 'example');
  });
});
