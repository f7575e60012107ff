// The distribution-spec client against a real docker-registry (no auth): push, resolve, pull, tags,
// digest checks, size caps, transport rules.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRegistryClient, digestOf, parseReference, type Reference } from '../../src/oci/index.js';
import { expectCode } from '../helpers.js';
import { type FakeServer, fakeServer } from './fake.js';
import { pushImage } from './image.js';
import { freePort, startRegistry, type TestRegistry } from './registry.js';

/** Where distribution 2.8's filesystem driver keeps a blob's bytes. */
function blobPath(reg: TestRegistry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(reg.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

describe('registry client (docker-registry 2.8, no auth)', () => {
  let reg: TestRegistry;
  let ref: Reference;
  const client = createRegistryClient({ env: {} });
  before(async () => {
    reg = await startRegistry();
    ref = parseReference(`${reg.host}/acme/app:1.0`);
  });
  after(() => reg.stop());

  it('pushes an image and resolves its tag to the digest of the manifest bytes', async () => {
    const image = await pushImage(client, ref, 'one');
    assert.equal(image.digest, digestOf(image.manifest));
    const resolved = await client.resolve(ref);
    assert.equal(resolved.digest, image.digest);
    assert.equal(resolved.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(resolved.size, image.manifest.byteLength);
    assert.deepEqual(Buffer.from(resolved.bytes), image.manifest);
    assert.equal(resolved.manifest.kind, 'manifest');
    const byDigest = await client.resolve(parseReference(`${reg.host}/acme/app@${image.digest}`));
    assert.equal(byDigest.digest, image.digest);
  });

  it('resolves Docker v2 manifests too', async () => {
    const dockerRef = parseReference(`${reg.host}/acme/docker:v2`);
    const image = await pushImage(client, dockerRef, 'docker', 'docker');
    const resolved = await client.resolve(dockerRef);
    assert.equal(resolved.digest, image.digest);
    assert.equal(resolved.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  });

  it('pulls blobs checked against their digest, and lists tags', async () => {
    const image = await pushImage(client, { ...ref, tag: '2.0' }, 'two');
    const layer = await client.getBlob(ref, image.layerDigest, 1 << 20);
    assert.equal(digestOf(layer), image.layerDigest);
    assert.equal(await client.hasBlob(ref, image.layerDigest), true);
    assert.equal(await client.hasBlob(ref, digestOf(Buffer.from('absent'))), false);
    const tags = await client.listTags(ref);
    assert.ok(tags.includes('1.0') && tags.includes('2.0'), tags.join());
  });

  it('reports a registry without the referrers API', async () => {
    const { digest } = await client.resolve(ref);
    assert.deepEqual(await client.referrers(ref, digest), { supported: false });
  });

  it('codes missing tags, manifests, blobs and repositories as ERR_OCI_NOT_FOUND', async () => {
    await expectCode(() => client.resolve({ ...ref, tag: 'nope' }), 'ERR_OCI_NOT_FOUND');
    await expectCode(
      () => client.resolve({ ...ref, digest: digestOf(Buffer.from('no such manifest')) }),
      'ERR_OCI_NOT_FOUND',
    );
    await expectCode(() => client.getBlob(ref, digestOf(Buffer.from('x')), 10), 'ERR_OCI_NOT_FOUND');
    await expectCode(() => client.resolve(parseReference(`${reg.host}/acme/none:1`)), 'ERR_OCI_NOT_FOUND');
  });

  it('refuses a blob past the size cap before keeping it', async () => {
    const image = await client.resolve(ref);
    const m = image.manifest;
    assert.equal(m.kind, 'manifest');
    const layer = m.kind === 'manifest' ? m.layers[0] : undefined;
    assert.ok(layer !== undefined);
    await expectCode(() => client.getBlob(ref, layer.digest, 16), 'ERR_INPUT_TOO_LARGE');
  });

  it('refuses stored bytes that do not match their digest (manifest by tag and digest, blob)', async () => {
    const tamperedRef = { ...ref, tag: 'tampered' };
    const image = await pushImage(client, tamperedRef, 'tamper me');
    const path = blobPath(reg, image.digest);
    const original = readFileSync(path);
    const edited = Buffer.from(original.toString('utf8').replace('"schemaVersion":2', '"schemaVersion":2 '));
    assert.notDeepEqual(edited, original);
    writeFileSync(path, edited);
    await expectCode(() => client.resolve(tamperedRef), 'ERR_DIGEST_MISMATCH');
    await expectCode(() => client.getManifest(ref, image.digest), 'ERR_DIGEST_MISMATCH');
    const layerPath = blobPath(reg, image.layerDigest);
    const layer = readFileSync(layerPath);
    layer.writeUInt8(layer.readUInt8(layer.length - 1) ^ 1, layer.length - 1);
    writeFileSync(layerPath, layer);
    await expectCode(() => client.getBlob(ref, image.layerDigest, 1 << 20), 'ERR_DIGEST_MISMATCH');
  });

  it('refuses a PUT by digest whose bytes have another digest (programmer error)', async () => {
    await assert.rejects(
      () => client.putManifest(ref, digestOf(Buffer.from('a')), Buffer.from('b'), 'application/json'),
      TypeError,
    );
  });

  it('codes a registry that is not there as ERR_OCI_UNREACHABLE', async () => {
    const port = await freePort();
    await expectCode(
      () => client.resolve(parseReference(`127.0.0.1:${port}/acme/app:1`)),
      'ERR_OCI_UNREACHABLE',
    );
  });
});

describe('registry transport: plain HTTP only to loopback names or when allowed', () => {
  let reg: TestRegistry;
  before(async () => {
    // 127.0.0.2 is loopback on Linux but not a name Vouch trusts over plain HTTP: it stands for any remote host.
    reg = await startRegistry({ address: '127.0.0.2' });
  });
  after(() => reg.stop());

  it('refuses a plain-HTTP registry with ERR_OCI_INSECURE, and talks to it with allowInsecureRegistry', async () => {
    const ref = parseReference(`${reg.host}/acme/app:1`);
    await expectCode(() => createRegistryClient({ env: {} }).resolve(ref), 'ERR_OCI_INSECURE');
    const insecure = createRegistryClient({ env: {}, allowInsecureRegistry: true });
    const image = await pushImage(insecure, ref, 'insecure');
    assert.equal((await insecure.resolve(ref)).digest, image.digest);
  });
});

describe('registry client against a hostile registry', () => {
  let other: FakeServer;
  let reg: FakeServer;
  before(async () => {
    other = await fakeServer((_req, res) => void res.writeHead(201).end());
    reg = await fakeServer((req, res) => {
      if (req.url?.includes('tags/list'))
        return void res
          .writeHead(200, { 'content-type': 'application/json', link: '<http://[oops>; rel="next"' })
          .end('{"tags":["a"]}');
      if (req.headers.authorization === undefined)
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
      if (req.method === 'HEAD') return void res.writeHead(404).end();
      if (req.method === 'POST') {
        const location = req.url?.includes('/bad-upload/') ? 'http://[oops' : `http://${other.host}/upload/1`;
        return void res.writeHead(202, { location }).end();
      }
      res.writeHead(500).end();
    });
  });
  after(() => Promise.all([other.close(), reg.close()]));

  it("does not send the registry's Authorization to an upload Location on another origin", async () => {
    const client = createRegistryClient({
      env: {},
      credentials: { username: 'ci', password: 'push-secret', registries: [reg.host] },
    });
    await client.pushBlob(parseReference(`${reg.host}/acme/app`), Buffer.from('hello'));
    assert.deepEqual(
      other.seen.map((s) => [s.method, s.authorization]),
      [['PUT', undefined]],
    );
    assert.ok(
      reg.seen.some((s) => s.authorization !== undefined),
      'the registry itself got the credentials',
    );
  });

  it('codes an upload Location or a Link that is not a URL as ERR_OCI_REGISTRY', async () => {
    const client = createRegistryClient({ env: {} });
    await expectCode(() => client.listTags(parseReference(`${reg.host}/acme/app`)), 'ERR_OCI_REGISTRY');
    const open = createRegistryClient({
      env: {},
      credentials: { username: 'ci', password: 'x', registries: [reg.host] },
    });
    await expectCode(
      () => open.pushBlob(parseReference(`${reg.host}/acme/bad-upload`), Buffer.from('x')),
      'ERR_OCI_REGISTRY',
    );
  });
});
