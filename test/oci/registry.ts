// A real registry for the OCI tests: Debian's docker-registry (distribution 2.8) on a free loopback port with
// filesystem storage in a temporary directory, without auth, with htpasswd Basic auth, or with token auth
// against a token server run here (ES256 JWTs with an x5c chain, verified by the registry itself).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, type KeyObject, randomUUID, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const USER = { username: 'vouch', password: 'correct horse battery staple' } as const;

export interface TestRegistry {
  /** `127.0.0.1:<port>` (or the host asked for), as written in references. */
  readonly host: string;
  /** Filesystem storage root (docker/registry/v2/...), for tests that tamper with stored bytes. */
  readonly storage: string;
  /** Token requests seen by the token server (token auth only): the scopes and whether credentials came. */
  readonly tokenRequests: { scope: string[]; service: string | null; user: string | null }[];
  stop(): Promise<void>;
}

export interface RegistryOptions {
  readonly auth?: 'none' | 'basic' | 'token';
  /** Loopback address to listen on (127.0.0.2 is loopback but not one of the hosts Vouch trusts over HTTP). */
  readonly address?: string;
}

export function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on('error', reject);
    s.listen(0, address, () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

interface TokenServer {
  readonly realm: string;
  readonly certPath: string;
  readonly requests: TestRegistry['tokenRequests'];
  close(): Promise<void>;
}

/** docker token spec (distribution docs/spec/auth/token.md, jwt.md): Basic-authenticated GET → signed JWT. */
async function startTokenServer(dir: string, service: string, issuer: string): Promise<TokenServer> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=vouch-test-token-issuer',
    ],
    { stdio: 'ignore' },
  );
  const key: KeyObject = createPrivateKey(readFileSync(keyPath));
  const x5c = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
  const requests: TestRegistry['tokenRequests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    const scopes = url.searchParams.getAll('scope');
    const auth = req.headers.authorization;
    const creds = auth?.startsWith('Basic ')
      ? Buffer.from(auth.slice(6), 'base64').toString('utf8')
      : undefined;
    const user = creds === undefined ? null : creds.slice(0, creds.indexOf(':'));
    requests.push({ scope: scopes, service: url.searchParams.get('service'), user });
    if (creds !== `${USER.username}:${USER.password}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(':') as [string, string, string];
      return { type, name, actions: actions.split(',') };
    });
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [x5c] }));
    const claims = b64url(
      JSON.stringify({
        iss: issuer,
        sub: USER.username,
        aud: service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access,
      }),
    );
    const sig = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: `${header}.${claims}.${b64url(sig)}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPath,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${log()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer ${url}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One docker-registry process on `address:port`, ready; undefined when the port was taken meanwhile. */
async function launch(
  config: Record<string, unknown>,
  dir: string,
  address: string,
): Promise<{ port: number; stop: () => Promise<void> } | undefined> {
  const port = await freePort(address);
  // JSON is YAML: the registry reads it as its configuration file.
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, JSON.stringify({ ...config, http: { addr: `${address}:${port}` } }));
  let output = '';
  const child = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitReady(`http://${address}:${port}/v2/`, child, () => output.slice(-2000));
    // Between freePort and the registry's bind another process may take the port: make sure it is ours.
    await new Promise((r) => setTimeout(r, 100));
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${output.slice(-2000)}`);
  } catch (e) {
    await stop();
    if (/address already in use/.test(output)) return undefined;
    throw e;
  }
  return { port, stop };
}

/** Starts docker-registry; call `stop()` in an `after` hook. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const address = opts.address ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'vouch-registry-'));
  const storage = join(dir, 'data');
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true } },
  };
  let token: TokenServer | undefined;
  if (opts.auth === 'basic') {
    const htpasswd = execFileSync('htpasswd', ['-nbB', USER.username, USER.password], { encoding: 'utf8' });
    writeFileSync(join(dir, 'htpasswd'), htpasswd);
    config['auth'] = { htpasswd: { realm: 'vouch-test', path: join(dir, 'htpasswd') } };
  } else if (opts.auth === 'token') {
    token = await startTokenServer(dir, 'vouch-test-registry', 'vouch-test-issuer');
    config['auth'] = {
      token: {
        realm: token.realm,
        service: 'vouch-test-registry',
        issuer: 'vouch-test-issuer',
        rootcertbundle: token.certPath,
      },
    };
  }
  const cleanup = async () => {
    await token?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const running = await launch(config, dir, address);
      if (running === undefined) continue;
      return {
        host: `${address}:${running.port}`,
        storage,
        tokenRequests: token?.requests ?? [],
        stop: async () => {
          await running.stop();
          await cleanup();
        },
      };
    }
    throw new Error('docker-registry: no free port after 3 attempts');
  } catch (e) {
    await cleanup();
    throw e;
  }
}
