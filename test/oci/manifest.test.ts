// Manifests and indexes read from a registry are attacker-controlled: every structural fault is
// ERR_OCI_MANIFEST with the JSON path; unknown fields are ignored (image-spec).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVouchError } from '../../src/core/index.js';
import { OCI_INDEX, OCI_MANIFEST, parseManifest } from '../../src/oci/index.js';
import { expectCode } from '../helpers.js';

const D = `sha256:${'a'.repeat(64)}`;
const desc = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D, size: 3 };
const manifest = {
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D, size: 2 },
  layers: [desc],
};
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('parseManifest', () => {
  it('reads an image manifest with subject, artifactType and annotations; ignores unknown fields', () => {
    const m = parseManifest(
      bytes({
        ...manifest,
        artifactType: 'application/x-test',
        subject: desc,
        annotations: { a: 'b' },
        extra: { anything: true },
      }),
      undefined,
      'test',
    );
    assert.deepEqual(m, {
      kind: 'manifest',
      mediaType: OCI_MANIFEST,
      artifactType: 'application/x-test',
      config: manifest.config,
      layers: [desc],
      subject: desc,
      annotations: { a: 'b' },
    });
  });

  it('reads an index, taking the media type from Content-Type when the document has none', () => {
    const m = parseManifest(bytes({ schemaVersion: 2, manifests: [desc] }), OCI_INDEX, 'test');
    assert.deepEqual(m, { kind: 'index', mediaType: OCI_INDEX, manifests: [desc] });
  });

  it('accepts media types with parameters (early cosign bundles: ;version=0.3)', () => {
    const typed = { ...desc, artifactType: 'application/vnd.dev.sigstore.bundle+json;version=0.3' };
    const m = parseManifest(
      bytes({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [typed] }),
      undefined,
      't',
    );
    assert.deepEqual(m.kind === 'index' ? m.manifests : [], [typed]);
  });

  const bad: [string, unknown][] = [
    ['schemaVersion 1', { ...manifest, schemaVersion: 1 }],
    ['no media type anywhere', { schemaVersion: 2, layers: [] }],
    [
      'a schema-1 manifest',
      { ...manifest, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' },
    ],
    ['no config', { ...manifest, config: undefined }],
    ['a digest Vouch cannot check', { ...manifest, layers: [{ ...desc, digest: `md5:${'a'.repeat(32)}` }] }],
    ['a negative size', { ...manifest, layers: [{ ...desc, size: -1 }] }],
    ['a fractional size', { ...manifest, layers: [{ ...desc, size: 1.5 }] }],
    ['a non-string annotation', { ...manifest, annotations: { a: 1 } }],
    ['a bad media type', { ...manifest, layers: [{ ...desc, mediaType: 'not a type' }] }],
    ['layers not an array', { ...manifest, layers: {} }],
    ['not an object', [manifest]],
  ];
  for (const [why, doc] of bad) {
    it(`refuses ${why}`, async () => {
      await expectCode(() => parseManifest(bytes(doc), undefined, 'test'), 'ERR_OCI_MANIFEST');
    });
  }

  it('refuses bytes that are not JSON, naming the source', () => {
    try {
      parseManifest(Buffer.from('<html>'), OCI_MANIFEST, 'manifest x');
      assert.fail('no error');
    } catch (e) {
      assert.ok(isVouchError(e, 'ERR_OCI_MANIFEST'));
      assert.match(e.message, /^manifest x:/);
    }
  });

  it('names the JSON path of a fault', () => {
    try {
      parseManifest(bytes({ ...manifest, layers: [desc, { ...desc, size: 'x' }] }), undefined, 'm');
      assert.fail('no error');
    } catch (e) {
      assert.ok(isVouchError(e, 'ERR_OCI_MANIFEST'));
      assert.equal(e.details?.['path'], 'layers[1].size');
    }
  });
});
