import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodeUtf8, fromBase64, isRecord, parseJson, VouchError } from '../core/index.js';
import { isRegistryHost } from './reference.js';

/** A username and password (or a registry token used as the password). Never printed, never logged. */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Docker's config.json is small; anything past 4 MiB is not one. */
const MAX_DOCKER_CONFIG = 4 * 1024 * 1024;

/** Docker Hub is written in config.json under any of these keys (docker's own login writes the first). */
const DOCKER_HUB_KEYS = ['index.docker.io', 'docker.io', 'registry-1.docker.io'];

function authError(message: string): VouchError {
  return new VouchError('ERR_OCI_AUTH', message);
}

/** `https://host:port/v1/` → `host:port`, the form config.json keys take after docker's normalisation. */
function normaliseKey(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

function keysFor(registry: string): readonly string[] {
  return registry === 'docker.io' ? DOCKER_HUB_KEYS : [registry];
}

function lookup(map: unknown, registry: string): unknown {
  if (!isRecord(map)) return undefined;
  const wanted = keysFor(registry);
  const key = Object.keys(map).find((k) => wanted.includes(normaliseKey(k)));
  return key === undefined ? undefined : map[key];
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (docker's cli/config). */
export function dockerConfigPath(env: Env): string {
  const dir = env['DOCKER_CONFIG'];
  if (dir !== undefined && dir !== '') return join(dir, 'config.json');
  return join(env['HOME'] ?? homedir(), '.docker', 'config.json');
}

async function readDockerConfig(path: string): Promise<Record<string, unknown> | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VouchError(
      'ERR_INPUT_UNREADABLE',
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`,
      {
        cause: e,
      },
    );
  }
  if (bytes.byteLength > MAX_DOCKER_CONFIG)
    throw new VouchError('ERR_INPUT_TOO_LARGE', `${path} is over ${MAX_DOCKER_CONFIG} bytes`);
  // The file holds secrets: a parse error names the file, never quotes it.
  let json: unknown;
  try {
    json = parseJson(bytes, path);
  } catch {
    throw new VouchError('ERR_INPUT_MALFORMED', `${path} is not valid JSON`, { details: { path } });
  }
  if (!isRecord(json)) throw new VouchError('ERR_INPUT_MALFORMED', `${path} is not a JSON object`);
  return json;
}

function fromEntry(
  entry: Record<string, unknown>,
  registry: string,
  path: string,
): RegistryCredentials | undefined {
  const where = `${path} (auths entry for ${registry})`;
  if (typeof entry['identitytoken'] === 'string' && entry['identitytoken'] !== '')
    throw authError(`${where} holds an identity token; Vouch does not support OAuth2 refresh tokens yet`);
  const auth = entry['auth'];
  if (typeof auth === 'string' && auth !== '') {
    let text: string;
    try {
      text = decodeUtf8(fromBase64(auth));
    } catch {
      throw authError(`${where}: "auth" is not base64 of username:password`);
    }
    const i = text.indexOf(':');
    if (i <= 0) throw authError(`${where}: "auth" is not base64 of username:password`);
    return { username: text.slice(0, i), password: text.slice(i + 1) };
  }
  const { username, password } = entry;
  if (typeof username === 'string' && username !== '' && typeof password === 'string')
    return { username, password };
  return undefined;
}

const UNSUPPORTED_HELPER =
  'Vouch does not run docker credential helpers yet; set VOUCH_REGISTRY_USERNAME, VOUCH_REGISTRY_PASSWORD and VOUCH_REGISTRY_HOSTS';

/** One name per registry: lowercase, Docker Hub's aliases as `docker.io` (parseReference's form). */
function canonicalHost(host: string): string {
  const h = host.toLowerCase();
  return DOCKER_HUB_KEYS.includes(h) ? 'docker.io' : h;
}

function boundTo(registries: readonly string[], registry: string): boolean {
  const want = canonicalHost(registry);
  return registries.some((r) => canonicalHost(r) === want);
}

/** VOUCH_REGISTRY_HOSTS as a list (comma-separated `host[:port]`), or undefined when unset or empty. */
function envHosts(env: Env): string[] | undefined {
  const value = env['VOUCH_REGISTRY_HOSTS'];
  if (value === undefined || value.trim() === '') return undefined;
  const hosts = value
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  for (const h of hosts) {
    if (!isRegistryHost(h))
      throw new VouchError('ERR_USAGE', `VOUCH_REGISTRY_HOSTS: "${h}" is not a registry host[:port]`);
  }
  return hosts;
}

/** Credentials with the registries (`host[:port]` as in image references) they may be sent to. */
export interface BoundCredentials extends RegistryCredentials {
  readonly registries: readonly string[];
}

export interface CredentialSources {
  /** Given by the caller; used only for the registries they name. */
  readonly explicit?: BoundCredentials;
  /** Where VOUCH_REGISTRY_USERNAME/PASSWORD/HOSTS, DOCKER_CONFIG and HOME are read. */
  readonly env: Env;
  /**
   * The registry VOUCH_REGISTRY_USERNAME/PASSWORD are for when VOUCH_REGISTRY_HOSTS is unset: the one image
   * a CLI command names. Without either, those variables go to no registry (a server must list its hosts).
   */
  readonly envRegistry?: string;
}

/**
 * Credentials for `registry`, first found wins: explicit ones bound to it, then
 * VOUCH_REGISTRY_USERNAME/PASSWORD when it is one of VOUCH_REGISTRY_HOSTS (else `envRegistry`), then docker's
 * config.json (`auths.<host>.auth` or username/password). A registry named by an image is attacker input:
 * credentials never go to a registry they were not given for. A configured credential helper
 * (`credHelpers`, `credsStore`) is a coded error rather than a silent anonymous attempt. Looked up only when a
 * registry asks for authentication.
 */
export async function lookupCredentials(
  registry: string,
  sources: CredentialSources,
): Promise<RegistryCredentials | undefined> {
  const { explicit, env } = sources;
  if (explicit !== undefined && boundTo(explicit.registries, registry))
    return { username: explicit.username, password: explicit.password };
  const username = env['VOUCH_REGISTRY_USERNAME'];
  const password = env['VOUCH_REGISTRY_PASSWORD'];
  if (username !== undefined || password !== undefined) {
    if (username === undefined || username === '' || password === undefined)
      throw new VouchError(
        'ERR_USAGE',
        'set both VOUCH_REGISTRY_USERNAME and VOUCH_REGISTRY_PASSWORD, or neither',
      );
    const hosts = envHosts(env) ?? (sources.envRegistry === undefined ? [] : [sources.envRegistry]);
    if (boundTo(hosts, registry)) return { username, password };
  }
  const path = dockerConfigPath(env);
  const config = await readDockerConfig(path);
  if (config === undefined) return undefined;
  const helper = lookup(config['credHelpers'], registry);
  if (typeof helper === 'string' && helper !== '')
    throw authError(
      `${path} names credential helper docker-credential-${helper} for ${registry}; ${UNSUPPORTED_HELPER}`,
    );
  const entry = lookup(config['auths'], registry);
  const found = isRecord(entry) ? fromEntry(entry, registry, path) : undefined;
  if (found !== undefined) return found;
  const store = config['credsStore'];
  if (typeof store === 'string' && store !== '')
    throw authError(
      `${path} keeps credentials in docker-credential-${store} (credsStore); ${UNSUPPORTED_HELPER}`,
    );
  return undefined;
}
