// Real image content for the registry tests: an OCI (or Docker v2) manifest over a config blob and one
// gzip-compressed tar layer holding a single file, pushed through the client under test.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { digestOf, OCI_MANIFEST, type Reference, type RegistryClient } from '../../src/oci/index.js';

/** A POSIX ustar archive with one regular file (enough for a registry; the layer is never unpacked). */
export function tarOf(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => header.write(s.slice(0, len), off, len, 'ascii');
  put(name, 0, 100);
  put('0000644\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(`${content.length.toString(8).padStart(11, '0')}\0`, 124, 12);
  put(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  const sum = header.reduce((a, b) => a + b, 0);
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

export interface PushedImage {
  readonly digest: string;
  readonly manifest: Buffer;
  readonly layerDigest: string;
  readonly configDigest: string;
}

/** Pushes an image whose single file says `text`, tagged `ref.tag`; returns the manifest digest. */
export async function pushImage(
  client: RegistryClient,
  ref: Reference,
  text: string,
  mediaType: 'oci' | 'docker' = 'oci',
): Promise<PushedImage> {
  const tar = tarOf('hello.txt', Buffer.from(`${text}\n`));
  const layer = gzipSync(tar);
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/hello'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
    }),
  );
  const c = await client.pushBlob(ref, config);
  const l = await client.pushBlob(ref, layer);
  const docker = mediaType === 'docker';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: docker ? 'application/vnd.docker.distribution.manifest.v2+json' : OCI_MANIFEST,
      config: {
        mediaType: docker
          ? 'application/vnd.docker.container.image.v1+json'
          : 'application/vnd.oci.image.config.v1+json',
        digest: c.digest,
        size: c.size,
      },
      layers: [
        {
          mediaType: docker
            ? 'application/vnd.docker.image.rootfs.diff.tar.gzip'
            : 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: l.digest,
          size: l.size,
        },
      ],
    }),
  );
  const pushed = await client.putManifest(
    ref,
    ref.tag ?? digestOf(manifest),
    manifest,
    docker ? 'application/vnd.docker.distribution.manifest.v2+json' : OCI_MANIFEST,
  );
  return { digest: pushed.digest, manifest, layerDigest: l.digest, configDigest: c.digest };
}
