import { parseJson, VouchError } from '../core/index.js';
import { reviewAdmission } from './admission.js';
import { prepareDataDir, type ServerInfo } from './data-dir.js';
import type { Gate } from './gate.js';
import { notFound, problemOf } from './http-errors.js';
import { GateSlots, startDeadline } from './limits.js';
import { parseVerifyRequest } from './request.js';
import { checkTlsMaterial } from './tls.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port, reported in `url`. */
  readonly port?: number;
  /** Created (0700) if missing; holds `server.json`. */
  readonly dataDir: string;
  readonly gate: Gate;
  /** Vouch's version, reported by /healthz and recorded in server.json. */
  readonly version: string;
  /** PEM certificate chain and private key: the server speaks HTTPS (the admission webhook must). */
  readonly tls?: { readonly cert: string | Uint8Array; readonly key: string | Uint8Array };
  /** Largest request body in bytes, default 1 MiB; larger is 413 ERR_REQUEST_TOO_LARGE. */
  readonly bodyLimit?: number;
  /** Milliseconds to receive a request (headers and body; slower is 408), and for the gate to decide it
   * (default 10 s). */
  readonly timeoutMs?: number;
  /** Open connections at once (default 1024); Node closes the ones beyond at once. */
  readonly maxConnections?: number;
  /** Images of one admission request verified at once (default 4). */
  readonly admissionConcurrency?: number;
  /** Gate calls running at once in the whole server, API and webhook together (default 16). */
  readonly maxInflight?: number;
  /** Gate calls waiting for one of those slots (default 4 × maxInflight); beyond, the server is busy (503). */
  readonly maxQueued?: number;
  /** One JSON line per request (pino) to `write`; absent: no logs. */
  readonly log?: { readonly level: LogLevel; write(line: string): void };
}

export interface RunningServer {
  /** `http(s)://host:port` with the port actually bound. */
  readonly url: string;
  readonly info: ServerInfo;
  /** Stops accepting connections, lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}

const MIB = 1024 * 1024;
const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  bodyLimit: MIB,
  timeoutMs: 10_000,
  admissionConcurrency: 4,
  maxInflight: 16,
  maxConnections: 1024,
};
/** Answer the API server this long before its own timeout, so the user sees our denial, not a timeout. */
const K8S_MARGIN_MS = 500;

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new TypeError(`createServer: ${name} must be a positive integer`);
  return value;
}

/** The API server appends `?timeout=<n>s` (the webhook's timeoutSeconds) to every call. */
function admissionTimeout(query: unknown, ours: number): number {
  const t =
    typeof query === 'object' && query !== null ? (query as Record<string, unknown>)['timeout'] : undefined;
  const m = typeof t === 'string' ? /^(\d{1,3})s$/.exec(t) : null;
  if (m === null) return ours;
  return Math.max(K8S_MARGIN_MS, Math.min(ours, Number(m[1]) * 1000 - K8S_MARGIN_MS));
}

/**
 * Starts the Vouch server: `GET /healthz`, `POST /api/v1/verify`, `POST /k8s/validate` (docs/server.md).
 * fastify is imported here, on first use, so no other command pays for it (decision 012).
 */
export async function createServer(opts: ServerOptions): Promise<RunningServer> {
  const port = opts.port ?? DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new TypeError('createServer: port out of range');
  const bodyLimit = positiveInteger('bodyLimit', opts.bodyLimit ?? DEFAULTS.bodyLimit);
  const timeoutMs = positiveInteger('timeoutMs', opts.timeoutMs ?? DEFAULTS.timeoutMs);
  const concurrency = positiveInteger(
    'admissionConcurrency',
    opts.admissionConcurrency ?? DEFAULTS.admissionConcurrency,
  );
  const maxConnections = positiveInteger('maxConnections', opts.maxConnections ?? DEFAULTS.maxConnections);
  const maxInflight = positiveInteger('maxInflight', opts.maxInflight ?? DEFAULTS.maxInflight);
  const slots = new GateSlots(maxInflight, opts.maxQueued ?? 4 * maxInflight);
  const { gate, version } = opts;
  const tls =
    opts.tls === undefined ? undefined : { cert: Buffer.from(opts.tls.cert), key: Buffer.from(opts.tls.key) };
  if (tls !== undefined) checkTlsMaterial(tls.cert, tls.key);
  const info = await prepareDataDir(opts.dataDir, version);

  // Node's limits on receiving one request, given at construction: a client trickling its headers or body
  // gets 408 once `timeoutMs` has passed. Node looks for such requests every connectionsCheckingInterval
  // (30 s by default, which let a 10 s timeout run to 40 s and more), so it looks far more often here.
  const receive = {
    requestTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.ceil(timeoutMs / 10))),
  };
  const { fastify, LogController } = await import('fastify');
  const app = fastify({
    bodyLimit,
    // fastify assigns this to the Node server after construction (0 would undo `receive`).
    requestTimeout: timeoutMs,
    forceCloseConnections: 'idle',
    // One line per request, written by the onResponse hook below, instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    logger: opts.log === undefined ? false : { level: opts.log.level, stream: { write: opts.log.write } },
    // https.createServer reads the same options as http.createServer.
    https: tls === undefined ? null : { ...tls, minVersion: 'TLSv1.2', ...receive },
    ...(tls === undefined ? { http: receive } : {}),
  });
  app.server.maxConnections = maxConnections;

  // JSON only; any other media type is 415. core's parser turns bad JSON or UTF-8 into coded errors.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as Buffer, 'request body'));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const p = problemOf(err);
    if (p.status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(p.status).send(p.body);
  });
  app.setNotFoundHandler((req, reply) => {
    const p = notFound(`${req.method} ${req.url.split('?')[0] ?? ''}`);
    return reply.code(p.status).send(p.body);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      {
        method: req.method,
        route: req.routeOptions.url ?? null,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
  });

  app.get('/healthz', async () => ({
    status: 'ok',
    version,
    policies: gate.policies.map((p) => ({ name: p.name, digest: p.digest })),
  }));

  app.post('/api/v1/verify', async (req) => {
    const request = parseVerifyRequest(req.body);
    const deadline = startDeadline(
      timeoutMs,
      () => new VouchError('ERR_POLICY_TIMEOUT', `no decision within ${timeoutMs} ms`),
    );
    try {
      // 200 for allow and deny alike: a deny is an answer, not an HTTP error.
      return await slots.run(deadline, () => gate.verify(request));
    } finally {
      deadline.clear();
    }
  });

  app.post('/k8s/validate', async (req) =>
    reviewAdmission(req.body, gate, {
      concurrency,
      slots,
      timeoutMs: admissionTimeout(req.query, timeoutMs),
      log: req.log,
    }),
  );

  const host = opts.host ?? DEFAULTS.host;
  let url: string;
  try {
    url = await app.listen({ host, port });
  } catch (e) {
    await app.close();
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new VouchError('ERR_USAGE', `cannot listen on ${host}:${port}: ${code}`, { cause: e });
  }
  return { url, info, close: () => app.close() };
}
