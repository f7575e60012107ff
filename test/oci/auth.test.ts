// Authentication against real registries: htpasswd Basic auth, and token auth with a token server the
// registry itself trusts (ES256 JWTs); credentials explicit, from VOUCH_REGISTRY_*, or from config.json
// (which registries each may go to: credentials.test.ts).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVouchError } from '../../src/core/index.js';
import { createRegistryClient, parseReference, type Reference } from '../../src/oci/index.js';
import { expectCode, tempDir } from '../helpers.js';
import { pushImage } from './image.js';
import { startRegistry, type TestRegistry, USER } from './registry.js';

const basicAuth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

function dockerConfig(content: unknown): string {
  const dir = tempDir('vouch-docker-config-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(content));
  return dir;
}

describe('Basic auth (htpasswd)', () => {
  let reg: TestRegistry;
  let ref: Reference;
  before(async () => {
    reg = await startRegistry({ auth: 'basic' });
    ref = parseReference(`${reg.host}/acme/app:1.0`);
  });
  after(() => reg.stop());

  it('is refused without credentials, naming where credentials come from', async () => {
    let thrown: unknown;
    try {
      await createRegistryClient({ env: { HOME: tempDir() } }).resolve(ref);
    } catch (e) {
      thrown = e;
    }
    assert.ok(isVouchError(thrown, 'ERR_OCI_AUTH'));
    assert.match(thrown.message, /no credentials found/);
  });

  it('works with explicit credentials, and a wrong password is ERR_OCI_AUTH without the secret', async () => {
    const image = await pushImage(
      createRegistryClient({ env: {}, credentials: { ...USER, registries: [reg.host] } }),
      ref,
      'basic',
    );
    const good = createRegistryClient({ env: {}, credentials: { ...USER, registries: [reg.host] } });
    assert.equal((await good.resolve(ref)).digest, image.digest);
    const bad = createRegistryClient({
      env: {},
      credentials: { username: USER.username, password: 'hunter2!', registries: [reg.host] },
    });
    let thrown: unknown;
    try {
      await bad.resolve(ref);
    } catch (e) {
      thrown = e;
    }
    assert.ok(isVouchError(thrown, 'ERR_OCI_AUTH'), String(thrown));
    assert.doesNotMatch(JSON.stringify({ m: thrown.message, d: thrown.details }), /hunter2/);
  });

  it('reads VOUCH_REGISTRY_USERNAME / VOUCH_REGISTRY_PASSWORD for the hosts in VOUCH_REGISTRY_HOSTS', async () => {
    const env = {
      VOUCH_REGISTRY_USERNAME: USER.username,
      VOUCH_REGISTRY_PASSWORD: USER.password,
      VOUCH_REGISTRY_HOSTS: reg.host,
    };
    assert.match((await createRegistryClient({ env }).resolve(ref)).digest, /^sha256:/);
    await expectCode(
      () => createRegistryClient({ env: { VOUCH_REGISTRY_USERNAME: USER.username } }).resolve(ref),
      'ERR_USAGE',
    );
  });

  it('reads config.json from $DOCKER_CONFIG: auths.<host>.auth (base64) and username/password', async () => {
    const withAuth = dockerConfig({
      auths: { [reg.host]: { auth: basicAuth(USER.username, USER.password) } },
    });
    assert.match(
      (await createRegistryClient({ env: { DOCKER_CONFIG: withAuth } }).resolve(ref)).digest,
      /^sha256:/,
    );
    const withFields = dockerConfig({ auths: { [`http://${reg.host}/v2/`]: { ...USER } } });
    assert.match(
      (await createRegistryClient({ env: { DOCKER_CONFIG: withFields } }).resolve(ref)).digest,
      /^sha256:/,
    );
  });

  it('reads ~/.docker/config.json when DOCKER_CONFIG is unset', async () => {
    const home = tempDir();
    mkdirSync(join(home, '.docker'));
    writeFileSync(
      join(home, '.docker', 'config.json'),
      JSON.stringify({ auths: { [reg.host]: { auth: basicAuth(USER.username, USER.password) } } }),
    );
    assert.match((await createRegistryClient({ env: { HOME: home } }).resolve(ref)).digest, /^sha256:/);
  });

  it('refuses credential helpers, identity tokens and malformed entries with coded errors', async () => {
    const helpers = dockerConfig({ credHelpers: { [reg.host]: 'pass' } });
    await expectCode(
      () => createRegistryClient({ env: { DOCKER_CONFIG: helpers } }).resolve(ref),
      'ERR_OCI_AUTH',
    );
    const store = dockerConfig({ auths: { [reg.host]: {} }, credsStore: 'desktop' });
    await expectCode(
      () => createRegistryClient({ env: { DOCKER_CONFIG: store } }).resolve(ref),
      'ERR_OCI_AUTH',
    );
    const identity = dockerConfig({ auths: { [reg.host]: { identitytoken: 'refresh-token' } } });
    await expectCode(
      () => createRegistryClient({ env: { DOCKER_CONFIG: identity } }).resolve(ref),
      'ERR_OCI_AUTH',
    );
    const notBase64 = dockerConfig({ auths: { [reg.host]: { auth: '%%%' } } });
    await expectCode(
      () => createRegistryClient({ env: { DOCKER_CONFIG: notBase64 } }).resolve(ref),
      'ERR_OCI_AUTH',
    );
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), '{"auths": {"secret-in-a-broken-file');
    let thrown: unknown;
    try {
      await createRegistryClient({ env: { DOCKER_CONFIG: dir } }).resolve(ref);
    } catch (e) {
      thrown = e;
    }
    assert.ok(isVouchError(thrown, 'ERR_INPUT_MALFORMED'));
    assert.doesNotMatch(thrown.message, /secret-in-a-broken-file/);
  });

  it('a credential helper configured for another host does not stand in the way', async () => {
    const other = dockerConfig({ credHelpers: { 'ghcr.io': 'gh' }, auths: { [reg.host]: { ...USER } } });
    assert.match(
      (await createRegistryClient({ env: { DOCKER_CONFIG: other } }).resolve(ref)).digest,
      /^sha256:/,
    );
  });
});

describe('token auth (docker token spec, JWTs verified by the registry)', () => {
  let reg: TestRegistry;
  let ref: Reference;
  before(async () => {
    reg = await startRegistry({ auth: 'token' });
    ref = parseReference(`${reg.host}/acme/app:1.0`);
  });
  after(() => reg.stop());

  it('gets a token for repository:<name>:pull,push to push, and for pull to read', async () => {
    const image = await pushImage(
      createRegistryClient({ env: {}, credentials: { ...USER, registries: [reg.host] } }),
      ref,
      'token',
    );
    const pushScopes = reg.tokenRequests.flatMap((r) => r.scope);
    assert.ok(pushScopes.includes('repository:acme/app:pull,push'), pushScopes.join());
    assert.ok(
      reg.tokenRequests.every((r) => r.service === 'vouch-test-registry' && r.user === USER.username),
    );
    reg.tokenRequests.length = 0;
    const reader = createRegistryClient({ env: {}, credentials: { ...USER, registries: [reg.host] } });
    assert.equal((await reader.resolve(ref)).digest, image.digest);
    assert.deepEqual(
      reg.tokenRequests.map((r) => r.scope),
      [['repository:acme/app:pull']],
      'one token, reused for the HEAD and the GET',
    );
  });

  it('is ERR_OCI_AUTH when the token server refuses the credentials', async () => {
    const bad = createRegistryClient({
      env: {},
      credentials: { username: USER.username, password: 'wrong', registries: [reg.host] },
    });
    await expectCode(() => bad.resolve(ref), 'ERR_OCI_AUTH');
    await expectCode(() => createRegistryClient({ env: { HOME: tempDir() } }).resolve(ref), 'ERR_OCI_AUTH');
  });

  it('takes token-server credentials from config.json', async () => {
    const dir = dockerConfig({ auths: { [reg.host]: { auth: basicAuth(USER.username, USER.password) } } });
    assert.match(
      (await createRegistryClient({ env: { DOCKER_CONFIG: dir } }).resolve(ref)).digest,
      /^sha256:/,
    );
  });
});
