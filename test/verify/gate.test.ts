// The gate end to end against real components: docker-registry holding real images signed and attested by
// Vouch, the policy gate resolving tags and discovering evidence, `vouch oci verify --policy`, and the
// `vouch server` process answering AdmissionReview over TLS as the Kubernetes API server calls it.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serializeBundle, signBlobToBundle } from '../../src/envelope/index.js';
import {
  attestImage,
  createRegistryClient,
  parseReference,
  type Reference,
  signImage,
} from '../../src/oci/index.js';
import { type CompiledPolicy, compilePolicy } from '../../src/policy/index.js';
import { createPolicyGate, type PolicyGate } from '../../src/verify/index.js';
import { vouch, vouchServer } from '../cli/harness.js';
import { tempDir } from '../helpers.js';
import { pushImage } from '../oci/image.js';
import { startRegistry, type TestRegistry } from '../oci/registry.js';
import { provenance } from '../policy/fixtures.js';
import { type Key, newKey } from './keys.js';

const REPO = resolve(import.meta.dirname, '..', '..');

/** The parts of the server's answers these tests read (an AdmissionReview, or a Decision). */
interface WebhookJson {
  apiVersion?: string;
  response: { uid: string; allowed: boolean; status: { code: number; message: string } };
  allow?: boolean;
  policy: { name: string };
}
const SLSA = 'https://slsa.dev/provenance/v1';

function policyText(registry: string): string {
  return `apiVersion: vouch.dev/v1
kind: Policy
metadata:
  name: images
spec:
  match:
    - oci: "${registry}/acme/*"
    - name: "dist/*.tgz"
  signatures:
    keys:
      - name: release
        path: release.pub
  attestations:
    - id: provenance
      predicateType: slsa
  baseline:
    builder: https://github.com/actions/runner/github-hosted
`;
}

describe('verify/gate: images in a real registry', () => {
  const dir = tempDir('vouch-gate-');
  let reg: TestRegistry;
  let release: Key;
  let policy: CompiledPolicy;
  let gate: PolicyGate;
  const client = createRegistryClient({ env: {} });
  let signed: Reference;
  let unsigned: Reference;
  let offBaseline: Reference;

  before(async () => {
    reg = await startRegistry();
    release = await newKey();
    writeFileSync(join(dir, 'release.pub'), release.pem);
    writeFileSync(join(dir, 'policy.yaml'), policyText(reg.host));
    policy = await compilePolicy(readFileSync(join(dir, 'policy.yaml')), {
      source: join(dir, 'policy.yaml'),
    });
    const image = async (name: string, text: string) => {
      const ref = parseReference(`${reg.host}/acme/${name}:1.0`);
      await pushImage(client, ref, text);
      return ref;
    };
    signed = await image('web', 'web');
    unsigned = await image('unsigned', 'nobody signed me');
    offBaseline = await image('evil', 'built elsewhere');
    for (const ref of [signed, offBaseline]) await signImage(client, ref, release.signer);
    await attestImage(client, signed, release.signer, SLSA, provenance());
    await attestImage(
      client,
      offBaseline,
      release.signer,
      SLSA,
      provenance({ builder: 'https://evil.example/ci' }),
    );
    gate = await createPolicyGate({ policies: [policy], tier: 'deep', registry: { env: {} } });
  });
  after(() => reg.stop());

  const failed = (d: { checks: readonly { id: string; outcome: string; mode: string }[] }) =>
    d.checks.filter((c) => c.outcome === 'fail' && c.mode === 'enforce').map((c) => c.id);

  it('allows a signed, attested image by tag: the decision names its digest and the policy', async () => {
    const d = await gate.verifyImage(`${reg.host}/acme/web:1.0`);
    assert.deepEqual(failed(d), []);
    assert.equal(d.allow, true);
    assert.match(d.artifact.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(d.artifact.oci?.repository, 'acme/web');
    assert.equal(d.policy.digest, policy.digest);
  });

  it('denies an unsigned image, an image off the baseline, a missing image and one no policy covers', async () => {
    assert.deepEqual(failed(await gate.verifyImage(`${reg.host}/acme/unsigned:1.0`)), [
      'signatures.threshold',
      'attestations.provenance.present',
      'baseline.builder',
    ]);
    // By digest too: nothing to resolve, still nothing signed.
    const pinned = await client.resolve(unsigned);
    const byDigest = await gate.verifyImage(`${reg.host}/acme/unsigned@${pinned.digest}`);
    assert.equal(byDigest.allow, false);
    assert.equal(byDigest.artifact.digest, pinned.digest);
    assert.deepEqual(failed(await gate.verifyImage(`${reg.host}/acme/evil:1.0`)), ['baseline.builder']);
    const missing = await gate.verifyImage(`${reg.host}/acme/web:2.0`);
    assert.equal(missing.allow, false);
    assert.equal(missing.checks[0]?.code, 'ERR_OCI_NOT_FOUND');
    const uncovered = await gate.verifyImage(`${reg.host}/other/web:1.0`);
    assert.equal(uncovered.allow, false);
    assert.equal(uncovered.checks[0]?.code, 'ERR_POLICY_NO_MATCH');
  });

  it('the fast tier skips the baseline: the off-baseline image passes the early gate', async () => {
    const fast = await createPolicyGate({ policies: [policy], tier: 'fast', registry: { env: {} } });
    assert.equal((await fast.verifyImage(`${reg.host}/acme/evil:1.0`)).allow, true);
  });

  it('verify(): a file artifact with its bundle given in the request', async () => {
    const file = join(dir, 'app.tgz');
    writeFileSync(file, 'a release tarball\n');
    const bundle = serializeBundle(await signBlobToBundle(release.signer, { kind: 'file', path: file }));
    const digest = `sha256:${execFileSync('sha256sum', [file], { encoding: 'utf8' }).slice(0, 64)}`;
    const d = await gate.verify({
      artifact: { digest, name: 'dist/app.tgz' },
      evidence: [{ kind: 'bundle', bytes: Buffer.from(bundle), source: 'request:bundles[0]' }],
      tier: 'fast',
    });
    // Signed, but the policy wants provenance too.
    assert.deepEqual(failed(d), ['attestations.provenance.present']);
  });

  it('vouch oci verify --policy: exit 0 for the signed image, 1 with the failed check for the others', async () => {
    const ok = await vouch([
      'oci',
      'verify',
      `${reg.host}/acme/web:1.0`,
      '--policy',
      join(dir, 'policy.yaml'),
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(JSON.parse(ok.stdout).decision.allow, true);
    const bad = await vouch([
      'oci',
      'verify',
      `${reg.host}/acme/evil:1.0`,
      '--policy',
      join(dir, 'policy.yaml'),
      '--json',
    ]);
    assert.equal(bad.code, 1);
    assert.equal(JSON.parse(bad.stdout).error.check, 'baseline.builder');
    const clash = await vouch([
      'oci',
      'verify',
      `${reg.host}/acme/web:1.0`,
      '--policy',
      join(dir, 'policy.yaml'),
      '--key',
      join(dir, 'release.pub'),
    ]);
    assert.equal(clash.code, 2);
  });

  describe('vouch server: the admission webhook over TLS with the real gate', () => {
    let server: ChildProcess;
    let port = 0;
    let ca: Buffer;
    const SNI = 'vouch.vouch-system.svc';

    before(async () => {
      const certs = join(dir, 'certs');
      execFileSync('sh', [join(REPO, 'examples', 'kubernetes', 'make-certs.sh'), certs], { stdio: 'pipe' });
      ca = readFileSync(join(certs, 'ca.crt'));
      const started = await vouchServer(
        [
          '--listen',
          '127.0.0.1:0',
          '--data-dir',
          join(dir, 'data'),
          '--tls-cert',
          join(certs, 'tls.crt'),
          '--tls-key',
          join(certs, 'tls.key'),
          '--policy',
          join(dir, 'policy.yaml'),
          '--log-level',
          'warn',
        ],
        { HOME: dir },
        { tls: true, timeoutMs: 20_000 },
      );
      server = started.child;
      port = Number(new URL(started.url).port);
    });
    after(() => {
      server.kill('SIGTERM');
    });

    const post = (path: string, body: unknown) =>
      new Promise<{ status: number; json: WebhookJson }>((resolveP, reject) => {
        const data = Buffer.from(JSON.stringify(body));
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path,
            method: 'POST',
            ca,
            servername: SNI,
            headers: { 'content-type': 'application/json', 'content-length': data.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolveP({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }),
            );
          },
        );
        req.on('error', reject);
        req.end(data);
      });

    const review = (containers: string[], initContainers: string[] = []) => {
      const r = JSON.parse(
        readFileSync(join(REPO, 'test', 'server', 'fixtures', 'admission', 'deployment-create.json'), 'utf8'),
      );
      const spec = r.request.object.spec.template.spec;
      spec.containers = containers.map((image, i) => ({ name: `c${i}`, image }));
      spec.initContainers = initContainers.map((image, i) => ({ name: `i${i}`, image }));
      return r;
    };

    it('allows a Deployment whose images are signed and attested, echoing the uid', async () => {
      const body = review([`${reg.host}/acme/web:1.0`]);
      const r = await post('/k8s/validate', body);
      assert.equal(r.status, 200);
      assert.equal(r.json.apiVersion, 'admission.k8s.io/v1');
      assert.equal(r.json.response.uid, body.request.uid);
      assert.equal(r.json.response.allowed, true, JSON.stringify(r.json.response));
    });

    it('denies when one image (an init container) is unsigned, naming it and the failed check', async () => {
      const r = await post(
        '/k8s/validate',
        review([`${reg.host}/acme/web:1.0`], [`${reg.host}/acme/unsigned:1.0`]),
      );
      assert.equal(r.json.response.allowed, false);
      assert.equal(r.json.response.status.code, 403);
      assert.match(r.json.response.status.message, /acme\/unsigned:1\.0/);
      assert.match(r.json.response.status.message, /signatures\.threshold/);
    });

    it('POST /api/v1/verify answers with the decision', async () => {
      const resolved = await client.resolve(signed);
      const r = await post('/api/v1/verify', {
        artifact: { digest: resolved.digest, name: 'dist/app.tgz' },
        bundles: [],
      });
      assert.equal(r.status, 200);
      assert.equal(r.json.allow, false);
      assert.equal(r.json.policy.name, 'images');
    });
  });
});

describe('verify/gate: warm caches', () => {
  it('reuses the digest and the verified evidence within the TTL, and asks the registry again after it', async () => {
    const dir = tempDir('vouch-gate-cache-');
    const reg = await startRegistry();
    try {
      const { signer, pem } = await newKey();
      writeFileSync(join(dir, 'release.pub'), pem);
      writeFileSync(join(dir, 'policy.yaml'), policyText(reg.host));
      const policy = await compilePolicy(readFileSync(join(dir, 'policy.yaml')), {
        source: join(dir, 'policy.yaml'),
      });
      const client = createRegistryClient({ env: {} });
      const ref = parseReference(`${reg.host}/acme/web:1.0`);
      await pushImage(client, ref, 'cached');
      await signImage(client, ref, signer);
      await attestImage(client, ref, signer, SLSA, provenance());
      let t = Date.parse('2026-03-01T12:00:00Z');
      const gate = await createPolicyGate({
        policies: [policy],
        tier: 'fast',
        registry: { env: {}, timeoutMs: 2000 },
        cacheTtlMs: 30_000,
        now: () => new Date(t),
      });
      assert.equal((await gate.verifyImage(`${reg.host}/acme/web:1.0`)).allow, true);
      await reg.stop();
      t += 10_000;
      const warm = await gate.verifyImage(`${reg.host}/acme/web:1.0`);
      assert.equal(warm.allow, true, 'answered from the caches while the registry is down');
      assert.equal(warm.time, new Date(t).toISOString(), 'the policy ran again at the new time');
      t += 30_000;
      const cold = await gate.verifyImage(`${reg.host}/acme/web:1.0`);
      assert.equal(cold.allow, false);
      assert.equal(cold.checks[0]?.id, 'input.image');
      assert.equal(cold.checks[0]?.code, 'ERR_OCI_UNREACHABLE');
    } finally {
      await reg.stop();
    }
  });
});
