// cosign's legacy signature images, built as cosign (go-containerregistry) writes them: an OCI manifest over
// go-containerregistry's empty config, one layer per signature (specs/SIGNATURE_SPEC.md).
import { createHash } from 'node:crypto';
import { OCI_MANIFEST, type Reference, type RegistryClient } from '../../src/oci/index.js';

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** cosign's simple-signing payload (Go struct order; `optional` is null when no annotations were given). */
export function simpleSigning(
  reference: string,
  digest: string,
  type = 'cosign container image signature',
): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': reference },
        image: { 'docker-manifest-digest': digest },
        type,
      },
      optional: null,
    }),
  );
}

/** A cosign signature/attestation image: go-containerregistry's empty config and one layer per item. */
export async function pushCosignImage(
  client: RegistryClient,
  ref: Reference,
  tag: string,
  layers: { mediaType: string; bytes: Buffer; annotations: Record<string, string> }[],
): Promise<void> {
  const descriptors = [];
  for (const l of layers) {
    const b = await client.pushBlob(ref, l.bytes);
    descriptors.push({ mediaType: l.mediaType, size: b.size, digest: b.digest, annotations: l.annotations });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.bytes)) },
      config: {},
    }),
  );
  const c = await client.pushBlob(ref, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: c.size, digest: c.digest },
      layers: descriptors,
    }),
  );
  await client.putManifest(ref, tag, manifest, OCI_MANIFEST);
}
