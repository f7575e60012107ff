// Admission webhook latency with warm caches: docker-registry holding one image signed and attested by Vouch
// (provenance, the CycloneDX SBOM of a real ~876-package lockfile, vulns), the `vouch server` process with
// the real gate (buildServerGate, fast tier) and the release-gate policy, and autocannon driving
// POST /k8s/validate with a Deployment AdmissionReview over loopback plain HTTP (keep-alive connections: TLS
// would add record encryption to both sides, no handshakes). The reference, same server, same run, same load:
// GET /healthz, the floor of the HTTP stack. Closed-loop loads (each connection sends its next request when
// the answer comes): 1 connection, the latency of one admission at a time; 10 connections, saturation (one
// event loop decides one request at a time, so latency there is about 10 service times). autocannon's
// rate-limited mode is not used: it sends each second's quota in a burst at the start of the second.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { generateSbom } from '../src/attest/index.js';
import { ALGORITHMS, createFileSigner, exportPublicKeyPem, generateKeyPair } from '../src/crypto/index.js';
import { attestImage, createRegistryClient, parseReference, signImage } from '../src/oci/index.js';
import { vouchServer } from '../test/cli/harness.js';
import { pushImage } from '../test/oci/image.js';
import { startRegistry } from '../test/oci/registry.js';
import {
  CDX,
  finding,
  keyedReleaseGate,
  NOW,
  provenance,
  SLSA,
  VULNS,
  vulns,
} from '../test/policy/fixtures.js';
import { type Row, report, workPath } from './lib.js';

const REPO = resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env['VOUCH_BENCH_WEBHOOK_SECONDS'] ?? 8);
const CONNECTIONS = [1, 10] as const;
const TARGET_P99_MS = 20;

/** The parts of autocannon 8's programmatic API used here (it ships no types). */
interface LoadOptions {
  url: string;
  connections: number;
  duration: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  verifyBody?: (body: string) => boolean;
}
interface LoadResult {
  requests: { average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
}
interface LoadInstance {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (opts: LoadOptions, done: (err: Error | null, r: LoadResult) => void) => LoadInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Measured {
  p50: number;
  p99: number;
  max: number;
  rps: number;
}

/** One autocannon run. Latencies come from its per-response event (sub-millisecond; its histogram keeps whole
 * milliseconds); every answer must be a 2xx that `verifyBody` accepts, or the figure would be of an error path. */
function load(opts: LoadOptions): Promise<Measured> {
  const times: number[] = [];
  return new Promise((resolveP, reject) => {
    const inst = autocannon(opts, (err, r) => {
      if (err !== null) return reject(err);
      const bad = r.errors + r.timeouts + r.non2xx + r.mismatches;
      if (bad > 0 || times.length === 0)
        return reject(new Error(`${opts.url}: ${bad} bad answers of ${times.length}: ${JSON.stringify(r)}`));
      times.sort((a, b) => a - b);
      const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] as number;
      resolveP({ p50: at(0.5), p99: at(0.99), max: times.at(-1) as number, rps: r.requests.average });
    });
    inst.on('response', (_c, _s, _b, ms) => times.push(ms));
  });
}

const reg = await startRegistry();
let server: ChildProcess | undefined;
try {
  const dir = workPath('webhook');
  mkdirSync(dir, { recursive: true });
  const client = createRegistryClient({ env: {} });
  const pair = await generateKeyPair(ALGORITHMS['ecdsa-p256']);
  const signer = createFileSigner(pair.privateKey);
  const image = `${reg.host}/acme/web:1.0`;
  const ref = parseReference(image);
  await pushImage(client, ref, 'web');
  await signImage(client, ref, signer);
  const sbom = await generateSbom({
    lockfile: join(REPO, '..', 'shared', 'vectors', 'lockfiles', 'npm-v3.slsa-verifier.package-lock.json'),
    installed: false,
    format: 'cyclonedx',
    timestamp: NOW,
    tool: { name: 'vouch', version: 'bench' },
  });
  await attestImage(client, ref, signer, SLSA, provenance());
  await attestImage(client, ref, signer, CDX, JSON.parse(sbom.text));
  await attestImage(
    client,
    ref,
    signer,
    VULNS,
    vulns([finding('GHSA-xvch-5gv4-984h', 'MEDIUM'), finding('CVE-2021-44906', 'CRITICAL', true)]),
  );

  // The release gate of policy.bench.ts, matching the registry's images; no maxAge (key signatures carry no
  // verified time, and the fixtures' scan dates are fixed).
  const doc = keyedReleaseGate([{ name: 'release', publicKey: exportPublicKeyPem(pair.publicKey) }]) as {
    spec: { match: unknown[] };
  };
  doc.spec.match = [{ oci: `${reg.host}/acme/*` }];
  writeFileSync(join(dir, 'policy.yaml'), JSON.stringify(doc, null, 2));

  const started = await vouchServer(
    [
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      join(dir, 'data'),
      '--policy',
      join(dir, 'policy.yaml'),
      '--tier',
      'fast',
      '--log-level',
      'warn',
    ],
    { HOME: dir },
    { tls: false, timeoutMs: 30_000 },
  );
  server = started.child;
  const url = started.url;

  const review = JSON.parse(
    readFileSync(join(REPO, 'test', 'server', 'fixtures', 'admission', 'deployment-create.json'), 'utf8'),
  );
  const podSpec = review.request.object.spec.template.spec;
  podSpec.containers = [{ name: 'web', image }];
  podSpec.initContainers = [];
  const body = JSON.stringify(review);
  const post = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body };

  // Warm the tag→digest and evidence caches (and the JIT), and check the answer is an allow.
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`${url}/k8s/validate`, post);
    const text = await r.text();
    if (!text.includes('"allowed":true')) throw new Error(`the webhook does not allow the image: ${text}`);
  }
  const allowed = (b: string) => b.includes('"allowed":true');
  const health = (connections: number) => load({ url: `${url}/healthz`, connections, duration: SECONDS });
  const webhook = (connections: number) =>
    load({ url: `${url}/k8s/validate`, connections, duration: SECONDS, ...post, verifyBody: allowed });

  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const rows: Row[] = [];
  const verdicts: string[] = [];
  for (const c of CONNECTIONS) {
    const floor = await health(c);
    const hook = await webhook(c);
    const label = `${c} connection${c === 1 ? '' : 's'}`;
    rows.push(
      { name: `${label}: p50`, value: ms(hook.p50), reference: ms(floor.p50), ratio: hook.p50 / floor.p50 },
      { name: `${label}: p99`, value: ms(hook.p99), reference: ms(floor.p99), ratio: hook.p99 / floor.p99 },
      { name: `${label}: max`, value: ms(hook.max), reference: ms(floor.max), ratio: hook.max / floor.max },
      {
        name: `${label}: throughput`,
        value: `${hook.rps.toFixed(0)} req/s`,
        reference: `${floor.rps.toFixed(0)} req/s`,
        ratio: hook.rps / floor.rps,
      },
    );
    const verdict = hook.p99 < TARGET_P99_MS ? 'met' : 'MISSED';
    verdicts.push(`${label}: webhook p99 ${ms(hook.p99)} (target < ${TARGET_P99_MS} ms: ${verdict})`);
  }
  console.log(
    `\n${SECONDS} s per run, plain HTTP on loopback, keep-alive, fast tier, caches warm; ` +
      `one Deployment, one image with 4 referrers (${sbom.components}-component SBOM)`,
  );
  report('Admission webhook POST /k8s/validate vs GET /healthz (ratio = webhook / healthz)', rows);
  for (const v of verdicts) console.log(v);
} finally {
  server?.kill('SIGTERM');
  await reg.stop();
}
