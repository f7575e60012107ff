import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { serve, stopOnSignals } from '../../src/cli/commands/server.js';
import type { CliIO } from '../../src/cli/io.js';
import { tempDir } from '../helpers.js';
import { TestGate } from '../server/helpers.js';
import { vouch } from './harness.js';

describe('cli: vouch server flags', () => {
  const dir = tempDir();
  const base = ['server', '--data-dir', join(dir, 'data'), '--policy', join(dir, 'p.yaml')];
  const refused: [string, string[], RegExp][] = [
    [
      'a listen address without a port',
      ['--listen', '127.0.0.1'],
      /--listen 127\.0\.0\.1: expected host:port/,
    ],
    ['a port out of range', ['--listen', '127.0.0.1:70000'], /expected host:port/],
    ['an unbracketed IPv6 address', ['--listen', '::1:8080'], /expected host:port/],
    ['an unknown tier', ['--tier', 'full'], /--tier full: expected fast or deep/],
    ['an unknown log level', ['--log-level', 'loud'], /--log-level loud: expected one of fatal, error/],
    ['a certificate without its key', ['--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together/],
    ['a zero body limit', ['--body-limit', '0'], /--body-limit 0: expected a whole number/],
    ['a timeout that is not a number', ['--timeout', '10s'], /--timeout 10s: expected a whole number/],
  ];
  for (const [what, args, message] of refused) {
    it(`refuses ${what} with exit 2`, async () => {
      const r = await vouch([...base, ...args]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /\[ERR_USAGE\]/);
    });
  }

  it('needs --data-dir and at least one --policy', async () => {
    const noDir = await vouch(['server', '--policy', 'p.yaml']);
    assert.equal(noDir.code, 2);
    assert.match(noDir.stderr, /--data-dir/);
    const noPolicy = await vouch(['server', '--data-dir', join(dir, 'data')]);
    assert.equal(noPolicy.code, 2);
    assert.match(noPolicy.stderr, /at least one --policy is needed/);
  });

  it('a TLS file that cannot be read is exit 3', async () => {
    const r = await vouch([...base, '--tls-cert', join(dir, 'none.crt'), '--tls-key', join(dir, 'none.key')]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /\[ERR_INPUT_UNREADABLE\]/);
  });
});

describe('cli: serve', () => {
  it('prints the URL on stderr, serves, logs JSON lines, and shuts down when stopped', async () => {
    let stderr = '';
    const io: CliIO = { stdout: () => undefined, stderr: (t) => (stderr += t), env: {} };
    const stop = new AbortController();
    const done = serve(
      {
        host: '127.0.0.1',
        port: 0,
        dataDir: join(tempDir(), 'd'),
        logLevel: 'info',
        bodyLimit: 4096,
        timeoutMs: 1000,
        maxInflight: 16,
      },
      io,
      new TestGate(),
      stop.signal,
    );
    while (!stderr.includes('listening on')) await new Promise((r) => setTimeout(r, 5));
    const url = /vouch server listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stderr)?.[1] as string;
    const res = await fetch(`${url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
    stop.abort();
    await done;
    assert.match(stderr, /vouch server: shutting down\n$/);
    const line = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['msg'] === 'request');
    assert.deepEqual([line?.['method'], line?.['route'], line?.['status']], ['GET', '/healthz', 200]);
    await assert.rejects(fetch(`${url}/healthz`), TypeError);
  });

  it('stops on SIGTERM and SIGINT, once, and removes its handlers', () => {
    const count = () => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const before = count();
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const stop = stopOnSignals();
      assert.deepEqual(
        count(),
        before.map((n) => n + 1),
      );
      process.emit(sig);
      assert.equal(stop.signal.aborted, true);
      assert.deepEqual(count(), before);
      stop.dispose();
    }
  });
});
