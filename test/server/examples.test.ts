// examples/kubernetes must describe the server these tests exercise: the webhook's rules cover every
// request of the AdmissionReview fixtures, it points at the Service and path the server listens on, and
// make-certs.sh makes a certificate the API server (trusting caBundle) would accept.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadPolicy } from '../../src/policy/index.js';
import { tempDir } from '../helpers.js';
import { FIXTURES, review, startServer, TestGate } from './helpers.js';

const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples', 'kubernetes');

type Json = Record<string, unknown>;
const docs = (file: string): Json[] =>
  parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8')).map((d) => d.toJS() as Json);
const byKind = (all: Json[], kind: string): Json => {
  const d = all.find((x) => x['kind'] === kind);
  assert.ok(d !== undefined, `no ${kind}`);
  return d;
};

interface Rule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
}

describe('examples/kubernetes', () => {
  const config = byKind(docs('webhook.yaml'), 'ValidatingWebhookConfiguration');
  const webhook = (config['webhooks'] as Json[])[0] as Json;
  const deployment = docs('vouch.yaml');

  it('fails closed, has no side effects, speaks admission/v1, within a timeout', () => {
    assert.equal(config['apiVersion'], 'admissionregistration.k8s.io/v1');
    assert.equal(webhook['failurePolicy'], 'Fail');
    assert.equal(webhook['sideEffects'], 'None');
    assert.deepEqual(webhook['admissionReviewVersions'], ['v1']);
    assert.ok((webhook['timeoutSeconds'] as number) >= 1 && (webhook['timeoutSeconds'] as number) <= 30);
    assert.ok('caBundle' in (webhook['clientConfig'] as Json));
  });

  it("exempts Vouch's own namespace", () => {
    const selector = webhook['namespaceSelector'] as { matchExpressions: Json[] };
    const exempt = selector.matchExpressions.find(
      (e) => e['key'] === 'kubernetes.io/metadata.name' && e['operator'] === 'NotIn',
    );
    assert.ok(Array.isArray(exempt?.['values']) && exempt['values'].includes('vouch-system'));
    const meta = byKind(deployment, 'Deployment')['metadata'] as Json;
    assert.equal(meta['namespace'], 'vouch-system');
  });

  it('its rules send every reviewed request of the fixtures, and no DELETE', () => {
    const rules = webhook['rules'] as Rule[];
    for (const name of readdirSync(join(FIXTURES, 'admission'))) {
      const r = review(name.replace(/\.json$/, ''))['request'] as Json;
      const res = r['resource'] as { group: string; version: string; resource: string };
      const resource = r['subResource'] === undefined ? res.resource : `${res.resource}/${r['subResource']}`;
      const covered = rules.some(
        (rule) =>
          rule.apiGroups.includes(res.group) &&
          rule.apiVersions.includes(res.version) &&
          rule.resources.includes(resource) &&
          rule.operations.includes(r['operation'] as string),
      );
      const expected = r['operation'] !== 'DELETE' && resource !== 'configmaps';
      assert.equal(covered, expected, `${name}: ${res.group}/${resource} ${r['operation']}`);
    }
  });

  it('points at the Service, port and path the server serves', () => {
    const service = byKind(deployment, 'Service');
    const client = (webhook['clientConfig'] as Json)['service'] as Json;
    assert.equal(client['path'], '/k8s/validate');
    assert.equal(client['name'], (service['metadata'] as Json)['name']);
    assert.equal(client['namespace'], (service['metadata'] as Json)['namespace']);
    const port = ((service['spec'] as Json)['ports'] as Json[])[0] as Json;
    assert.equal(client['port'], port['port']);
    const pod = ((byKind(deployment, 'Deployment')['spec'] as Json)['template'] as Json)['spec'] as Json;
    const c = (pod['containers'] as Json[])[0] as Json;
    const args = c['args'] as string[];
    assert.equal(args[0], 'server');
    const listen = args.find((a) => a.startsWith('--listen='));
    const containerPort = ((c['ports'] as Json[])[0] as Json)['containerPort'];
    assert.equal(listen, `--listen=0.0.0.0:${containerPort}`);
    assert.ok(args.includes('--tls-cert=/tls/tls.crt') && args.includes('--tls-key=/tls/tls.key'));
    assert.equal(((c['readinessProbe'] as Json)['httpGet'] as Json)['path'], '/healthz');
  });

  it("the ConfigMap's policy loads once its key placeholder is a real key", async () => {
    const data = byKind(deployment, 'ConfigMap')['data'] as Record<string, string>;
    assert.match(data['release.pub'] ?? '', /BEGIN PUBLIC KEY/);
    const dir = tempDir();
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'release.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'images.yaml'), data['images.yaml'] ?? '');
    const policy = await loadPolicy(join(dir, 'images.yaml'));
    assert.equal(policy.name, 'acme-images');
    const args = (
      (
        (((byKind(deployment, 'Deployment')['spec'] as Json)['template'] as Json)['spec'] as Json)[
          'containers'
        ] as Json[]
      )[0] as Json
    )['args'] as string[];
    assert.ok(args.includes('--policy=/etc/vouch/images.yaml'));
  });

  it('make-certs.sh makes a serving certificate the API server accepts for the Service name', async () => {
    const dir = join(tempDir(), 'certs');
    const out = execFileSync('sh', [join(EXAMPLES, 'make-certs.sh'), dir], { encoding: 'utf8' });
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    assert.ok(out.includes(`caBundle for webhook.yaml: ${Buffer.from(ca).toString('base64')}`));
    const server = await startServer(new TestGate(), {
      tls: { cert: readFileSync(join(dir, 'tls.crt')), key: readFileSync(join(dir, 'tls.key')) },
    });
    const body = JSON.stringify(review('pod-create-dryrun'));
    const status = await new Promise<number>((resolveStatus, reject) => {
      const req = request(
        `${server.url}/k8s/validate?timeout=10s`,
        {
          method: 'POST',
          ca,
          servername: 'vouch.vouch-system.svc',
          headers: { 'content-type': 'application/json' },
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolveStatus(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 200);
  });
});
