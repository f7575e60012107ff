import { basename, dirname, join } from 'node:path';
import { decodeUtf8, digestBytes, parseJson, readInput, toHex, VouchError } from '../../core/index.js';
import type { LockContext } from './context.js';
import { isFile, manifestAt, manifestOf } from './installed.js';
import type { PackageGraph } from './model.js';
import { readNpmLockfile } from './npm.js';
import { readPnpmLockfile } from './pnpm.js';
import { readYarnLockfile } from './yarn.js';

export interface ReadLockfileOptions {
  /** A lockfile of any name; its dialect is detected from the content. */
  readonly lockfile?: string;
  /** The project folder: searched for a lockfile when `lockfile` is absent; holds node_modules. */
  readonly dir?: string;
  /** The project's package.json (default: package.json beside the lockfile, when present). */
  readonly packageJson?: string;
  /** Read licences from installed node_modules/<pkg>/package.json when the lockfile lacks them (default true). */
  readonly installed?: boolean;
}

/** The names package managers write, in the order they are looked for. */
export const LOCKFILE_NAMES = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'yarn.lock',
] as const;

/** Lockfiles of large monorepos reach tens of MB; far beyond that is not a lockfile. */
const MAX_LOCKFILE = 256 * 1024 * 1024;

/** Reads a lockfile (npm, pnpm, yarn v1 or Berry) into the package graph, without network or npm. */
export async function readLockfile(opts: ReadLockfileOptions = {}): Promise<PackageGraph> {
  const path = opts.lockfile ?? (await findLockfile(opts.dir ?? '.'));
  const dir = opts.dir ?? dirname(path);
  const bytes = await readInput(path, MAX_LOCKFILE);
  const sha256 = toHex(digestBytes('sha256', bytes));
  // A UTF-8 BOM is legal in JSON/YAML files written by some editors; the parsers do not expect it.
  const text = decodeUtf8(bytes, path).replace(/^\uFEFF/, '');
  // An explicit --package-json must exist; the default beside the lockfile is optional.
  const manifest =
    opts.packageJson === undefined
      ? await manifestAt(join(dirname(path), 'package.json'))
      : manifestOf(parseJson(await readInput(opts.packageJson), opts.packageJson));
  const ctx: LockContext = { path, dir, text, sha256, manifest, installed: opts.installed ?? true };
  switch (detect(text)) {
    case 'npm':
      return readNpmLockfile(ctx);
    case 'pnpm':
      return readPnpmLockfile(ctx);
    case 'yarn':
      return readYarnLockfile(ctx);
    case undefined:
      throw new VouchError(
        'ERR_LOCKFILE_MALFORMED',
        `${path}: not a package-lock.json, pnpm-lock.yaml or yarn.lock (unrecognised content)`,
        { details: { path } },
      );
  }
}

async function findLockfile(dir: string): Promise<string> {
  const found: string[] = [];
  for (const name of LOCKFILE_NAMES) {
    const p = join(dir, name);
    if (await isFile(p)) found.push(p);
  }
  if (found.length > 1) {
    throw new VouchError(
      'ERR_USAGE',
      `${dir} holds several lockfiles (${found.map((p) => basename(p)).join(', ')}); choose one with --lockfile`,
      {
        details: { dir, found },
      },
    );
  }
  const only = found[0];
  if (only === undefined) {
    throw new VouchError(
      'ERR_LOCKFILE_NOT_FOUND',
      `no lockfile in ${dir} (looked for ${LOCKFILE_NAMES.join(', ')})`,
      {
        details: { dir },
      },
    );
  }
  return only;
}

/** Dialect by content: file names in vectors, CI caches and `--lockfile` arguments are arbitrary. */
function detect(text: string): 'npm' | 'pnpm' | 'yarn' | undefined {
  const head = text.slice(0, 4096);
  if (/^\s*[[{]/.test(head)) return 'npm';
  if (/^lockfileVersion:/m.test(head)) return 'pnpm';
  if (/^#\s+yarn\s+lockfile\s+v1\s*$/im.test(head) || /^"?__metadata"?:/m.test(head)) return 'yarn';
  return undefined;
}
