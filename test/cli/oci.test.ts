// `vouch oci sign | attest | verify | tree` end to end against real docker-registry instances (no auth,
// htpasswd Basic auth with credentials from $DOCKER_CONFIG, and one on a non-trusted loopback address).
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildServerGate } from '../../src/cli/commands/server.js';
import { loadPrivateKey } from '../../src/crypto/index.js';
import {
  COSIGN_SIMPLESIGNING,
  cosignTag,
  createRegistryClient,
  parseReference,
} from '../../src/oci/index.js';
import { tempDir } from '../helpers.js';
import { pushCosignImage, simpleSigning } from '../oci/cosign-image.js';
import { basicRegistry, basicUser, type FakeServer } from '../oci/fake.js';
import { pushImage } from '../oci/image.js';
import { startRegistry, type TestRegistry, USER } from '../oci/registry.js';
import { vouch } from './harness.js';

const env = { VOUCH_PASSWORD: 'test-passphrase', HOME: '/nonexistent' };
const SLSA = 'https://slsa.dev/provenance/v1';

interface Json {
  ok: boolean;
  error?: { code: string; message: string };
  [k: string]: unknown;
}
const json = (stdout: string) => JSON.parse(stdout) as Json;

describe('cli: vouch oci', () => {
  const dir = tempDir();
  const p = (n: string) => join(dir, n);
  let reg: TestRegistry;
  const client = createRegistryClient({ env: {} });
  let n = 0;
  const image = async () => {
    const ref = `${reg.host}/acme/cli${++n}:1.0`;
    const pushed = await pushImage(client, parseReference(ref), `cli ${n}`);
    return { ref, digest: pushed.digest };
  };

  before(async () => {
    reg = await startRegistry();
    writeFileSync(
      p('slsa.json'),
      JSON.stringify({
        buildDefinition: { buildType: 'x', externalParameters: {} },
        runDetails: { builder: { id: 'b' } },
      }),
    );
    assert.equal((await vouch(['keygen', '--alg', 'ed25519', '--out', p('k')], env)).code, 0);
    assert.equal((await vouch(['keygen', '--alg', 'ecdsa-p256', '--out', p('other')], env)).code, 0);
  });
  after(() => reg.stop());

  it('signs the digest a tag names and verifies it with the public key', async () => {
    const img = await image();
    const signed = await vouch(['oci', 'sign', img.ref, '--key', p('k.key'), '--json'], env);
    assert.equal(signed.code, 0, signed.stdout + signed.stderr);
    const s = json(signed.stdout);
    assert.equal(s['digest'], img.digest);
    assert.equal(s['reference'], `${img.ref}@${img.digest}`);
    assert.equal(s['predicateType'], 'https://sigstore.dev/cosign/sign/v1');
    assert.equal(s['referrersApi'], false);
    assert.equal(s['fallbackTag'], img.digest.replace(':', '-'));

    const ok = await vouch(['oci', 'verify', img.ref, '--key', p('k.pub'), '--json'], env);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const v = json(ok.stdout);
    assert.equal(v['digest'], img.digest);
    const verified = v['verified'] as { source: string; via: string; signer: { kind: string } }[];
    assert.equal(verified.length, 1);
    assert.equal(verified[0]?.source, `oci-referrer:${s['artifact'] as string}`);
    assert.equal(verified[0]?.via, 'referrers-tag');

    const human = await vouch(['oci', 'verify', img.ref, '--key', p('k.pub')], env);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^Verified OK: .*@sha256:[0-9a-f]{64} \(signature\)\n {2}✓ oci-referrer:/);
    assert.match(human.stderr, /resolving/);
  });

  it('fails verification (exit 1) with the wrong key, and when nothing is stored', async () => {
    const img = await image();
    assert.equal((await vouch(['oci', 'sign', img.ref, '--key', p('k.key')], env)).code, 0);
    const wrong = await vouch(['oci', 'verify', img.ref, '--key', p('other.pub'), '--json'], env);
    assert.equal(wrong.code, 1);
    assert.equal(json(wrong.stdout).error?.code, 'ERR_DSSE_SIGNATURE');
    const unsigned = await image();
    const none = await vouch(['oci', 'verify', unsigned.ref, '--key', p('k.pub')], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no signature is stored for .* \[ERR_VERIFY_THRESHOLD\]/);
  });

  it('attests with --type/--predicate, verifies the attestation type, and lists it in tree', async () => {
    const img = await image();
    assert.equal((await vouch(['oci', 'sign', img.ref, '--key', p('k.key')], env)).code, 0);
    const att = await vouch(
      [
        'oci',
        'attest',
        img.ref,
        '--key',
        p('k.key'),
        '--type',
        'slsa',
        '--predicate',
        p('slsa.json'),
        '--json',
      ],
      env,
    );
    assert.equal(att.code, 0, att.stdout + att.stderr);
    assert.equal(json(att.stdout)['predicateType'], SLSA);

    const ok = await vouch(['oci', 'verify', img.ref, '--key', p('k.pub'), '--type', 'slsa'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\(https:\/\/slsa\.dev\/provenance\/v1 attestation\)/);
    const missing = await vouch(['oci', 'verify', img.ref, '--key', p('k.pub'), '--type', 'cyclonedx'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ERR_VERIFY_THRESHOLD/);

    const tree = await vouch(['oci', 'tree', img.ref, '--json'], env);
    assert.equal(tree.code, 0, tree.stderr);
    const t = json(tree.stdout);
    assert.equal(t['digest'], img.digest);
    assert.deepEqual(
      (t['items'] as { kind: string; predicateType: string; via: string }[]).map((i) => [
        i.kind,
        i.predicateType,
        i.via,
      ]),
      [
        ['signature', 'https://sigstore.dev/cosign/sign/v1', 'referrers-tag'],
        ['attestation', SLSA, 'referrers-tag'],
      ],
    );
    const human = await vouch(['oci', 'tree', img.ref], env);
    assert.match(human.stdout, /└─ signature: oci-referrer:sha256:[0-9a-f]{64} \[referrers-tag\]/);
    assert.match(human.stdout, /└─ attestation https:\/\/slsa\.dev\/provenance\/v1: oci-referrer:/);
  });

  it('refuses a statement about another image as the predicate (exit 1)', async () => {
    const img = await image();
    const other = await image();
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'x', digest: { sha256: other.digest.slice(7) } }],
      predicateType: SLSA,
      predicate: JSON.parse(readFileSync(p('slsa.json'), 'utf8')),
    };
    writeFileSync(p('statement.json'), JSON.stringify(statement));
    const r = await vouch(
      ['oci', 'attest', img.ref, '--key', p('k.key'), '--type', 'slsa', '--predicate', p('statement.json')],
      env,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ERR_INTOTO_SUBJECT_MISMATCH/);
  });

  it('verifies an image signed by cosign (legacy .sig tag) with the cosign public key', async () => {
    const img = await image();
    const key = await loadPrivateKey(
      readFileSync(p('other.key')),
      async () => env.VOUCH_PASSWORD,
      'other.key',
    );
    const payload = simpleSigning(img.ref.replace(/:1\.0$/, ''), img.digest);
    const ref = parseReference(img.ref);
    await pushCosignImage(client, ref, cosignTag(img.digest, 'sig'), [
      {
        mediaType: COSIGN_SIMPLESIGNING,
        bytes: payload,
        annotations: {
          'dev.cosignproject.cosign/signature': sign('sha256', payload, key).toString('base64'),
        },
      },
    ]);
    const r = await vouch(['oci', 'verify', img.ref, '--key', p('other.pub'), '--json'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const verified = json(r.stdout)['verified'] as { source: string; via: string }[];
    assert.deepEqual(
      verified.map((v) => v.via),
      ['cosign-tag'],
    );
    const tree = json((await vouch(['oci', 'tree', img.ref, '--json'], env)).stdout);
    assert.deepEqual(
      (tree['items'] as { kind: string; format: string }[]).map((i) => [i.kind, i.format]),
      [['signature', 'cosign-signature']],
    );
  });

  it('codes bad references and missing flags', async () => {
    const bad = await vouch(['oci', 'tree', 'Not A Reference', '--json'], env);
    assert.equal(bad.code, 3);
    assert.equal(json(bad.stdout).error?.code, 'ERR_OCI_REFERENCE');
    const img = await image();
    assert.equal((await vouch(['oci', 'sign', img.ref], env)).code, 2);
    assert.equal((await vouch(['oci', 'attest', img.ref, '--key', p('k.key')], env)).code, 2);
    assert.equal((await vouch(['oci', 'verify', img.ref], env)).code, 2);
    assert.equal((await vouch(['oci', 'sign', img.ref, '--key', p('k.key'), '--bogus'], env)).code, 2);
    const missing = await vouch(['oci', 'tree', `${reg.host}/acme/cli-missing:1`], env);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /ERR_OCI_NOT_FOUND/);
  });
});

describe('cli: vouch oci against registries that need a login or are not loopback', () => {
  const dir = tempDir();
  let basic: TestRegistry;
  let remote: TestRegistry;
  before(async () => {
    [basic, remote] = await Promise.all([
      startRegistry({ auth: 'basic' }),
      startRegistry({ address: '127.0.0.2' }),
    ]);
    assert.equal((await vouch(['keygen', '--alg', 'ed25519', '--out', join(dir, 'k')], env)).code, 0);
  });
  after(async () => {
    await basic.stop();
    await remote.stop();
  });

  it('takes credentials from $DOCKER_CONFIG and never prints them', async () => {
    const ref = `${basic.host}/acme/private:1`;
    await pushImage(
      createRegistryClient({ env: {}, credentials: { ...USER, registries: [basic.host] } }),
      parseReference(ref),
      'private',
    );
    const noLogin = await vouch(['oci', 'sign', ref, '--key', join(dir, 'k.key')], env);
    assert.equal(noLogin.code, 3);
    assert.match(noLogin.stderr, /ERR_OCI_AUTH/);
    const config = tempDir();
    const auth = Buffer.from(`${USER.username}:${USER.password}`).toString('base64');
    writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: { [basic.host]: { auth } } }));
    const withLogin = { ...env, DOCKER_CONFIG: config };
    const signed = await vouch(['oci', 'sign', ref, '--key', join(dir, 'k.key')], withLogin);
    assert.equal(signed.code, 0, signed.stderr);
    const verified = await vouch(['oci', 'verify', ref, '--key', join(dir, 'k.pub')], withLogin);
    assert.equal(verified.code, 0, verified.stderr);
    const wrong = { ...env, VOUCH_REGISTRY_USERNAME: USER.username, VOUCH_REGISTRY_PASSWORD: 'sekrit-wrong' };
    const refused = await vouch(['oci', 'tree', ref, '--json'], wrong);
    assert.equal(refused.code, 3);
    for (const out of [noLogin, signed, verified, refused]) {
      assert.doesNotMatch(out.stdout + out.stderr, new RegExp(`${USER.password}|${auth}|sekrit-wrong`));
    }
  });

  it('refuses plain HTTP to a registry that is not loopback (exit 2) unless --allow-insecure-registry', async () => {
    const ref = `${remote.host}/acme/app:1`;
    await pushImage(
      createRegistryClient({ env: {}, allowInsecureRegistry: true }),
      parseReference(ref),
      'remote',
    );
    const refused = await vouch(['oci', 'tree', ref], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--allow-insecure-registry.* \[ERR_OCI_INSECURE\]/);
    const allowed = await vouch(
      ['oci', 'sign', ref, '--key', join(dir, 'k.key'), '--allow-insecure-registry'],
      env,
    );
    assert.equal(allowed.code, 0, allowed.stderr);
    const tree = await vouch(['oci', 'tree', ref, '--allow-insecure-registry', '--json'], env);
    assert.equal((json(tree.stdout)['items'] as unknown[]).length, 1);
  });
});

describe('cli: registry credentials from the environment go only to the registries they are for', () => {
  const dir = tempDir();
  const secret = { VOUCH_REGISTRY_USERNAME: 'robot', VOUCH_REGISTRY_PASSWORD: 'env-s3cret' };
  let basic: TestRegistry;
  let fake: FakeServer;
  before(async () => {
    [basic, fake] = await Promise.all([startRegistry({ auth: 'basic' }), basicRegistry()]);
    assert.equal((await vouch(['keygen', '--alg', 'ed25519', '--out', join(dir, 'k')], env)).code, 0);
    writeFileSync(
      join(dir, 'p.yaml'),
      `apiVersion: vouch.dev/v1\nkind: Policy\nmetadata:\n  name: all\nspec:\n  match:\n    - oci: "**"\n  signatures:\n    keys:\n      - name: k\n        path: ${join(dir, 'k.pub')}\n`,
    );
  });
  after(() => Promise.all([basic.stop(), fake.close()]));

  it("oci commands send them to the image's registry without VOUCH_REGISTRY_HOSTS, else to the hosts listed", async () => {
    const ref = `${basic.host}/acme/env:1`;
    const push = createRegistryClient({ env: {}, credentials: { ...USER, registries: [basic.host] } });
    await pushImage(push, parseReference(ref), 'env');
    const login = { ...env, VOUCH_REGISTRY_USERNAME: USER.username, VOUCH_REGISTRY_PASSWORD: USER.password };
    const own = await vouch(['oci', 'tree', ref], login);
    assert.equal(own.code, 0, own.stderr);
    const elsewhere = await vouch(['oci', 'tree', ref], { ...login, VOUCH_REGISTRY_HOSTS: 'ghcr.io' });
    assert.equal(elsewhere.code, 3);
    assert.match(elsewhere.stderr, /VOUCH_REGISTRY_HOSTS.*\[ERR_OCI_AUTH\]/);
  });

  it('the server gate does not use them without VOUCH_REGISTRY_HOSTS, and vouch server says so', async () => {
    const image = `${fake.host}/evil/app:1`;
    const options = { policies: [join(dir, 'p.yaml')], tier: 'fast' as const, allowInsecureRegistry: false };
    const unbound = await buildServerGate(options, { ...env, ...secret });
    await unbound.verifyImage(image, { kind: 'Pod' }).catch(() => undefined);
    assert.ok(fake.seen.length > 0);
    assert.deepEqual(
      fake.seen.filter((s) => s.authorization !== undefined),
      [],
    );
    fake.seen.length = 0;
    const bound = await buildServerGate(options, { ...env, ...secret, VOUCH_REGISTRY_HOSTS: fake.host });
    await bound.verifyImage(image, { kind: 'Pod' }).catch(() => undefined);
    assert.ok(fake.seen.some((s) => basicUser(s.authorization) === 'robot:env-s3cret'));

    const notice = /VOUCH_REGISTRY_USERNAME\/PASSWORD are not used: set VOUCH_REGISTRY_HOSTS/;
    const server = ['server', '--data-dir', join(dir, 'data'), '--policy', join(dir, 'missing.yaml')];
    const warned = await vouch(server, { ...env, ...secret });
    assert.notEqual(warned.code, 0);
    assert.match(warned.stderr, notice);
    const quiet = await vouch(server, { ...env, ...secret, VOUCH_REGISTRY_HOSTS: fake.host });
    assert.doesNotMatch(quiet.stderr, notice);
  });
});
