import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { VouchError } from '../../src/core/index.js';
import type { CheckResult, Decision } from '../../src/policy/index.js';
import {
  createServer,
  type Gate,
  type ImageContext,
  type RunningServer,
  type ServerOptions,
  type VerifyApiRequest,
} from '../../src/server/index.js';
import { tempDir } from '../helpers.js';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

/** A real AdmissionReview as the API server sends it (test/server/fixtures/admission/<name>.json). */
export function review(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, 'admission', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

export function check(
  id: string,
  outcome: CheckResult['outcome'],
  mode: CheckResult['mode'] = 'enforce',
  message = `${id} ${outcome}`,
): CheckResult {
  return { id, tier: 'fast', mode, outcome, message };
}

export function decision(allow: boolean, checks: readonly CheckResult[], image = 'x'): Decision {
  return {
    allow,
    tier: 'fast',
    policy: { name: 'prod-images', digest: `sha256:${'a'.repeat(64)}` },
    artifact: { digest: `sha256:${'b'.repeat(64)}`, name: image },
    checks,
    time: '2025-03-14T09:30:00.000Z',
  };
}

/**
 * A deterministic gate. An image is decided by the words in it: `evil` denies (signatures.threshold fails),
 * `warn` allows with a warn-mode failure, `broken` throws a coded error, `crash` throws a foreign one,
 * `slow` answers after `slowMs`; anything else allows. It records calls and the most calls in flight.
 */
export class TestGate implements Gate {
  readonly policies = [{ name: 'prod-images', digest: `sha256:${'a'.repeat(64)}` }];
  readonly images: { image: string; ctx: ImageContext }[] = [];
  readonly requests: VerifyApiRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    readonly opts: {
      slowMs?: number;
      delayMs?: number;
      verify?: (r: VerifyApiRequest) => Promise<Decision>;
    } = {},
  ) {}

  async verify(req: VerifyApiRequest): Promise<Decision> {
    this.requests.push(req);
    if (this.opts.verify !== undefined) return this.opts.verify(req);
    const ok = req.bundles.length > 0;
    return decision(ok, [check('signatures.threshold', ok ? 'pass' : 'fail')], req.artifact.name);
  }

  async verifyImage(image: string, ctx: ImageContext): Promise<Decision> {
    this.images.push({ image, ctx });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(image.includes('slow') ? (this.opts.slowMs ?? 60_000) : (this.opts.delayMs ?? 0));
      if (image.includes('broken')) throw new VouchError('ERR_OCI_NOT_FOUND', `${image}: manifest unknown`);
      if (image.includes('crash')) throw new Error('secret-token-123 leaked in a stack');
      if (image.includes('evil'))
        return decision(false, [
          check('signatures.threshold', 'fail', 'enforce', 'no signature by a trusted key'),
          check('attestations.slsa.present', 'pass'),
        ]);
      if (image.includes('warn'))
        return decision(true, [
          check('signatures.threshold', 'pass'),
          check('attestations.sbom.present', 'fail', 'warn', 'no SBOM attestation'),
        ]);
      return decision(true, [check('signatures.threshold', 'pass')]);
    } finally {
      this.inFlight--;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    if (ms > 1000) t.unref();
  });
}

export interface TestServer extends RunningServer {
  readonly logs: Record<string, unknown>[];
  readonly dataDir: string;
}

/** Starts a server on a free loopback port with JSON logs captured; closed when the test file ends. */
export async function startServer(
  gate: Gate = new TestGate(),
  extra: Partial<Omit<ServerOptions, 'gate' | 'log'>> = {},
): Promise<TestServer> {
  const logs: Record<string, unknown>[] = [];
  const dataDir = extra.dataDir ?? join(tempDir('vouch-server-'), 'data');
  const server = await createServer({
    version: '0.1.0',
    ...extra,
    dataDir,
    gate,
    log: { level: 'info', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  after(() => server.close());
  return { ...server, logs, dataDir };
}

export interface HttpResult {
  readonly status: number;
  readonly json: unknown;
  readonly text: string;
}

/** One request with fetch; `body` is sent as given when a string, else as JSON. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...headers };
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

export interface Trickled {
  /** The status line of the server's answer, '' when it closed (or reset) without one, 'still open'. */
  readonly statusLine: string;
  /** Milliseconds from connecting until the answer (or the close). */
  readonly ms: number;
}

/**
 * A slow client: sends `head` at once, then one more `byte` every `everyMs` (a slowloris trickle), until the
 * server answers or closes; gives up after `giveUpMs`. `ca` makes it speak TLS.
 */
export function trickle(
  url: string,
  head: string,
  opts: { everyMs: number; byte?: string; giveUpMs?: number; ca?: string },
): Promise<Trickled> {
  const u = new URL(url);
  const port = Number(u.port);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const s: Socket =
      opts.ca === undefined
        ? connect(port, u.hostname)
        : connectTls({ port, host: u.hostname, ca: opts.ca, servername: u.hostname });
    const done = (statusLine: string) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      s.destroy();
      resolve({ statusLine, ms: Date.now() - started });
    };
    const giveUp = setTimeout(() => done('still open'), opts.giveUpMs ?? 3000);
    s.once(opts.ca === undefined ? 'connect' : 'secureConnect', () => {
      s.write(head);
      timer = setInterval(() => {
        if (s.writable) s.write(opts.byte ?? ' ');
      }, opts.everyMs);
    });
    s.once('data', (d: Buffer) => done(d.toString('latin1').split('\r\n')[0] ?? ''));
    s.once('close', () => done(''));
    // A reset after connecting is the server closing on us; failing to connect is the test's failure.
    s.once('error', (e) => (timer === undefined ? reject(e) : done('')));
  });
}
