// Images signed by cosign's legacy tag scheme are discovered and verified: the `.sig` manifest is built here
// byte for byte as cosign (go-containerregistry) writes it (specs/SIGNATURE_SPEC.md: simple-signing payload
// layer, base64 signature annotation, an ECDSA P-256 key), and the `.att` manifest with DSSE layers.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { keyIdOf } from '../../src/crypto/index.js';
import { pae } from '../../src/envelope/index.js';
import {
  COSIGN_SIMPLESIGNING,
  type CosignAttestationEvidence,
  type CosignSignatureEvidence,
  cosignTag,
  createRegistryClient,
  DSSE_ENVELOPE,
  discoverEvidence,
  parseReference,
  verifyCosignAttestation,
  verifyCosignSignature,
} from '../../src/oci/index.js';
import { expectCode } from '../helpers.js';
import { pushCosignImage, simpleSigning } from './cosign-image.js';
import { pushImage } from './image.js';
import { startRegistry, type TestRegistry } from './registry.js';

describe('cosign legacy tags (.sig / .att)', () => {
  let reg: TestRegistry;
  const client = createRegistryClient({ env: {} });
  let cosignKey: { privateKey: KeyObject; publicKey: KeyObject };
  let otherKey: { privateKey: KeyObject; publicKey: KeyObject };
  let n = 0;
  const image = async () => {
    const ref = parseReference(`${reg.host}/acme/cosigned${++n}:latest`);
    const pushed = await pushImage(client, ref, `cosigned ${n}`);
    return { ref, ...pushed, name: `${reg.host}/acme/cosigned${n}` };
  };
  const ecdsa = (key: KeyObject, data: Uint8Array) => sign('sha256', data, key);

  before(async () => {
    reg = await startRegistry();
    cosignKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  });
  after(() => reg.stop());

  it('discovers a cosign .sig signature and verifies it with the ECDSA P-256 key', async () => {
    const img = await image();
    const payload = simpleSigning(img.name, img.digest);
    const signature = ecdsa(cosignKey.privateKey, payload).toString('base64');
    await pushCosignImage(client, img.ref, cosignTag(img.digest, 'sig'), [
      {
        mediaType: COSIGN_SIMPLESIGNING,
        bytes: payload,
        annotations: { 'dev.cosignproject.cosign/signature': signature },
      },
    ]);
    const found = await discoverEvidence(client, img.ref);
    assert.equal(found.length, 1);
    const e = found[0] as CosignSignatureEvidence;
    assert.equal(e.kind, 'cosign-signature');
    assert.equal(e.via, 'cosign-tag');
    assert.equal(e.source, `oci-tag:${img.digest.replace(':', '-')}.sig`);
    assert.deepEqual(Buffer.from(e.payload), payload);
    assert.equal(e.certificate, undefined);
    assert.deepEqual(verifyCosignSignature(e, img.digest, cosignKey.publicKey), {
      keyId: keyIdOf(cosignKey.publicKey),
    });
    await expectCode(() => verifyCosignSignature(e, img.digest, otherKey.publicKey), 'ERR_SIGNATURE_INVALID');
  });

  it('reads every signature layer (cosign appends one per signing) and the certificate annotation', async () => {
    const img = await image();
    const p1 = simpleSigning(img.name, img.digest);
    const p2 = Buffer.from(p1.toString('utf8').replace('"optional":null', '"optional":{"run":"2"}'));
    await pushCosignImage(client, img.ref, cosignTag(img.digest, 'sig'), [
      {
        mediaType: COSIGN_SIMPLESIGNING,
        bytes: p1,
        annotations: {
          'dev.cosignproject.cosign/signature': ecdsa(otherKey.privateKey, p1).toString('base64'),
        },
      },
      {
        mediaType: COSIGN_SIMPLESIGNING,
        bytes: p2,
        annotations: {
          'dev.cosignproject.cosign/signature': ecdsa(cosignKey.privateKey, p2).toString('base64'),
          'dev.sigstore.cosign/certificate': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
        },
      },
    ]);
    const found = (await discoverEvidence(client, img.ref)) as CosignSignatureEvidence[];
    assert.deepEqual(
      found.map((e) => e.source),
      [`oci-tag:${cosignTag(img.digest, 'sig')}`, `oci-tag:${cosignTag(img.digest, 'sig')}#1`],
    );
    assert.match(found[1]?.certificate ?? '', /BEGIN CERTIFICATE/);
    assert.deepEqual(
      verifyCosignSignature(found[1] as CosignSignatureEvidence, img.digest, cosignKey.publicKey),
      {
        keyId: keyIdOf(cosignKey.publicKey),
      },
    );
    await expectCode(
      () => verifyCosignSignature(found[0] as CosignSignatureEvidence, img.digest, cosignKey.publicKey),
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('refuses a signed payload about another image, or not a cosign signature', async () => {
    const img = await image();
    const other = await image();
    const forOther = simpleSigning(img.name, other.digest);
    const wrongType = simpleSigning(img.name, img.digest, 'atomic container signature');
    const evidence = (payload: Buffer): CosignSignatureEvidence => ({
      kind: 'cosign-signature',
      payload,
      signature: ecdsa(cosignKey.privateKey, payload),
      source: 'test',
      via: 'cosign-tag',
    });
    await expectCode(
      () => verifyCosignSignature(evidence(forOther), img.digest, cosignKey.publicKey),
      'ERR_DIGEST_MISMATCH',
    );
    await expectCode(
      () => verifyCosignSignature(evidence(wrongType), img.digest, cosignKey.publicKey),
      'ERR_INPUT_MALFORMED',
    );
    const tampered = evidence(simpleSigning(img.name, img.digest));
    const edited = { ...tampered, payload: Buffer.from(tampered.payload.toString().replace('null', '{}')) };
    await expectCode(
      () => verifyCosignSignature(edited, img.digest, cosignKey.publicKey),
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('discovers a cosign .att attestation (DSSE layer) and verifies it against the image digest', async () => {
    const img = await image();
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v0.1',
        predicateType: 'https://slsa.dev/provenance/v0.2',
        subject: [{ name: img.name, digest: { sha256: img.digest.slice(7) } }],
        predicate: { builder: { id: 'https://github.com/actions/runner' } },
      }),
    );
    const envelope = (key: KeyObject) =>
      Buffer.from(
        JSON.stringify({
          payloadType: 'application/vnd.in-toto+json',
          payload: statement.toString('base64'),
          signatures: [
            { keyid: '', sig: ecdsa(key, pae('application/vnd.in-toto+json', statement)).toString('base64') },
          ],
        }),
      );
    await pushCosignImage(client, img.ref, cosignTag(img.digest, 'att'), [
      {
        mediaType: DSSE_ENVELOPE,
        bytes: envelope(cosignKey.privateKey),
        annotations: {
          'dev.cosignproject.cosign/signature': '',
          predicateType: 'https://slsa.dev/provenance/v0.2',
        },
      },
    ]);
    const [e] = (await discoverEvidence(client, img.ref)) as CosignAttestationEvidence[];
    assert.equal(e?.kind, 'cosign-attestation');
    assert.equal(e?.predicateType, 'https://slsa.dev/provenance/v0.2');
    const r = verifyCosignAttestation(e as CosignAttestationEvidence, img.digest, cosignKey.publicKey);
    assert.equal(r.keyId, keyIdOf(cosignKey.publicKey));
    assert.equal(r.statement.predicateType, 'https://slsa.dev/provenance/v0.2');
    await expectCode(
      () => verifyCosignAttestation(e as CosignAttestationEvidence, img.digest, otherKey.publicKey),
      'ERR_DSSE_SIGNATURE',
    );
    const other = await image();
    await expectCode(
      () => verifyCosignAttestation(e as CosignAttestationEvidence, other.digest, cosignKey.publicKey),
      'ERR_INTOTO_SUBJECT_MISMATCH',
    );
  });
});
