// Interoperability with sigstore-js, both ways: bundles Vouch writes (and keyless bundles our test CA and
// log produce) verify with @sigstore/verify, and bundles @sigstore/sign builds verify with ours.
import assert from 'node:assert/strict';
import { createHash, type KeyObject, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { bundleFromJSON, bundleToJSON, type TransparencyLogEntry as SigstoreEntry } from '@sigstore/bundle';
import { PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, type Signer, type Witness } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { toBase64, toHex } from '../../src/core/index.js';
import {
  type Artifact,
  createFileSigner,
  exportPublicKeyPem,
  generateKeyPair,
  getAlgorithm,
  keyIdOf,
} from '../../src/crypto/index.js';
import {
  bundleFromMessageSignature,
  INTOTO_PAYLOAD_TYPE,
  parseBundle,
  serializeBundle,
  signBlobToBundle,
  signStatementToBundle,
  type TransparencyLogEntry,
} from '../../src/envelope/index.js';
import { buildTrustedRoot, trustedRootToJson, verifyBundle } from '../../src/verify/index.js';
import { expectCode } from '../helpers.js';
import { makeLog, makePki, OIDC_ISSUER, pem, SUBJECT } from './fixtures.js';

const ARTIFACT = Buffer.from('interop artifact\n');
const BYTES: Artifact = { kind: 'bytes', bytes: ARTIFACT };
const SHA256 = createHash('sha256').update(ARTIFACT).digest();

const pki = await makePki();
const log = makeLog('rekor.interop.example');
const root = buildTrustedRoot({ tlogs: [log.spec()], certificateAuthorities: [pki.authority()] });
/** The same trust root as sigstore-js reads it, from our JSON. */
const theirRoot = TrustedRoot.fromJSON(trustedRootToJson(root));

/** Their protobuf TransparencyLogEntry from ours (int64s as strings, as protobuf-specs types them). */
function toTheirs(e: TransparencyLogEntry): SigstoreEntry {
  const proof = e.inclusionProof;
  return {
    logIndex: e.logIndex.toString(),
    logId: { keyId: Buffer.from(e.logId) },
    kindVersion: e.kindVersion,
    integratedTime: e.integratedTime.toString(),
    inclusionPromise:
      e.inclusionPromise === undefined
        ? undefined
        : { signedEntryTimestamp: Buffer.from(e.inclusionPromise.signedEntryTimestamp) },
    inclusionProof:
      proof === undefined
        ? undefined
        : {
            logIndex: proof.logIndex.toString(),
            rootHash: Buffer.from(proof.rootHash),
            treeSize: proof.treeSize.toString(),
            hashes: proof.hashes.map((h) => Buffer.from(h)),
            checkpoint: { envelope: proof.checkpoint?.envelope ?? '' },
          },
    canonicalizedBody: Buffer.from(e.canonicalizedBody),
  };
}

/** A Rekor-style witness for @sigstore/sign that logs a hashedrekord 0.0.1 entry into the test log. */
const logWitness: Witness = {
  async testify(content, publicKey) {
    assert.equal(content.$case, 'messageSignature');
    const ms = content.$case === 'messageSignature' ? content.messageSignature : undefined;
    const body = {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: toHex(ms?.messageDigest?.digest ?? Buffer.alloc(0)) } },
        signature: {
          content: toBase64(ms?.signature ?? Buffer.alloc(0)),
          publicKey: { content: Buffer.from(publicKey).toString('base64') },
        },
      },
    };
    return { tlogEntries: [toTheirs(log.entry(body))] };
  },
};

function keySigner(privateKey: KeyObject, publicKey: KeyObject): Signer {
  return {
    sign: async (data) => ({
      signature: sign(privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, privateKey),
      key: { $case: 'publicKey', publicKey: exportPublicKeyPem(publicKey), hint: keyIdOf(publicKey) },
    }),
  };
}

function statement(digest: Buffer): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'interop.txt', digest: { sha256: toHex(digest) } }],
      predicateType: 'https://example.com/predicate/v1',
      predicate: { ok: true },
    }),
  );
}

describe('interop: bundles Vouch writes verify with @sigstore/verify', () => {
  // ecdsa-p256 only: sigstore-js hashes a message signature with the messageDigest's algorithm and a DSSE
  // signature with SHA-256, whatever the curve, so it cannot check Vouch's SHA-384 signatures by P-384 keys.
  it('ecdsa-p256 managed-key message signature and DSSE statement', async () => {
    const pair = await generateKeyPair(getAlgorithm('ecdsa-p256'));
    const signer = createFileSigner(pair.privateKey);
    const details = PublicKeyDetails.PKIX_ECDSA_P256_SHA_256;
    const verifier = new Verifier(
      toTrustMaterial(TrustedRoot.fromJSON(trustedRootToJson(buildTrustedRoot({}))), {
        [signer.keyId]: {
          rawBytes: pair.publicKey.export({ type: 'spki', format: 'der' }),
          keyDetails: details,
        },
      }),
      { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 },
    );
    const message = serializeBundle(await signBlobToBundle(signer, BYTES));
    const signed = verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(message)), ARTIFACT));
    assert.equal(signed.key.asymmetricKeyType, 'ec');
    // And the same bytes verify with ours.
    assert.equal(
      (await verifyBundle(parseBundle(message), BYTES, { key: pair.publicKey })).signer.kind,
      'key',
    );

    const st = await signStatementToBundle(signer, {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'interop.txt', digest: { sha256: toHex(SHA256) } }],
      predicateType: 'https://example.com/predicate/v1',
      predicate: { ok: true },
    });
    const dsse = serializeBundle(st);
    verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(dsse))));
    const ours = await verifyBundle(parseBundle(dsse), BYTES, { key: pair.publicKey });
    assert.equal(ours.statement?.subject[0]?.name, 'interop.txt');
  });

  it('a keyless bundle (test CA, Rekor v1 entry with SET and checkpointed proof) verifies with both', async () => {
    const leaf = await pki.issue();
    const signature = sign('sha256', ARTIFACT, leaf.privateKey);
    const body = {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: toHex(SHA256) } },
        signature: {
          content: toBase64(signature),
          publicKey: { content: Buffer.from(pem('CERTIFICATE', leaf.der)).toString('base64') },
        },
      },
    };
    const bundle = bundleFromMessageSignature(
      { signature, messageDigest: { algorithm: 'SHA2_256', digest: SHA256 } },
      { key: { kind: 'certificate', certificate: leaf.der }, tlogEntries: [log.entry(body)] },
    );
    const text = serializeBundle(bundle);
    const theirs = new Verifier(toTrustMaterial(theirRoot), { ctlogThreshold: 0 });
    const signer = theirs.verify(toSignedEntity(bundleFromJSON(JSON.parse(text)), ARTIFACT), {
      subjectAlternativeName: SUBJECT,
      extensions: { issuer: OIDC_ISSUER },
    });
    assert.equal(signer.identity?.subjectAlternativeName, SUBJECT);
    const ours = await verifyBundle(parseBundle(text), BYTES, {
      trustedRoot: root,
      identity: { subject: SUBJECT, issuer: OIDC_ISSUER },
      ctlogThreshold: 0,
    });
    assert.equal(ours.tlogEntries, 1);
  });
});

describe('interop: bundles @sigstore/sign builds verify with Vouch', () => {
  for (const id of ['ecdsa-p256', 'ecdsa-p384', 'ed25519'] as const) {
    it(`${id}: MessageSignatureBundleBuilder with a local key`, async () => {
      const pair = await generateKeyPair(getAlgorithm(id));
      const builder = new MessageSignatureBundleBuilder({
        signer: keySigner(pair.privateKey, pair.publicKey),
        witnesses: [],
      });
      const json = bundleToJSON(await builder.create({ data: ARTIFACT }));
      const r = await verifyBundle(parseBundle(JSON.stringify(json)), BYTES, { key: pair.publicKey });
      assert.deepEqual(r.signer, { kind: 'key', keyId: keyIdOf(pair.publicKey) });
      await expectCode(
        () =>
          verifyBundle(
            parseBundle(JSON.stringify(json)),
            { kind: 'bytes', bytes: Buffer.from('x') },
            { key: pair.publicKey },
          ),
        'ERR_DIGEST_MISMATCH',
      );
    });
  }

  it('DSSEBundleBuilder with a local key: the in-toto subject binds the artifact', async () => {
    const pair = await generateKeyPair(getAlgorithm('ecdsa-p256'));
    const builder = new DSSEBundleBuilder({
      signer: keySigner(pair.privateKey, pair.publicKey),
      witnesses: [],
    });
    const json = bundleToJSON(await builder.create({ data: statement(SHA256), type: INTOTO_PAYLOAD_TYPE }));
    const r = await verifyBundle(parseBundle(JSON.stringify(json)), BYTES, { key: pair.publicKey });
    assert.equal(r.statement?.subject[0]?.name, 'interop.txt');
    await expectCode(
      () =>
        verifyBundle(
          parseBundle(JSON.stringify(json)),
          { kind: 'bytes', bytes: Buffer.from('x') },
          { key: pair.publicKey },
        ),
      'ERR_INTOTO_SUBJECT_MISMATCH',
    );
  });

  it('a certificate signer with a Rekor witness: keyless bundle verifies with ours and theirs', async () => {
    const leaf = await pki.issue();
    const signer: Signer = {
      sign: async (data) => ({
        signature: sign('sha256', data, leaf.privateKey),
        key: { $case: 'x509Certificate', certificate: pem('CERTIFICATE', leaf.der) },
      }),
    };
    const builder = new MessageSignatureBundleBuilder({ signer, witnesses: [logWitness] });
    const built = await builder.create({ data: ARTIFACT });
    const text = JSON.stringify(bundleToJSON(built));
    const ours = await verifyBundle(parseBundle(text), BYTES, {
      trustedRoot: root,
      identity: { subject: SUBJECT, issuer: OIDC_ISSUER },
      ctlogThreshold: 0,
    });
    assert.ok(ours.signer.kind === 'certificate');
    assert.equal(ours.signer.subject, SUBJECT);
    assert.equal(ours.tlogEntries, 1);
    new Verifier(toTrustMaterial(theirRoot), { ctlogThreshold: 0 }).verify(
      toSignedEntity(bundleFromJSON(JSON.parse(text)), ARTIFACT),
    );
    await expectCode(
      () =>
        verifyBundle(parseBundle(text), BYTES, {
          trustedRoot: root,
          identity: { subject: 'https://someone.else', issuer: OIDC_ISSUER },
          ctlogThreshold: 0,
        }),
      'ERR_CERT_IDENTITY',
    );
  });
});
