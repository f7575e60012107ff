import type { Command } from 'commander';
import { readInput } from '../../core/index.js';
import { loadPolicies, type Tier } from '../../policy/index.js';
import { createServer, type Gate, LOG_LEVELS, type LogLevel } from '../../server/index.js';
import { createPolicyGate } from '../../verify/index.js';
import { type CommandContext, usage } from '../context.js';
import type { CliIO } from '../io.js';
import { VERSION } from '../version.js';

interface ServerFlags {
  listen: string;
  dataDir: string;
  tlsCert?: string;
  tlsKey?: string;
  policy: string[];
  tier: string;
  allowInsecureRegistry?: boolean;
  logLevel: string;
  bodyLimit: string;
  maxInflight: string;
  timeout: string;
}

/** What the verification gate behind the server is built from. */
export interface ServerGateOptions {
  /** Policy files and directories as given by `--policy`. */
  readonly policies: readonly string[];
  readonly tier: Tier;
  readonly allowInsecureRegistry: boolean;
}

/** Everything `serve` needs besides the gate, checked. */
export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly logLevel: LogLevel;
  readonly bodyLimit: number;
  readonly maxInflight: number;
  readonly timeoutMs: number;
}

/** A certificate chain or key is a few KiB; this only stops a wrong path from reading a disk image. */
const MAX_PEM = 1024 * 1024;

/**
 * The verification engine behind the server: the policies loaded and compiled, registry access, the tier.
 * Kept apart from the flags and the HTTP side so the engine is built in this one call.
 */
export async function buildServerGate(options: ServerGateOptions, env: NodeJS.ProcessEnv): Promise<Gate> {
  const gate = await createPolicyGate({
    policies: await loadPolicies(options.policies),
    tier: options.tier,
    registry: { allowInsecureRegistry: options.allowInsecureRegistry, env, userAgent: `vouch/${VERSION}` },
  });
  return {
    policies: gate.policies,
    verifyImage: (image, ctx) => gate.verifyImage(image, ctx),
    verify: (r) =>
      gate.verify({
        artifact: r.artifact,
        evidence: r.bundles.map((b) => ({ kind: 'bundle', bytes: b.bytes, source: b.source })),
        ...(r.tier === undefined ? {} : { tier: r.tier }),
        ...(r.policy === undefined ? {} : { policy: r.policy }),
      }),
  };
}

/** `host:port` or `[ipv6]:port`; port 0 asks for a free one. */
function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (m === null || port > 65_535) throw usage(`--listen ${value}: expected host:port, e.g. 127.0.0.1:8443`);
  return { host: (m[1] ?? m[2]) as string, port };
}

function positive(flag: string, value: string, max: number): number {
  const n = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= max)) throw usage(`${flag} ${value}: expected a whole number from 1 to ${max}`);
  return n;
}

async function configFrom(o: ServerFlags): Promise<{ config: ServeConfig; gate: ServerGateOptions }> {
  const { host, port } = parseListen(o.listen);
  if (o.tier !== 'fast' && o.tier !== 'deep') throw usage(`--tier ${o.tier}: expected fast or deep`);
  if (!(LOG_LEVELS as readonly string[]).includes(o.logLevel))
    throw usage(`--log-level ${o.logLevel}: expected one of ${LOG_LEVELS.join(', ')}`);
  if (o.policy.length === 0)
    throw usage('at least one --policy is needed: a server without policies denies everything');
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
    throw usage('--tls-cert and --tls-key go together');
  const config: ServeConfig = {
    host,
    port,
    dataDir: o.dataDir,
    logLevel: o.logLevel as LogLevel,
    bodyLimit: positive('--body-limit', o.bodyLimit, 64 * 1024 * 1024),
    maxInflight: positive('--max-inflight', o.maxInflight, 1024),
    timeoutMs: positive('--timeout', o.timeout, 300) * 1000,
    ...(o.tlsCert === undefined || o.tlsKey === undefined
      ? {}
      : { tls: { cert: await readInput(o.tlsCert, MAX_PEM), key: await readInput(o.tlsKey, MAX_PEM) } }),
  };
  return {
    config,
    gate: { policies: o.policy, tier: o.tier, allowInsecureRegistry: o.allowInsecureRegistry === true },
  };
}

/** Serves until `stop` aborts, then closes gracefully (requests in flight finish). Logs go to stderr. */
export async function serve(config: ServeConfig, io: CliIO, gate: Gate, stop: AbortSignal): Promise<void> {
  const server = await createServer({
    host: config.host,
    port: config.port,
    dataDir: config.dataDir,
    gate,
    version: VERSION,
    bodyLimit: config.bodyLimit,
    maxInflight: config.maxInflight,
    timeoutMs: config.timeoutMs,
    log: { level: config.logLevel, write: (line) => io.stderr(line) },
    ...(config.tls === undefined ? {} : { tls: config.tls }),
  });
  io.stderr(`vouch server listening on ${server.url}\n`);
  if (!stop.aborted) await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
  io.stderr('vouch server: shutting down\n');
  await server.close();
}

/** Aborts on the first SIGINT or SIGTERM; a second one gets Node's default (immediate exit). */
export function stopOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    dispose();
    controller.abort();
  };
  const dispose = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { signal: controller.signal, dispose };
}

export function registerServer(program: Command, { io }: CommandContext): void {
  program
    .command('server')
    .description(
      'Run the Vouch server: POST /api/v1/verify, GET /healthz and the Kubernetes admission webhook POST /k8s/validate.',
    )
    .option('--listen <host:port>', 'address to listen on (port 0: a free port)', '127.0.0.1:8080')
    .requiredOption('--data-dir <dir>', 'state directory (created 0700): server.json, later the log and keys')
    .option('--tls-cert <file>', 'PEM certificate chain: serve HTTPS (the admission webhook requires it)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert (unencrypted; mount it as a secret)')
    .option(
      '--policy <file|dir>',
      'policy file, or a directory of them (repeatable)',
      (v, all: string[]) => [...all, v],
      [],
    )
    .option('--tier <tier>', 'default tier: fast | deep', 'fast')
    .option('--allow-insecure-registry', 'speak plain HTTP to registries other than localhost')
    .option('--log-level <level>', `${LOG_LEVELS.join(' | ')}`, 'info')
    .option('--body-limit <bytes>', 'largest request body', String(1024 * 1024))
    .option('--timeout <seconds>', 'time to receive a request and to decide it', '10')
    .option(
      '--max-inflight <n>',
      'verifications running at once in the whole server (more wait, then 503)',
      '16',
    )
    .addHelpText(
      'after',
      `
The URL is printed on stderr once the server listens; logs are JSON lines on stderr. SIGINT or SIGTERM stops
accepting connections, lets requests in flight finish, and exits 0.

Examples:
  vouch server --listen 127.0.0.1:8080 --data-dir /var/lib/vouch --policy policies/
  vouch server --listen 0.0.0.0:8443 --data-dir /var/lib/vouch --policy /etc/vouch/images.yaml \\
      --tls-cert /tls/tls.crt --tls-key /tls/tls.key`,
    )
    .action(async (o: ServerFlags) => {
      const { config, gate } = await configFrom(o);
      // Pods name the registries: the server has no "own" registry to fall back to (docs/oci.md).
      const env = io.env;
      if (
        (env['VOUCH_REGISTRY_USERNAME'] ?? env['VOUCH_REGISTRY_PASSWORD']) !== undefined &&
        !env['VOUCH_REGISTRY_HOSTS']?.trim()
      )
        io.stderr(
          'vouch server: VOUCH_REGISTRY_USERNAME/PASSWORD are not used: set VOUCH_REGISTRY_HOSTS to the registries they are for\n',
        );
      const built = await buildServerGate(gate, io.env);
      const stop = stopOnSignals();
      try {
        await serve(config, io, built, stop.signal);
      } finally {
        stop.dispose();
      }
    });
}
