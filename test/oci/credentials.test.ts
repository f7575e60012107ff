// Credentials go only to the registries they are bound to: the explicit option names its registries,
// VOUCH_REGISTRY_USERNAME/PASSWORD go to VOUCH_REGISTRY_HOSTS (or, for a single-image CLI command, to that
// image's registry), and a Bearer realm on another host gets them only for a registry they are bound to.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lookupCredentials } from '../../src/oci/credentials.js';
import { createRegistryClient, parseReference } from '../../src/oci/index.js';
import { expectCode } from '../helpers.js';
import { basicRegistry, basicUser, type FakeServer, fakeServer } from './fake.js';

const SECRET = { username: 'robot', password: 's3cret' };
const ENV = {
  VOUCH_REGISTRY_USERNAME: SECRET.username,
  VOUCH_REGISTRY_PASSWORD: SECRET.password,
  HOME: '/nonexistent',
};
const sentTo = (s: FakeServer) =>
  s.seen.map((x) => basicUser(x.authorization)).filter((u) => u !== undefined);

describe('credentials bound to registries (Basic challenges)', () => {
  let mine: FakeServer;
  let other: FakeServer;
  before(async () => {
    [mine, other] = await Promise.all([basicRegistry(), basicRegistry()]);
  });
  after(() => Promise.all([mine.close(), other.close()]));
  const ref = (s: FakeServer) => parseReference(`${s.host}/acme/app:1`);
  const reset = () => {
    mine.seen.length = 0;
    other.seen.length = 0;
  };

  it('sends explicit credentials only to the registries they name', async () => {
    reset();
    const client = createRegistryClient({ env: {}, credentials: { ...SECRET, registries: [mine.host] } });
    await expectCode(() => client.resolve(ref(mine)), 'ERR_OCI_NOT_FOUND');
    await expectCode(() => client.resolve(ref(other)), 'ERR_OCI_AUTH');
    assert.deepEqual(sentTo(mine), ['robot:s3cret']);
    assert.deepEqual(sentTo(other), []);
    assert.ok(other.seen.length > 0, 'the other registry was asked, anonymously');
  });

  it('sends VOUCH_REGISTRY_USERNAME/PASSWORD only to the hosts in VOUCH_REGISTRY_HOSTS', async () => {
    reset();
    const client = createRegistryClient({ env: { ...ENV, VOUCH_REGISTRY_HOSTS: ` ghcr.io, ${mine.host} ` } });
    await expectCode(() => client.resolve(ref(mine)), 'ERR_OCI_NOT_FOUND');
    await expectCode(() => client.resolve(ref(other)), 'ERR_OCI_AUTH');
    assert.deepEqual(sentTo(mine), ['robot:s3cret']);
    assert.deepEqual(sentTo(other), []);
  });

  it('does not use them at all without VOUCH_REGISTRY_HOSTS (the server), and says what to set', async () => {
    reset();
    let thrown: unknown;
    try {
      await createRegistryClient({ env: ENV }).resolve(ref(mine));
    } catch (e) {
      thrown = e;
    }
    assert.deepEqual(sentTo(mine), []);
    await expectCode(() => Promise.reject(thrown), 'ERR_OCI_AUTH');
    assert.match((thrown as Error).message, /VOUCH_REGISTRY_HOSTS/);
  });

  it("falls back to the command's own registry only when VOUCH_REGISTRY_HOSTS is unset", async () => {
    reset();
    const cli = createRegistryClient({ env: ENV, envCredentialsRegistry: mine.host });
    await expectCode(() => cli.resolve(ref(mine)), 'ERR_OCI_NOT_FOUND');
    await expectCode(() => cli.resolve(ref(other)), 'ERR_OCI_AUTH');
    assert.deepEqual(sentTo(mine), ['robot:s3cret']);
    assert.deepEqual(sentTo(other), []);
    reset();
    const listed = createRegistryClient({
      env: { ...ENV, VOUCH_REGISTRY_HOSTS: other.host },
      envCredentialsRegistry: mine.host,
    });
    await expectCode(() => listed.resolve(ref(mine)), 'ERR_OCI_AUTH');
    assert.deepEqual(sentTo(mine), []);
  });

  it('refuses a VOUCH_REGISTRY_HOSTS entry that is not host[:port] (ERR_USAGE)', async () => {
    for (const hosts of ['https://ghcr.io', 'ghcr.io/acme', 'a b', 'ghcr.io:port']) {
      await expectCode(
        () => createRegistryClient({ env: { ...ENV, VOUCH_REGISTRY_HOSTS: hosts } }).resolve(ref(mine)),
        'ERR_USAGE',
      );
    }
  });

  it('matches hosts case-insensitively and treats Docker Hub names as one registry', async () => {
    const hub = { ...ENV, VOUCH_REGISTRY_HOSTS: 'index.docker.io' };
    assert.deepEqual(await lookupCredentials('docker.io', { env: hub }), SECRET);
    assert.deepEqual(
      await lookupCredentials('ghcr.io', { env: { ...ENV, VOUCH_REGISTRY_HOSTS: 'GHCR.io' } }),
      SECRET,
    );
    assert.equal(
      await lookupCredentials('ghcr.io:443', { env: { ...ENV, VOUCH_REGISTRY_HOSTS: 'ghcr.io' } }),
      undefined,
    );
    assert.equal(await lookupCredentials('quay.io', { env: hub }), undefined);
    assert.deepEqual(
      await lookupCredentials('registry-1.docker.io', {
        env: {},
        explicit: { ...SECRET, registries: ['docker.io'] },
      }),
      SECRET,
    );
  });
});

describe('credentials and Bearer token realms on another host', () => {
  let realm: FakeServer;
  let registry: FakeServer;
  before(async () => {
    realm = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t0ken","expires_in":300}');
    });
    registry = await fakeServer((req, res) => {
      if (req.headers.authorization === 'Bearer t0ken') {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(401, { 'www-authenticate': `Bearer realm="http://${realm.host}/token",service="fake"` })
        .end();
    });
  });
  after(() => Promise.all([realm.close(), registry.close()]));

  it('asks the realm anonymously when no credentials are bound to the registry', async () => {
    realm.seen.length = 0;
    const client = createRegistryClient({ env: ENV, credentials: { ...SECRET, registries: [realm.host] } });
    await expectCode(
      () => client.resolve(parseReference(`${registry.host}/evil/app:1`)),
      'ERR_OCI_NOT_FOUND',
    );
    assert.equal(realm.seen.length, 1);
    assert.equal(realm.seen[0]?.authorization, undefined);
  });

  it("sends the registry's own credentials to its realm, even on another host (as Docker Hub's)", async () => {
    realm.seen.length = 0;
    const client = createRegistryClient({ env: {}, credentials: { ...SECRET, registries: [registry.host] } });
    await expectCode(
      () => client.resolve(parseReference(`${registry.host}/acme/app:1`)),
      'ERR_OCI_NOT_FOUND',
    );
    assert.deepEqual(sentTo(realm), ['robot:s3cret']);
  });
});
