import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { VouchError } from './errors.js';

/** The coded error for a file that cannot be read; a VouchError (already coded) passes through. */
export function unreadable(path: string, e: unknown): VouchError {
  if (e instanceof VouchError) return e;
  return new VouchError(
    'ERR_INPUT_UNREADABLE',
    `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    {
      cause: e,
    },
  );
}

/** Inputs larger than this are refused before they are read (JSON documents, keys, signatures). */
export const DEFAULT_MAX_INPUT = 64 * 1024 * 1024;

/** Reads a whole small file (bundle, key, signature) with a size cap checked before reading. */
export async function readInput(path: string, maxBytes = DEFAULT_MAX_INPUT): Promise<Buffer> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new VouchError('ERR_INPUT_UNREADABLE', `${path} is not a regular file`);
    size = st.size;
  } catch (e) {
    throw unreadable(path, e);
  }
  if (size > maxBytes) {
    throw new VouchError('ERR_INPUT_TOO_LARGE', `${path} is ${size} bytes; the limit is ${maxBytes}`, {
      details: { path, size, limit: maxBytes },
    });
  }
  try {
    return await readFile(path);
  } catch (e) {
    throw unreadable(path, e);
  }
}

/**
 * Writes a file atomically: a temporary sibling is written, flushed and renamed, so a reader never sees
 * half a file and a failure leaves nothing behind. `mode` applies to secrets (0o600 for private keys).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { mode?: number; overwrite?: boolean } = {},
): Promise<void> {
  if (opts.overwrite === false) {
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new VouchError('ERR_OUTPUT_EXISTS', `${path} already exists`);
  }
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode: opts.mode ?? 0o644, flag: 'wx' });
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new VouchError(
      'ERR_OUTPUT_WRITE',
      `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: e,
      },
    );
  }
}

/** Refuses up front when any output exists, so a command writing several files writes all or none. */
export async function assertAbsent(paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    const exists = await stat(p).then(
      () => true,
      () => false,
    );
    if (exists) throw new VouchError('ERR_OUTPUT_EXISTS', `${p} already exists (use --force to overwrite)`);
  }
}
