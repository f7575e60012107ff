import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VouchError } from '../../src/core/index.js';
import type { AdmissionReviewResponse } from '../../src/server/index.js';
import { tempDir } from '../helpers.js';
import { call, check, decision, review, startServer, TestGate, trickle } from './helpers.js';

type Json = Record<string, unknown>;

const DIGEST = `sha256:${'c'.repeat(64)}`;
const BUNDLE = { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' };

describe('server: HTTP', async () => {
  const gate = new TestGate();
  const server = await startServer(gate);

  it('GET /healthz reports status, version and the loaded policies', async () => {
    const r = await call(server.url, 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      status: 'ok',
      version: '0.1.0',
      policies: [{ name: 'prod-images', digest: `sha256:${'a'.repeat(64)}` }],
    });
  });

  it('POST /api/v1/verify answers 200 with the Decision, allow and deny alike', async () => {
    const allow = await call(server.url, 'POST', '/api/v1/verify', {
      artifact: { digest: DIGEST, name: 'app.tgz' },
      bundles: [BUNDLE],
    });
    assert.equal(allow.status, 200);
    assert.deepEqual(allow.json, decision(true, [check('signatures.threshold', 'pass')], 'app.tgz'));
    const deny = await call(server.url, 'POST', '/api/v1/verify', {
      artifact: { digest: DIGEST, name: 'app.tgz' },
      bundles: [],
    });
    assert.equal(deny.status, 200);
    assert.equal((deny.json as { allow: boolean }).allow, false);
  });

  it('hands the gate the parsed request: base64 and inline JSON bundles as bytes', async () => {
    gate.requests.length = 0;
    const raw = Buffer.from('{"mediaType":"x"}');
    const r = await call(server.url, 'POST', '/api/v1/verify', {
      artifact: {
        digest: DIGEST,
        purl: 'pkg:npm/app@1.0.0',
        oci: { registry: 'ghcr.io', repository: 'acme/app' },
      },
      bundles: [raw.toString('base64'), BUNDLE],
      tier: 'deep',
      policy: 'prod-images',
    });
    assert.equal(r.status, 200);
    assert.equal(gate.requests.length, 1);
    const req = gate.requests[0];
    assert.deepEqual(req?.artifact, {
      digest: DIGEST,
      purl: 'pkg:npm/app@1.0.0',
      oci: { registry: 'ghcr.io', repository: 'acme/app' },
    });
    assert.equal(req?.tier, 'deep');
    assert.equal(req?.policy, 'prod-images');
    assert.deepEqual(
      req?.bundles.map((b) => [Buffer.from(b.bytes).toString(), b.source]),
      [
        ['{"mediaType":"x"}', 'request:bundles[0]'],
        [JSON.stringify(BUNDLE), 'request:bundles[1]'],
      ],
    );
  });

  it('refuses an unknown field with 400 ERR_REQUEST_MALFORMED naming it', async () => {
    const r = await call(server.url, 'POST', '/api/v1/verify', {
      artifact: { digest: DIGEST },
      bundles: [],
      teir: 'deep',
    });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, {
      error: { code: 'ERR_REQUEST_MALFORMED', message: 'request body: teir: is not a known field' },
    });
  });

  it('refuses malformed JSON and invalid UTF-8 with 400 and a code', async () => {
    const bad = await call(server.url, 'POST', '/api/v1/verify', '{"artifact": ');
    assert.equal(bad.status, 400);
    assert.equal((bad.json as { error: { code: string } }).error.code, 'ERR_JSON_PARSE');
    const utf8 = await call(server.url, 'POST', '/api/v1/verify', Buffer.from([0x22, 0xff, 0x22]));
    assert.equal(utf8.status, 400);
    assert.equal((utf8.json as { error: { code: string } }).error.code, 'ERR_INPUT_ENCODING');
    const empty = await call(server.url, 'POST', '/api/v1/verify', '');
    assert.equal(empty.status, 400);
    assert.equal((empty.json as { error: { code: string } }).error.code, 'ERR_JSON_PARSE');
  });

  it('refuses an inline bundle nested 150,000 deep with 400 ERR_REQUEST_MALFORMED, not a crash', async () => {
    const deep = `${'{"a":'.repeat(150_000)}1${'}'.repeat(150_000)}`;
    const body = `{"artifact":{"digest":"sha256:${'a'.repeat(64)}"},"bundles":[${deep}]}`;
    const r = await call(server.url, 'POST', '/api/v1/verify', body);
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, {
      error: {
        code: 'ERR_REQUEST_MALFORMED',
        message: 'request body: bundles[0]: nests deeper than 64 levels',
      },
    });
  });

  it('refuses a body that is not JSON with 400, and a POST without a body the same way', async () => {
    const arr = await call(server.url, 'POST', '/api/v1/verify', []);
    assert.equal(arr.status, 400);
    assert.deepEqual(arr.json, {
      error: { code: 'ERR_REQUEST_MALFORMED', message: 'request body: must be a JSON object' },
    });
    const none = await call(server.url, 'POST', '/api/v1/verify');
    assert.equal(none.status, 400);
    assert.equal((none.json as { error: { code: string } }).error.code, 'ERR_REQUEST_MALFORMED');
  });

  it('refuses another media type with 415', async () => {
    const r = await call(server.url, 'POST', '/api/v1/verify', 'artifact=x', {
      'content-type': 'text/plain',
    });
    assert.equal(r.status, 415);
    assert.equal((r.json as { error: { code: string } }).error.code, 'ERR_REQUEST_MALFORMED');
    const form = await call(server.url, 'POST', '/k8s/validate', 'a=b', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(form.status, 415);
  });

  it('accepts application/json with a charset parameter', async () => {
    const r = await call(
      server.url,
      'POST',
      '/api/v1/verify',
      JSON.stringify({ artifact: { digest: DIGEST }, bundles: [] }),
      { 'content-type': 'application/json; charset=utf-8' },
    );
    assert.equal(r.status, 200);
  });

  it('answers an unknown route or method with 404 and a coded body', async () => {
    const r = await call(server.url, 'GET', '/api/v1/verify?token=secret');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { error: { code: 'ERR_USAGE', message: 'no route GET /api/v1/verify' } });
    const other = await call(server.url, 'POST', '/admin', {});
    assert.equal(other.status, 404);
  });

  it('logs one JSON line per request (method, route, status, ms) and never the body', async () => {
    server.logs.length = 0;
    await call(server.url, 'POST', '/api/v1/verify', {
      artifact: { digest: DIGEST, name: 'marker-do-not-log' },
      bundles: [],
    });
    const lines = server.logs.filter((l) => l['msg'] === 'request');
    assert.equal(lines.length, 1);
    const line = lines[0] as Record<string, unknown>;
    assert.equal(line['method'], 'POST');
    assert.equal(line['route'], '/api/v1/verify');
    assert.equal(line['status'], 200);
    assert.equal(typeof line['ms'], 'number');
    assert.equal(line['level'], 30);
    assert.ok(!JSON.stringify(server.logs).includes('marker-do-not-log'));
  });
});

describe('server: limits and errors from the gate', () => {
  it('refuses a body over the limit with 413 ERR_REQUEST_TOO_LARGE (default 1 MiB)', async () => {
    const server = await startServer();
    const pad = 'x'.repeat(1024 * 1024);
    const r = await call(server.url, 'POST', '/api/v1/verify', {
      artifact: { digest: DIGEST, name: pad },
      bundles: [],
    });
    assert.equal(r.status, 413);
    assert.equal((r.json as { error: { code: string } }).error.code, 'ERR_REQUEST_TOO_LARGE');
    const small = await startServer(new TestGate(), { bodyLimit: 512 });
    const body = { artifact: { digest: DIGEST }, bundles: [Buffer.alloc(512).toString('base64')] };
    const s = await call(small.url, 'POST', '/k8s/validate', body);
    assert.equal(s.status, 413);
    assert.equal((s.json as { error: { code: string } }).error.code, 'ERR_REQUEST_TOO_LARGE');
  });

  it('maps gate errors through one table: usage 400, verify 422, timeout 503, internal a bare 500', async () => {
    let next: () => Promise<never> = async () => {
      throw new Error('unset');
    };
    const server = await startServer(new TestGate({ verify: () => next() }));
    const ask = () =>
      call(server.url, 'POST', '/api/v1/verify', { artifact: { digest: DIGEST }, bundles: [] });
    const cases: [Error, number, string, string][] = [
      [
        new VouchError('ERR_USAGE', 'no policy named "x" is loaded'),
        400,
        'ERR_USAGE',
        'no policy named "x" is loaded',
      ],
      [
        new VouchError('ERR_POLICY_NO_MATCH', 'no policy matches'),
        422,
        'ERR_POLICY_NO_MATCH',
        'no policy matches',
      ],
      [new VouchError('ERR_OCI_UNREACHABLE', 'registry down'), 502, 'ERR_OCI_UNREACHABLE', 'registry down'],
      [new VouchError('ERR_INTERNAL', 'token=hunter2'), 500, 'ERR_INTERNAL', 'internal error'],
      [new TypeError('password=hunter2 at /srv/x.ts:1'), 500, 'ERR_INTERNAL', 'internal error'],
    ];
    for (const [err, status, code, message] of cases) {
      next = async () => {
        throw err;
      };
      const r = await ask();
      assert.equal(r.status, status, code);
      assert.deepEqual(r.json, { error: { code, message } });
      assert.ok(!r.text.includes('hunter2'));
    }
  });

  it('answers 503 ERR_POLICY_TIMEOUT when the gate does not decide in time', async () => {
    const server = await startServer(new TestGate({ verify: () => new Promise(() => undefined) }), {
      timeoutMs: 100,
    });
    const r = await call(server.url, 'POST', '/api/v1/verify', { artifact: { digest: DIGEST }, bundles: [] });
    assert.equal(r.status, 503);
    assert.deepEqual(r.json, { error: { code: 'ERR_POLICY_TIMEOUT', message: 'no decision within 100 ms' } });
  });
});

/** A gate whose API calls wait until `release()`, counting how many started. */
function heldGate(): {
  gate: TestGate;
  started: () => number;
  release: () => void;
  entered: Promise<void>;
} {
  let started = 0;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered: () => void = () => undefined;
  const inside = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const gate = new TestGate({
    verify: async () => {
      started++;
      entered();
      await held;
      return decision(true, [check('signatures.threshold', 'pass')]);
    },
  });
  return { gate, started: () => started, release, entered: inside };
}

describe('server: gate calls bounded across requests', () => {
  const api = { artifact: { digest: DIGEST }, bundles: [] };
  const pod = (image: string) => {
    const r = review('deployment-create');
    const spec = ((r['request'] as Json)['object'] as Json)['spec'] as Json;
    (spec['template'] as Json)['spec'] = { containers: [{ name: 'c', image }] };
    return r;
  };

  it('when every slot is taken and the queue is full: 503 for the API, a denial for the webhook', async (t) => {
    const h = heldGate();
    t.after(h.release);
    const server = await startServer(h.gate, { maxInflight: 1, maxQueued: 0 });
    const first = call(server.url, 'POST', '/api/v1/verify', api);
    await h.entered;
    const busy = await call(server.url, 'POST', '/api/v1/verify', api);
    assert.equal(busy.status, 503);
    assert.deepEqual(busy.json, {
      error: {
        code: 'ERR_SERVER_BUSY',
        message: 'server busy: 1 verifications running and 0 waiting; try again',
      },
    });
    const denied = await call(server.url, 'POST', '/k8s/validate', pod('ghcr.io/acme/web:1'));
    assert.equal(denied.status, 200);
    const res = (denied.json as AdmissionReviewResponse).response;
    assert.equal(res.allowed, false);
    assert.equal(
      res.status?.message,
      'vouch denied 1 of 1 image:\nghcr.io/acme/web:1: verification failed: server busy: 1 verifications running and 0 waiting; try again [ERR_SERVER_BUSY]',
    );
    assert.equal(h.gate.images.length, 0);
    h.release();
    assert.equal((await first).status, 200);
    const after = await call(server.url, 'POST', '/k8s/validate', pod('ghcr.io/acme/web:1'));
    assert.equal((after.json as AdmissionReviewResponse).response.allowed, true);
  });

  it('a webhook image waiting for a slot is denied at its deadline (waiting counts against it)', async (t) => {
    const h = heldGate();
    t.after(h.release);
    const server = await startServer(h.gate, { maxInflight: 1 });
    const first = call(server.url, 'POST', '/api/v1/verify', api);
    await h.entered;
    const started = Date.now();
    const r = await call(server.url, 'POST', '/k8s/validate?timeout=1s', pod('ghcr.io/acme/web:1'));
    const took = Date.now() - started;
    assert.ok(took >= 400 && took < 1000, `took ${took} ms`);
    const res = (r.json as AdmissionReviewResponse).response;
    assert.equal(res.allowed, false);
    assert.match(res.status?.message ?? '', /no decision within 500 ms \[ERR_POLICY_TIMEOUT\]$/);
    assert.equal(h.gate.images.length, 0);
    h.release();
    await first;
  });

  it('work that missed its deadline keeps its slot: abandoned gate calls cannot pile up', async (t) => {
    const h = heldGate();
    t.after(h.release);
    const server = await startServer(h.gate, { maxInflight: 2, timeoutMs: 150 });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => call(server.url, 'POST', '/api/v1/verify', api)),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [503, 503, 503, 503, 503],
    );
    // Every deadline has passed and the first two calls still run: nothing more was started.
    const later = await call(server.url, 'POST', '/api/v1/verify', api);
    assert.equal(later.status, 503);
    assert.equal(h.started(), 2);
    h.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const free = await call(server.url, 'POST', '/api/v1/verify', api);
    assert.equal(free.status, 200);
    assert.equal(h.started(), 3);
  });

  it('refuses a maxInflight that is not a positive integer (TypeError)', async () => {
    await assert.rejects(startServer(new TestGate(), { maxInflight: 0 }), TypeError);
    await assert.rejects(startServer(new TestGate(), { maxQueued: -1 }), TypeError);
  });
});

describe('server: receiving requests', () => {
  const POST = 'POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';

  it('answers 408 to a client trickling its body, about --timeout after it started', async () => {
    const server = await startServer(new TestGate(), { timeoutMs: 500 });
    const r = await trickle(server.url, `${POST}Content-Length: 100000\r\n\r\n{`, { everyMs: 100 });
    assert.equal(r.statusLine, 'HTTP/1.1 408 Request Timeout');
    assert.ok(r.ms >= 450 && r.ms < 1500, `took ${r.ms} ms`);
  });

  it('answers 408 to a client trickling its headers', async () => {
    const server = await startServer(new TestGate(), { timeoutMs: 500 });
    const r = await trickle(server.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', {
      everyMs: 100,
      byte: 'a',
    });
    assert.equal(r.statusLine, 'HTTP/1.1 408 Request Timeout');
    assert.ok(r.ms >= 450 && r.ms < 1500, `took ${r.ms} ms`);
  });

  it('answers 408 to a client that sends a short body and waits', async () => {
    const server = await startServer(new TestGate(), { timeoutMs: 500 });
    const r = await trickle(server.url, `${POST}Content-Length: 10\r\n\r\n{"a":1}`, { everyMs: 60_000 });
    assert.equal(r.statusLine, 'HTTP/1.1 408 Request Timeout');
    assert.ok(r.ms >= 450 && r.ms < 1500, `took ${r.ms} ms`);
  });

  it('holds at most maxConnections connections; the ones beyond are closed at once', async () => {
    const server = await startServer(new TestGate(), { maxConnections: 2 });
    const port = Number(new URL(server.url).port);
    const open = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<Socket>((resolve, reject) => {
            const s = connect(port, '127.0.0.1', () => resolve(s));
            s.once('error', reject);
          }),
      ),
    );
    const third = await trickle(server.url, '', { everyMs: 60_000, giveUpMs: 3000 });
    assert.equal(third.statusLine, '');
    for (const s of open) s.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await call(server.url, 'GET', '/healthz')).status, 200);
  });
});

describe('server: data directory and lifecycle', () => {
  it('creates the data directory 0700 with server.json, and keeps the instance id across restarts', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const first = await startServer(new TestGate(), { dataDir });
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    const file = join(dataDir, 'server.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const info = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(info), ['instanceId', 'startedAt', 'version']);
    assert.equal(info['instanceId'], first.info.instanceId);
    assert.match(info['instanceId'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(info['version'], '0.1.0');
    await first.close();
    const second = await startServer(new TestGate(), { dataDir });
    assert.equal(second.info.instanceId, first.info.instanceId);
  });

  it('refuses a data directory that is a file (ERR_USAGE) and a corrupt server.json (ERR_INPUT_MALFORMED)', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'file'), 'x');
    await assert.rejects(startServer(new TestGate(), { dataDir: join(dir, 'file') }), { code: 'ERR_USAGE' });
    writeFileSync(join(dir, 'server.json'), '{"instanceId": "../../etc"}');
    await assert.rejects(startServer(new TestGate(), { dataDir: dir }), { code: 'ERR_INPUT_MALFORMED' });
  });

  it('refuses an address in use with ERR_USAGE naming it', async () => {
    const first = await startServer();
    const port = Number(new URL(first.url).port);
    await assert.rejects(startServer(new TestGate(), { port }), {
      code: 'ERR_USAGE',
      message: `cannot listen on 127.0.0.1:${port}: EADDRINUSE`,
    });
  });

  it('closes gracefully: a request in flight completes, then new connections are refused', async () => {
    const h = heldGate();
    const server = await startServer(h.gate);
    const pending = call(server.url, 'POST', '/api/v1/verify', { artifact: { digest: DIGEST }, bundles: [] });
    await h.entered;
    const closing = server.close();
    h.release();
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal((r.json as { allow: boolean }).allow, true);
    await closing;
    await assert.rejects(fetch(`${server.url}/healthz`), TypeError);
  });
});
