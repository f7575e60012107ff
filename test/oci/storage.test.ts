// Signatures and attestations stored as OCI referrers in a real registry without the referrers API
// (docker-registry 2.8): the tag-schema fallback index is written and read, and what is found verifies
// with verifyBundle against the image manifest, for every key type Vouch signs with.
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ALGORITHMS, type AlgorithmId, createFileSigner, generateKeyPair } from '../../src/crypto/index.js';
import {
  bundleToJson,
  parseBundle,
  serializeBundle,
  signStatementToBundle,
} from '../../src/envelope/index.js';
import { pushReferrer } from '../../src/oci/attach.js';
import {
  attachBundle,
  attestImage,
  type BundleEvidence,
  COSIGN_SIGN_PREDICATE_TYPE,
  createRegistryClient,
  discoverEvidence,
  imageStatement,
  OCI_INDEX,
  type OciEvidence,
  parseReference,
  referrersTag,
  SIGSTORE_BUNDLE_V03,
  signImage,
} from '../../src/oci/index.js';
import { verifyBundle } from '../../src/verify/index.js';
import { expectCode } from '../helpers.js';
import { pushImage } from './image.js';
import { startRegistry, type TestRegistry } from './registry.js';

const SLSA = 'https://slsa.dev/provenance/v1';

function bundles(evidence: readonly OciEvidence[]): BundleEvidence[] {
  return evidence.filter((e): e is BundleEvidence => e.kind === 'bundle');
}

describe('OCI storage of bundles (referrers tag-schema fallback)', () => {
  let reg: TestRegistry;
  const client = createRegistryClient({ env: {} });
  const keys = new Map<AlgorithmId, { privateKey: KeyObject; publicKey: KeyObject }>();
  let n = 0;
  /** A fresh repository with one image, so tests do not see each other's referrers. */
  const image = async (text = 'app') => {
    const ref = parseReference(`${reg.host}/acme/app${++n}:1.0`);
    const pushed = await pushImage(client, ref, `${text} ${n}`);
    return { ref, ...pushed };
  };
  const verify = (e: BundleEvidence, manifest: Uint8Array, key: KeyObject) =>
    verifyBundle(parseBundle(e.bytes), { kind: 'bytes', bytes: manifest }, { key });

  before(async () => {
    reg = await startRegistry();
    for (const id of ['ed25519', 'ecdsa-p256', 'rsa-pss-3072'] as const)
      keys.set(id, await generateKeyPair(ALGORITHMS[id]));
  });
  after(() => reg.stop());
  const key = (id: AlgorithmId) => keys.get(id) as { privateKey: KeyObject; publicKey: KeyObject };

  for (const id of ['ed25519', 'ecdsa-p256', 'rsa-pss-3072'] as const) {
    it(`signs the image digest with ${id} and finds the signature through the fallback index`, async () => {
      const img = await image();
      const signer = createFileSigner(key(id).privateKey);
      const signed = await signImage(client, img.ref, signer);
      assert.equal(signed.digest, img.digest);
      assert.equal(signed.attached.referrersApi, false);
      assert.equal(signed.attached.fallbackTag, referrersTag(img.digest));
      assert.equal(signed.attached.subject.digest, img.digest);
      const found = await discoverEvidence(client, img.ref);
      assert.equal(found.length, 1);
      const [e] = bundles(found);
      assert.ok(e !== undefined);
      assert.equal(e.via, 'referrers-tag');
      assert.equal(e.source, `oci-referrer:${signed.attached.manifest.digest}`);
      assert.equal(e.predicateType, COSIGN_SIGN_PREDICATE_TYPE);
      assert.deepEqual(Buffer.from(e.bytes), Buffer.from(signed.bundle));
      const result = await verify(e, img.manifest, key(id).publicKey);
      assert.deepEqual(result.signer, { kind: 'key', keyId: signer.keyId });
      assert.equal(result.statement?.predicateType, COSIGN_SIGN_PREDICATE_TYPE);
      assert.deepEqual(result.statement?.subject[0]?.digest, { sha256: img.digest.slice(7) });
    });
  }

  it('writes the artifact manifest and the index as cosign BUNDLE_SPEC.md describes', async () => {
    const img = await image();
    const created = new Date('2026-01-02T03:04:05.000Z');
    const signed = await signImage(client, img.ref, createFileSigner(key('ed25519').privateKey), { created });
    const artifact = await client.getManifest(img.ref, signed.attached.manifest.digest);
    assert.equal(artifact.manifest.kind, 'manifest');
    const m = artifact.manifest.kind === 'manifest' ? artifact.manifest : undefined;
    assert.equal(m?.artifactType, SIGSTORE_BUNDLE_V03);
    assert.equal(m?.config.mediaType, 'application/vnd.oci.empty.v1+json');
    assert.equal(m?.config.digest, 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    assert.equal(m?.layers.length, 1);
    assert.equal(m?.layers[0]?.mediaType, SIGSTORE_BUNDLE_V03);
    assert.deepEqual(m?.subject, {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.digest,
      size: img.manifest.byteLength,
    });
    assert.deepEqual(m?.annotations, {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': COSIGN_SIGN_PREDICATE_TYPE,
      'org.opencontainers.image.created': '2026-01-02T03:04:05.000Z',
    });
    const index = await client.getManifest(img.ref, referrersTag(img.digest));
    assert.equal(index.mediaType, OCI_INDEX);
    assert.deepEqual(index.manifest.kind === 'index' ? index.manifest.manifests : [], [
      signed.attached.manifest,
    ]);
  });

  it('attests with a predicate; the index keeps every referrer once and foreign entries as they were', async () => {
    const img = await image();
    const signer = createFileSigner(key('ecdsa-p256').privateKey);
    // A foreign entry already in the index (another tool's referrer), with a field Vouch does not know.
    const foreign = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.digest,
      size: img.manifest.byteLength,
      artifactType: 'application/x-other',
      'x-extra': [1],
    };
    await client.putManifest(
      img.ref,
      referrersTag(img.digest),
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [foreign] })),
      OCI_INDEX,
    );
    const signed = await signImage(client, img.ref, signer);
    const predicate = {
      buildDefinition: { buildType: 'https://vouch.dev/test' },
      runDetails: { builder: { id: 'ci' } },
    };
    const created = new Date('2026-02-03T04:05:06.000Z');
    const attested = await attestImage(client, img.ref, signer, SLSA, predicate, { created });
    // The same bundle attached again is the same manifest: listed once.
    await attachBundle(client, { ...img.ref, digest: img.digest }, attested.bundle, {
      kind: 'attestation',
      created,
    });
    const index = await client.getManifest(img.ref, referrersTag(img.digest));
    const raw = JSON.parse(Buffer.from(index.bytes).toString('utf8')) as { manifests: unknown[] };
    assert.deepEqual(raw.manifests[0], foreign);
    assert.deepEqual(
      raw.manifests.slice(1).map((m) => (m as { digest: string }).digest),
      [signed.attached.manifest.digest, attested.attached.manifest.digest],
    );
    const found = bundles(await discoverEvidence(client, img.ref));
    assert.deepEqual(
      found.map((e) => e.predicateType),
      [COSIGN_SIGN_PREDICATE_TYPE, SLSA],
    );
    const result = await verify(found[1] as BundleEvidence, img.manifest, key('ecdsa-p256').publicKey);
    assert.equal(result.statement?.predicateType, SLSA);
    assert.deepEqual(result.statement?.predicate, predicate);
  });

  it('signs the digest, never the tag: a moved tag has no signature', async () => {
    const img = await image('first');
    await signImage(client, img.ref, createFileSigner(key('ed25519').privateKey));
    const moved = await pushImage(client, img.ref, 'second');
    assert.notEqual(moved.digest, img.digest);
    assert.deepEqual(await discoverEvidence(client, img.ref), []);
    assert.equal((await discoverEvidence(client, { ...img.ref, digest: img.digest })).length, 1);
  });

  it('rejects a tampered signature and a wrong key with ERR_DSSE_SIGNATURE', async () => {
    const img = await image();
    const signer = createFileSigner(key('ed25519').privateKey);
    const good = await signStatementToBundle(
      signer,
      imageStatement(img.ref, img.digest, COSIGN_SIGN_PREDICATE_TYPE, {}),
    );
    const json = bundleToJson(good) as { dsseEnvelope: { signatures: { sig: string }[] } };
    const sig = Buffer.from(json.dsseEnvelope.signatures[0]?.sig ?? '', 'base64');
    sig.writeUInt8(sig.readUInt8(0) ^ 1, 0);
    (json.dsseEnvelope.signatures[0] as { sig: string }).sig = sig.toString('base64');
    await attachBundle(client, img.ref, Buffer.from(JSON.stringify(json)), { kind: 'signature' });
    const [tampered] = bundles(await discoverEvidence(client, img.ref));
    await expectCode(
      () => verify(tampered as BundleEvidence, img.manifest, key('ed25519').publicKey),
      'ERR_DSSE_SIGNATURE',
    );
    const img2 = await image();
    await signImage(client, img2.ref, signer);
    const [e] = bundles(await discoverEvidence(client, img2.ref));
    const other = await generateKeyPair(ALGORITHMS.ed25519);
    await expectCode(() => verify(e as BundleEvidence, img2.manifest, other.publicKey), 'ERR_DSSE_SIGNATURE');
  });

  it('refuses to attach an attestation about another image, and one that got there fails verification', async () => {
    const a = await image('a');
    const b = await image('b');
    const signer = createFileSigner(key('ed25519').privateKey);
    const aboutA = Buffer.from(
      serializeBundle(await signStatementToBundle(signer, imageStatement(a.ref, a.digest, SLSA, { x: 1 }))),
    );
    await expectCode(
      () => attachBundle(client, b.ref, aboutA, { kind: 'attestation' }),
      'ERR_INTOTO_SUBJECT_MISMATCH',
    );
    // Another tool (or an attacker with push access) stores it anyway.
    await pushReferrer(
      client,
      b.ref,
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: b.digest,
        size: b.manifest.byteLength,
      },
      aboutA,
      {
        artifactType: SIGSTORE_BUNDLE_V03,
        annotations: {},
      },
    );
    const [e] = bundles(await discoverEvidence(client, b.ref));
    await expectCode(
      () => verify(e as BundleEvidence, b.manifest, key('ed25519').publicKey),
      'ERR_INTOTO_SUBJECT_MISMATCH',
    );
  });

  it('checks the kind against the bundle (programmer error)', async () => {
    const img = await image();
    const signer = createFileSigner(key('ed25519').privateKey);
    const signature = Buffer.from(
      serializeBundle(
        await signStatementToBundle(
          signer,
          imageStatement(img.ref, img.digest, COSIGN_SIGN_PREDICATE_TYPE, {}),
        ),
      ),
    );
    await assert.rejects(() => attachBundle(client, img.ref, signature, { kind: 'attestation' }), TypeError);
    await assert.rejects(
      () => attestImage(client, img.ref, signer, COSIGN_SIGN_PREDICATE_TYPE, {}),
      TypeError,
    );
  });

  it('skips listed referrers that are gone or about another image, and fails on tampered bytes', async () => {
    const a = await image('a');
    const b = await image('b');
    const signer = createFileSigner(key('ed25519').privateKey);
    const signedA = await signImage(client, a.ref, signer);
    // b's index lists a's signature manifest (subject a): not b's evidence.
    const indexA = await client.getManifest(a.ref, referrersTag(a.digest));
    const bRepoIndex = { ...JSON.parse(Buffer.from(indexA.bytes).toString('utf8')) };
    await client.putManifest(
      a.ref,
      referrersTag(b.digest),
      Buffer.from(JSON.stringify(bRepoIndex)),
      OCI_INDEX,
    );
    const skips: string[] = [];
    const found = await discoverEvidence(
      client,
      { ...a.ref, digest: b.digest },
      {
        onSkip: (source, error) => skips.push(`${source} ${error.code}`),
      },
    );
    assert.deepEqual(found, []);
    assert.deepEqual(skips, [`oci-referrer:${signedA.attached.manifest.digest} ERR_OCI_MANIFEST`]);
    // Deleted artifact manifest, still listed: skipped as not found.
    const url = `http://${reg.host}/v2/${a.ref.repository}/manifests/${signedA.attached.manifest.digest}`;
    assert.equal((await fetch(url, { method: 'DELETE' })).status, 202);
    skips.length = 0;
    assert.deepEqual(
      await discoverEvidence(client, a.ref, { onSkip: (s, e) => skips.push(`${s} ${e.code}`) }),
      [],
    );
    assert.deepEqual(skips, [`oci-referrer:${signedA.attached.manifest.digest} ERR_OCI_NOT_FOUND`]);
  });

  it('finds nothing (and fails nothing) for a digest in a repository that does not exist', async () => {
    const img = await image();
    assert.deepEqual(
      await discoverEvidence(client, { ...img.ref, repository: 'acme/none', digest: img.digest }),
      [],
    );
  });
});
