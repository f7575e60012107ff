import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isRecord, VouchError, writeFileAtomic } from '../core/index.js';

/** `<dataDir>/server.json`: who this server instance is. Later issues keep the log and keys beside it. */
export interface ServerInfo {
  /** Stable for the data directory: kept across restarts, so logs and audit records can name it. */
  readonly instanceId: string;
  /** RFC 3339 time of this start. */
  readonly startedAt: string;
  readonly version: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function previousInstanceId(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VouchError('ERR_INPUT_UNREADABLE', `cannot read ${file}`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new VouchError('ERR_INPUT_MALFORMED', `${file} is not valid JSON`, { cause: e });
  }
  const id = isRecord(value) ? value['instanceId'] : undefined;
  if (typeof id !== 'string' || !UUID.test(id))
    throw new VouchError('ERR_INPUT_MALFORMED', `${file}: instanceId must be a UUID`);
  return id;
}

/**
 * Creates the data directory if missing (0700: it will hold signing keys) and records this start in
 * `server.json`. An existing directory is used as it is; a file in its place is a usage error.
 */
export async function prepareDataDir(dir: string, version: string, now = new Date()): Promise<ServerInfo> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new VouchError('ERR_USAGE', `cannot create the data directory ${dir}`, { cause: e });
  }
  if (!(await stat(dir)).isDirectory()) throw new VouchError('ERR_USAGE', `${dir} is not a directory`);
  const file = join(dir, 'server.json');
  const info: ServerInfo = {
    instanceId: (await previousInstanceId(file)) ?? randomUUID(),
    startedAt: now.toISOString(),
    version,
  };
  await writeFileAtomic(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600, overwrite: true });
  return info;
}
