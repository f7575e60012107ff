import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodeUtf8, fromBase64, isRecord, parseJson, VouchError } from '../core/index.js';

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
  'Vouch does not run docker credential helpers yet; set VOUCH_REGISTRY_USERNAME and VOUCH_REGISTRY_PASSWORD';

/**
 * Credentials for `registry`, first found wins: explicit ones, then VOUCH_REGISTRY_USERNAME/PASSWORD, then
 * docker's config.json (`auths.<host>.auth` or username/password). A configured credential helper
 * (`credHelpers`, `credsStore`) is a coded error rather than a silent anonymous attempt. Looked up only when a
 * registry asks for authentication.
 */
export async function lookupCredentials(
  registry: string,
  explicit: RegistryCredentials | undefined,
  env: Env,
): Promise<RegistryCredentials | undefined> {
  if (explicit !== undefined) return explicit;
  const username = env['VOUCH_REGISTRY_USERNAME'];
  const password = env['VOUCH_REGISTRY_PASSWORD'];
  if (username !== undefined || password !== undefined) {
    if (username === undefined || username === '' || password === undefined)
      throw new VouchError(
        'ERR_USAGE',
        'set both VOUCH_REGISTRY_USERNAME and VOUCH_REGISTRY_PASSWORD, or neither',
      );
    return { username, password };
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
