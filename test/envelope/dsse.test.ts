import assert from 'node:assert/strict';
import {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  X509Certificate,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromBase64, type VouchErrorCode } from '../../src/core/index.js';
import {
  createFileSigner,
  generateKeyPair,
  getAlgorithm,
  keyIdOf,
  loadPublicKey,
  type Signer,
} from '../../src/crypto/index.js';
import {
  type DsseEnvelope,
  dsseToJson,
  pae,
  parseBundle,
  parseDsseEnvelope,
  signDsse,
  verifyDsse,
} from '../../src/envelope/index.js';
import { expectCode, VECTORS } from '../helpers.js';

interface VectorCase {
  id: string;
  envelope: unknown;
  public_key_pem: string;
  expect: 'pass' | 'pass-if-der-accepted' | 'fail';
}
interface Vectors {
  key: { private_key_pkcs8_pem: string; public_key_pem: string };
  pae: { payloadType: string; payload_b64: string; pae?: string; pae_b64?: string }[];
  cases: VectorCase[];
}
const V = JSON.parse(readFileSync(join(VECTORS, 'dsse', 'dsse-vectors.json'), 'utf8')) as Vectors;

// Where each expected failure is caught: an envelope with no signatures is malformed (envelope.proto: length
// >= 1); the others are well-formed envelopes whose signature does not verify.
const FAIL_CODE: Record<string, VouchErrorCode> = {
  'tampered-payload': 'ERR_DSSE_SIGNATURE',
  'tampered-payload-type': 'ERR_DSSE_SIGNATURE',
  'flipped-signature-bit': 'ERR_DSSE_SIGNATURE',
  'wrong-key': 'ERR_DSSE_SIGNATURE',
  'no-signatures': 'ERR_DSSE_MALFORMED',
};

describe('envelope/dsse: published vectors (secure-systems-lab/dsse)', () => {
  it('has the 4 pass / 5 fail cases SOURCE.md lists', () => {
    assert.equal(V.cases.filter((c) => c.expect !== 'fail').length, 4);
    assert.equal(V.cases.filter((c) => c.expect === 'fail').length, 5);
    assert.deepEqual(
      Object.keys(FAIL_CODE).sort(),
      V.cases
        .filter((c) => c.expect === 'fail')
        .map((c) => c.id)
        .sort(),
    );
  });

  for (const ex of V.pae) {
    it(`PAE(${JSON.stringify(ex.payloadType)}, ${JSON.stringify(ex.payload_b64)})`, () => {
      const want = ex.pae_b64 === undefined ? Buffer.from(ex.pae ?? '', 'utf8') : fromBase64(ex.pae_b64);
      assert.deepEqual(pae(ex.payloadType, fromBase64(ex.payload_b64)), want);
    });
  }

  for (const c of V.cases) {
    it(`${c.id}: ${c.expect}`, async () => {
      const key = loadPublicKey(c.public_key_pem);
      const check = () => verifyDsse(parseDsseEnvelope(JSON.stringify(c.envelope)), [{ key }]);
      if (c.expect === 'fail') {
        await expectCode(check, FAIL_CODE[c.id] as VouchErrorCode);
      } else {
        assert.deepEqual(check(), { keyids: [keyIdOf(key)] });
      }
    });
  }

  it('signs with the vector key and verifies with its public key; the keyid is the signer key id', async () => {
    const signer = createFileSigner(createPrivateKey(V.key.private_key_pkcs8_pem));
    const env = await signDsse('http://example.com/HelloWorld', Buffer.from('hello world'), [signer]);
    assert.equal(env.signatures[0]?.keyid, signer.keyId);
    const key = loadPublicKey(V.key.public_key_pem);
    assert.deepEqual(verifyDsse(env, [{ key, keyid: '66301bbf' }]), { keyids: ['66301bbf'] });
  });
});

describe('envelope/dsse: PAE', () => {
  it('counts UTF-8 bytes and has no leading zeros', () => {
    assert.equal(pae('é', Buffer.alloc(10)).subarray(0, 15).toString('utf8'), 'DSSEv1 2 é 10 ');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 300 }), (type, body) => {
        const t = Buffer.from(type, 'utf8');
        const want = Buffer.concat([
          Buffer.from(`DSSEv1 ${t.length} `),
          t,
          Buffer.from(` ${body.length} `),
          Buffer.from(body),
        ]);
        assert.deepEqual(pae(type, body), want);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a payload type that UTF-8 cannot encode (would collide with U+FFFD)', () => {
    assert.throws(() => pae('a\uD800', Buffer.alloc(0)), TypeError);
  });
});

async function signers(): Promise<{
  ed: Signer;
  p256: Signer;
  p384: Signer;
  keys: { ed: KeyObject; p256: KeyObject; p384: KeyObject };
}> {
  const mk = async (id: string) => createFileSigner((await generateKeyPair(getAlgorithm(id))).privateKey);
  const ed = await mk('ed25519');
  const p256 = await mk('ecdsa-p256');
  const p384 = await mk('ecdsa-p384');
  return {
    ed,
    p256,
    p384,
    keys: { ed: await ed.publicKey(), p256: await p256.publicKey(), p384: await p384.publicKey() },
  };
}

describe('envelope/dsse: multi-signature k-of-n (protocol.md)', async () => {
  const { ed, p256, p384, keys } = await signers();
  const all = [{ key: keys.ed }, { key: keys.p256 }, { key: keys.p384 }];
  const body = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
  const type = 'application/vnd.in-toto+json';

  it('3-of-3 and 2-of-3 across ed25519, ECDSA P-256 and P-384', async () => {
    const env = await signDsse(type, body, [ed, p256, p384]);
    assert.equal(env.signatures.length, 3);
    const ids = [ed.keyId, p256.keyId, p384.keyId];
    assert.deepEqual(verifyDsse(env, all, 3), { keyids: ids });
    assert.deepEqual(verifyDsse(env, all, 2), { keyids: ids });
    assert.deepEqual(verifyDsse(env, all), { keyids: ids });
  });

  it('2 signatures meet 2-of-3 but not 3-of-3 (ERR_DSSE_THRESHOLD)', async () => {
    const env = await signDsse(type, body, [p384, ed]);
    assert.deepEqual(verifyDsse(env, all, 2), { keyids: [ed.keyId, p384.keyId] });
    await expectCode(() => verifyDsse(env, all, 3), 'ERR_DSSE_THRESHOLD');
  });

  it('a key that signed twice counts once', async () => {
    const env = await signDsse(type, body, [ed, ed, ed]);
    assert.deepEqual(verifyDsse(env, all, 1), { keyids: [ed.keyId] });
    await expectCode(() => verifyDsse(env, all, 2), 'ERR_DSSE_THRESHOLD');
  });

  it('a keyid hint naming another key neither lets a signature count twice nor blocks it', async () => {
    const one = await signDsse(type, body, [ed]);
    const sig = one.signatures[0]?.sig as Uint8Array;
    const relabelled: DsseEnvelope = {
      ...one,
      signatures: [
        { keyid: p256.keyId, sig },
        { keyid: p384.keyId, sig },
        { keyid: ed.keyId, sig },
      ],
    };
    const named = [
      { keyid: ed.keyId, key: keys.ed },
      { keyid: p256.keyId, key: keys.p256 },
      { keyid: p384.keyId, key: keys.p384 },
    ];
    await expectCode(() => verifyDsse(relabelled, named, 2), 'ERR_DSSE_THRESHOLD');
    assert.deepEqual(verifyDsse(relabelled, named, 1), { keyids: [ed.keyId] });
    const wrongHint: DsseEnvelope = { ...one, signatures: [{ keyid: p256.keyId, sig }] };
    assert.deepEqual(verifyDsse(wrongHint, named, 1), { keyids: [ed.keyId] });
  });

  it('one key listed twice (under two keyids) is one trusted key', async () => {
    const env = await signDsse(type, body, [ed]);
    const twice = [
      { keyid: 'a', key: keys.ed },
      { keyid: 'b', key: keys.ed },
    ];
    await expectCode(() => verifyDsse(env, twice, 2), 'ERR_USAGE');
    await expectCode(() => verifyDsse(env, [...twice, { key: keys.p256 }], 2), 'ERR_DSSE_THRESHOLD');
    assert.deepEqual(verifyDsse(env, twice), { keyids: ['a'] });
  });

  it('no valid signature is ERR_DSSE_SIGNATURE; an empty signature list too', async () => {
    const env = await signDsse(type, body, [ed]);
    await expectCode(() => verifyDsse(env, [{ key: keys.p256 }]), 'ERR_DSSE_SIGNATURE');
    await expectCode(() => verifyDsse({ ...env, signatures: [] }, all), 'ERR_DSSE_SIGNATURE');
  });

  it('a bad threshold is a TypeError; more than the distinct keys is ERR_USAGE', async () => {
    const env = await signDsse(type, body, [ed]);
    for (const t of [0, -1, 1.5, Number.NaN]) assert.throws(() => verifyDsse(env, all, t), TypeError);
    await expectCode(() => verifyDsse(env, all, 4), 'ERR_USAGE');
    await expectCode(() => verifyDsse(env, []), 'ERR_USAGE');
  });

  it('a private key given as a trusted key verifies as its public half', async () => {
    const pair = await generateKeyPair(getAlgorithm('ed25519'));
    const env = await signDsse(type, body, [createFileSigner(pair.privateKey)]);
    assert.deepEqual(verifyDsse(env, [{ key: pair.privateKey }]), { keyids: [keyIdOf(pair.publicKey)] });
  });

  it('any tampering with payload, payload type or signature is rejected', async () => {
    const env = await signDsse(type, body, [p256]);
    const sig = env.signatures[0]?.sig as Uint8Array;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('payload', 'payloadType', 'sig'),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (field, pos, bit) => {
          const flip = (b: Uint8Array) => {
            const c = Buffer.from(b);
            c[pos % c.length] = (c[pos % c.length] as number) ^ (1 << bit);
            return c;
          };
          const bad: DsseEnvelope =
            field === 'payload'
              ? { ...env, payload: flip(env.payload) }
              : field === 'payloadType'
                ? { ...env, payloadType: flip(Buffer.from(env.payloadType)).toString('latin1') }
                : { ...env, signatures: [{ keyid: '', sig: flip(sig) }] };
          await expectCode(() => verifyDsse(bad, all), 'ERR_DSSE_SIGNATURE');
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('envelope/dsse: signature encodings', () => {
  const message = (env: DsseEnvelope) => pae(env.payloadType, env.payload);
  const unsigned = { payload: Buffer.from('x'), payloadType: 'application/x', signatures: [] };

  it('ECDSA P-384 in raw r||s (IEEE P1363) as well as DER', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const raw = nodeSign('sha384', message(unsigned), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    assert.equal(raw.length, 96);
    const der = nodeSign('sha384', message(unsigned), privateKey);
    for (const sig of [raw, der]) {
      assert.equal(
        verifyDsse({ ...unsigned, signatures: [{ keyid: '', sig }] }, [{ key: publicKey }]).keyids.length,
        1,
      );
    }
  });

  it('RSA: PSS and PKCS#1 v1.5 signatures from a trusted key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pss = nodeSign('sha256', message(unsigned), {
      key: privateKey,
      padding: 6, // RSA_PKCS1_PSS_PADDING
      saltLength: 32,
    });
    const pkcs1 = nodeSign('sha256', message(unsigned), privateKey);
    for (const sig of [pss, pkcs1]) {
      assert.equal(
        verifyDsse({ ...unsigned, signatures: [{ keyid: '', sig }] }, [{ key: publicKey }]).keyids.length,
        1,
      );
    }
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expectCode(
      () => verifyDsse({ ...unsigned, signatures: [{ keyid: '', sig: pkcs1 }] }, [{ key: weak.publicKey }]),
      'ERR_ALG_WEAK',
    );
  });
});

describe('envelope/dsse: JSON envelope (envelope.md)', async () => {
  const signer = createFileSigner((await generateKeyPair(getAlgorithm('ecdsa-p256'))).privateKey);
  const env = await signDsse('application/vnd.in-toto+json', Buffer.from('{"a":1}'), [signer]);
  const json = dsseToJson(env);

  it('dsseToJson → text → parseDsseEnvelope gives the same envelope', () => {
    assert.equal(json.payload, Buffer.from('{"a":1}').toString('base64'));
    assert.deepEqual(parseDsseEnvelope(JSON.stringify(json)), env);
    assert.deepEqual(parseDsseEnvelope(Buffer.from(JSON.stringify(json))), env);
  });

  it('accepts URL-safe base64 and an omitted keyid', async () => {
    const urlSafe = {
      ...json,
      payload: Buffer.from(env.payload).toString('base64url'),
      signatures: [{ sig: Buffer.from(env.signatures[0]?.sig as Uint8Array).toString('base64url') }],
    };
    const parsed = parseDsseEnvelope(JSON.stringify(urlSafe));
    assert.deepEqual(parsed.payload, env.payload);
    assert.equal(parsed.signatures[0]?.keyid, '');
    assert.deepEqual(verifyDsse(parsed, [{ key: await signer.publicKey() }]), { keyids: [signer.keyId] });
  });

  const sig = json.signatures[0] as { keyid: string; sig: string };
  const bad: [string, unknown][] = [
    ['not JSON', '{"payload":'],
    ['a JSON array', []],
    ['missing payloadType', { payload: json.payload, signatures: json.signatures }],
    ['payloadType not a string', { ...json, payloadType: 7 }],
    [
      'payloadType with a lone surrogate',
      '{"payload":"","payloadType":"a\\ud800","signatures":[{"sig":"AA=="}]}',
    ],
    ['missing payload', { payloadType: json.payloadType, signatures: json.signatures }],
    ['payload not base64', { ...json, payload: 'not base64!' }],
    ['signatures not an array', { ...json, signatures: {} }],
    ['no signatures', { ...json, signatures: [] }],
    ['a signature without sig', { ...json, signatures: [{ keyid: 'k' }] }],
    ['an empty sig', { ...json, signatures: [{ sig: '' }] }],
    ['a keyid that is not a string', { ...json, signatures: [{ ...sig, keyid: 3 }] }],
    ['a null keyid', { ...json, signatures: [{ ...sig, keyid: null }] }],
    ['65 signatures', { ...json, signatures: Array.from({ length: 65 }, () => sig) }],
  ];
  for (const [what, value] of bad) {
    it(`rejects ${what} (ERR_DSSE_MALFORMED)`, async () => {
      await expectCode(
        () => parseDsseEnvelope(typeof value === 'string' ? value : JSON.stringify(value)),
        'ERR_DSSE_MALFORMED',
      );
    });
  }

  it('rejects bytes that are not UTF-8 (ERR_DSSE_MALFORMED)', async () => {
    await expectCode(() => parseDsseEnvelope(Buffer.from([0x7b, 0xff, 0x7d])), 'ERR_DSSE_MALFORMED');
  });
});

describe('envelope/dsse: real envelopes', () => {
  const npm = join(VECTORS, 'in-toto', 'npm-attestations');
  const npmKeys = JSON.parse(readFileSync(join(npm, 'registry.npmjs.org-keys.json'), 'utf8')) as {
    keys: { keyId: string; keyUsage: string; publicKey: { rawBytes: string } }[];
  };
  const npmKey = npmKeys.keys.find((k) => k.keyUsage === 'npm:attestations') as (typeof npmKeys.keys)[number];
  const attestations = (file: string) =>
    (
      JSON.parse(readFileSync(join(npm, file), 'utf8')) as {
        attestations: { predicateType: string; bundle: unknown }[];
      }
    ).attestations;
  const leafKey = (b: ReturnType<typeof parseBundle>): KeyObject => {
    const k = b.verificationMaterial.key;
    const der =
      k.kind === 'certificate'
        ? k.certificate
        : k.kind === 'x509CertificateChain'
          ? k.certificates[0]
          : undefined;
    assert.ok(der !== undefined);
    return new X509Certificate(der).publicKey;
  };
  const dsse = (b: ReturnType<typeof parseBundle>): DsseEnvelope => {
    assert.equal(b.content.kind, 'dsseEnvelope');
    return b.content.dsseEnvelope;
  };

  // slsa-verifier testdata: *-invalidsigpub breaks the npm publish attestation, *-invalidsigprov the provenance.
  const table: [string, 'pass' | 'fail', 'pass' | 'fail'][] = [
    ['gundam-visor-cli-v1-tag.tgz.json', 'pass', 'pass'],
    ['gundam-visor-cli-v1-tag-invalidsigpub.tgz.json', 'fail', 'pass'],
    ['gundam-visor-cli-v1-tag-invalidsigprov.tgz.json', 'pass', 'fail'],
    ['supreme-googles-cli-v02-tag.tgz.json', 'pass', 'pass'],
    ['supreme-googles-cli-v02-tag-invalidsigpub.tgz.json', 'fail', 'pass'],
    ['supreme-googles-cli-v02-tag-invalidsigprov.tgz.json', 'pass', 'fail'],
  ];
  for (const [file, publish, provenance] of table) {
    it(`npm ${file}: publish attestation ${publish} (npm key), provenance ${provenance} (Fulcio leaf key)`, async () => {
      const [pub, prov] = attestations(file).map((a) => parseBundle(a.bundle));
      assert.ok(pub !== undefined && prov !== undefined);
      const key = loadPublicKey(fromBase64(npmKey.publicKey.rawBytes));
      const checkPub = () => verifyDsse(dsse(pub), [{ keyid: npmKey.keyId, key }]);
      const checkProv = () => verifyDsse(dsse(prov), [{ key: leafKey(prov) }]);
      if (publish === 'pass') assert.deepEqual(checkPub(), { keyids: [npmKey.keyId] });
      else await expectCode(checkPub, 'ERR_DSSE_SIGNATURE');
      if (provenance === 'pass') assert.equal(checkProv().keyids.length, 1);
      else await expectCode(checkProv, 'ERR_DSSE_SIGNATURE');
    });
  }

  const conformance = join(VECTORS, 'sigstore-conformance', 'cases');
  for (const [c, expect] of [
    ['happy-path-intoto-in-dsse-v3', 'pass'],
    ['intoto-with-custom-trust-root', 'pass'],
    ['dsse-invalid-sig_fail', 'fail'],
    ['rekor2-dsse-invalid-sig_fail', 'fail'],
  ] as const) {
    it(`sigstore-conformance ${c}: the envelope signature ${expect === 'pass' ? 'verifies' : 'fails'} under the bundle's certificate key`, async () => {
      const b = parseBundle(readFileSync(join(conformance, c, 'bundle.sigstore.json')));
      const check = () => verifyDsse(dsse(b), [{ key: leafKey(b) }]);
      if (expect === 'pass') assert.equal(check().keyids.length, 1);
      else await expectCode(check, 'ERR_DSSE_SIGNATURE');
    });
  }
});
