import assert from 'node:assert/strict';
import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bundleFromJSON, isBundleWithDsseEnvelope, isBundleWithMessageSignature } from '@sigstore/bundle';
import { type TrustMaterial, toSignedEntity, Verifier } from '@sigstore/verify';
import {
  createFileSigner,
  generateKeyPair,
  getAlgorithm,
  SIGNING_ALGORITHMS,
  type Signer,
  verifyBytes,
} from '../../src/crypto/index.js';
import {
  BUNDLE_V03,
  type Bundle,
  buildStatement,
  bundleFromDsse,
  bundleFromMessageSignature,
  bundleToJson,
  INTOTO_PAYLOAD_TYPE,
  parseBundle,
  parseStatement,
  type Statement,
  signBlobToBundle,
  signDsse,
  signStatementToBundle,
  verifyDsse,
} from '../../src/envelope/index.js';
import { expectCode, tempDir, VECTORS } from '../helpers.js';

const DATA = Buffer.from('the artifact\n');
const SHA256 = createHash('sha256').update(DATA).digest();
const statement = buildStatement({
  subjects: [{ name: 'artifact.txt', digest: { sha256: SHA256.toString('hex') } }],
  predicateType: 'https://example.com/test/v1',
  predicate: { note: 'signed by a test' },
});

const signers = new Map<string, { signer: Signer; publicKey: KeyObject }>();
async function signerFor(id: string) {
  let s = signers.get(id);
  if (s === undefined) {
    const pair = await generateKeyPair(getAlgorithm(id));
    s = { signer: createFileSigner(pair.privateKey), publicKey: pair.publicKey };
    signers.set(id, s);
  }
  return s;
}

describe('envelope/sign: signBlobToBundle', () => {
  const dir = tempDir();
  const file = join(dir, 'artifact.txt');
  writeFileSync(file, DATA);

  for (const id of SIGNING_ALGORITHMS) {
    it(`${id}: a v0.3 bundle with the key hint, the SHA-256 message digest and a valid signature`, async () => {
      const { signer, publicKey } = await signerFor(id);
      for (const artifact of [
        { kind: 'bytes', bytes: DATA } as const,
        { kind: 'file', path: file } as const,
      ]) {
        const b = await signBlobToBundle(signer, artifact);
        assert.equal(b.mediaType, BUNDLE_V03);
        assert.equal(b.version, '0.3');
        assert.deepEqual(b.verificationMaterial, {
          key: { kind: 'publicKey', hint: signer.keyId },
          tlogEntries: [],
          rfc3161Timestamps: [],
        });
        assert.equal(b.content.kind, 'messageSignature');
        if (b.content.kind !== 'messageSignature') return;
        assert.deepEqual(b.content.messageSignature.messageDigest, { algorithm: 'SHA2_256', digest: SHA256 });
        const sig = b.content.messageSignature.signature;
        assert.equal(verifyBytes(getAlgorithm(id), publicKey, DATA, sig), true);
        assert.equal(verifyBytes(getAlgorithm(id), publicKey, Buffer.from('other'), sig), false);
        assert.deepEqual(parseBundle(bundleToJson(b)), b);
      }
    });
  }

  it('ecdsa-p256: a digest-only artifact gives the same message digest and a signature over it', async () => {
    const { signer, publicKey } = await signerFor('ecdsa-p256');
    const b = await signBlobToBundle(signer, { kind: 'digest', algorithm: 'sha256', digest: SHA256 });
    assert.equal(b.content.kind, 'messageSignature');
    if (b.content.kind !== 'messageSignature') return;
    assert.deepEqual(b.content.messageSignature.messageDigest?.digest, SHA256);
    assert.equal(
      verifyBytes(getAlgorithm('ecdsa-p256'), publicKey, DATA, b.content.messageSignature.signature),
      true,
    );
  });

  it('ed25519 refuses a digest-only artifact (ERR_USAGE)', async () => {
    const { signer } = await signerFor('ed25519');
    await expectCode(
      () => signBlobToBundle(signer, { kind: 'digest', algorithm: 'sha256', digest: SHA256 }),
      'ERR_USAGE',
    );
  });
});

describe('envelope/sign: signStatementToBundle', () => {
  for (const id of SIGNING_ALGORITHMS) {
    it(`${id}: DSSE with the in-toto payload type, verifiable with the key, statement reads back`, async () => {
      const { signer, publicKey } = await signerFor(id);
      const b = await signStatementToBundle(signer, statement);
      assert.equal(b.mediaType, BUNDLE_V03);
      assert.deepEqual(b.verificationMaterial.key, { kind: 'publicKey', hint: signer.keyId });
      assert.equal(b.content.kind, 'dsseEnvelope');
      if (b.content.kind !== 'dsseEnvelope') return;
      const env = b.content.dsseEnvelope;
      assert.equal(env.payloadType, INTOTO_PAYLOAD_TYPE);
      assert.equal(env.signatures.length, 1);
      assert.equal(env.signatures[0]?.keyid, signer.keyId);
      assert.deepEqual(verifyDsse(env, [{ key: publicKey }]), { keyids: [signer.keyId] });
      assert.deepEqual(parseStatement(env.payload), statement);
      assert.deepEqual(parseBundle(bundleToJson(b)), b);
    });
  }

  it('refuses a statement the reader would refuse, before signing (ERR_INTOTO_MALFORMED)', async () => {
    const { signer } = await signerFor('ed25519');
    const bad: Statement = { ...statement, subject: [] };
    await expectCode(() => signStatementToBundle(signer, bad), 'ERR_INTOTO_MALFORMED');
    const noDigest = { ...statement, subject: [{ name: 'x' }] } as unknown as Statement;
    await expectCode(() => signStatementToBundle(signer, noDigest), 'ERR_INTOTO_MALFORMED');
  });
});

describe('envelope/sign: builders', () => {
  const conformance = join(VECTORS, 'sigstore-conformance', 'cases', 'happy-path-intoto-in-dsse-v3');
  const keyless = parseBundle(readFileSync(join(conformance, 'bundle.sigstore.json')));

  it('bundleFromDsse with a certificate, tlog entries and timestamps reads back equal', () => {
    assert.equal(keyless.content.kind, 'dsseEnvelope');
    assert.equal(keyless.verificationMaterial.key.kind, 'certificate');
    if (keyless.content.kind !== 'dsseEnvelope' || keyless.verificationMaterial.key.kind !== 'certificate')
      return;
    const built = bundleFromDsse(keyless.content.dsseEnvelope, {
      key: keyless.verificationMaterial.key,
      tlogEntries: keyless.verificationMaterial.tlogEntries,
      rfc3161Timestamps: [Buffer.from([0x30, 0x00])],
    });
    assert.match(
      new X509Certificate(keyless.verificationMaterial.key.certificate).issuer,
      /CN=sigstore-intermediate/,
    );
    assert.equal(built.mediaType, BUNDLE_V03);
    assert.deepEqual(built.content, keyless.content);
    assert.deepEqual(built.verificationMaterial.tlogEntries, keyless.verificationMaterial.tlogEntries);
    assert.deepEqual(parseBundle(bundleToJson(built)), built);
  });

  it('bundleFromMessageSignature without a message digest (it is optional)', () => {
    const b = bundleFromMessageSignature(
      { signature: Buffer.from([1]) },
      { key: { kind: 'publicKey', hint: 'k' } },
    );
    assert.deepEqual(bundleToJson(b), {
      mediaType: BUNDLE_V03,
      verificationMaterial: { publicKey: { hint: 'k' } },
      messageSignature: { signature: 'AQ==' },
    });
  });

  it('misuse is a TypeError: empty signature, wrong digest length, not one DSSE signature, empty payload', async () => {
    const key = { kind: 'publicKey', hint: '' } as const;
    assert.throws(() => bundleFromMessageSignature({ signature: Buffer.alloc(0) }, { key }), TypeError);
    assert.throws(
      () =>
        bundleFromMessageSignature(
          { signature: Buffer.from([1]), messageDigest: { algorithm: 'SHA2_384', digest: SHA256 } },
          { key },
        ),
      TypeError,
    );
    assert.throws(
      () =>
        bundleFromMessageSignature(
          { signature: Buffer.from([1]) },
          { key: { kind: 'certificate', certificate: Buffer.alloc(0) } },
        ),
      TypeError,
    );
    const { signer } = await signerFor('ed25519');
    const two = await signDsse(INTOTO_PAYLOAD_TYPE, Buffer.from('{}'), [signer, signer]);
    assert.throws(() => bundleFromDsse(two, { key }), TypeError);
    const empty = await signDsse(INTOTO_PAYLOAD_TYPE, Buffer.alloc(0), [signer]);
    assert.throws(() => bundleFromDsse(empty, { key }), TypeError);
  });
});

describe('envelope/sign: interoperability with sigstore-js', () => {
  const trustFor = (signer: Signer, publicKey: KeyObject): TrustMaterial => ({
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (hint: string) => {
      assert.equal(hint, signer.keyId);
      return { publicKey, validFor: () => true };
    },
  });

  for (const id of SIGNING_ALGORITHMS) {
    it(`${id}: @sigstore/bundle bundleFromJSON accepts both bundle kinds Vouch writes`, async () => {
      const { signer } = await signerFor(id);
      const blob = bundleFromJSON(
        bundleToJson(await signBlobToBundle(signer, { kind: 'bytes', bytes: DATA })),
      );
      assert.equal(isBundleWithMessageSignature(blob), true);
      assert.equal(blob.verificationMaterial.content?.$case, 'publicKey');
      const att = bundleFromJSON(bundleToJson(await signStatementToBundle(signer, statement)));
      assert.equal(isBundleWithDsseEnvelope(att), true);
    });
  }

  // sigstore-js verifies a message signature with the hash its messageDigest names and a DSSE signature with
  // Node's default digest, so of Vouch's algorithms it can check ECDSA P-256 (the Sigstore default) end to end.
  it('ecdsa-p256: @sigstore/verify verifies both bundle kinds with the key, and refuses another artifact', async () => {
    const { signer, publicKey } = await signerFor('ecdsa-p256');
    const verifier = new Verifier(trustFor(signer, publicKey), {
      tlogThreshold: 0,
      ctlogThreshold: 0,
      timestampThreshold: 0,
    });
    const check = (b: Bundle, artifact?: Buffer) =>
      verifier.verify(toSignedEntity(bundleFromJSON(bundleToJson(b)), artifact));
    const blob = await signBlobToBundle(signer, { kind: 'bytes', bytes: DATA });
    assert.equal(check(blob, DATA).key, publicKey);
    assert.throws(() => check(blob, Buffer.from('other')), /signature/i);
    assert.equal(check(await signStatementToBundle(signer, statement)).key, publicKey);
  });
});
