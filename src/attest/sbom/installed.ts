import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import parseSpdx from 'spdx-expression-parse';
import { isRecord, parseJson, readInput, unreadable } from '../../core/index.js';
import type { GraphBuilder } from './graph.js';

/** The fields of a package.json the readers use; everything else is ignored. */
export interface Manifest {
  readonly name?: string;
  readonly version?: string;
  readonly license?: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
  readonly optionalDependencies: Readonly<Record<string, string>>;
  readonly workspaces: readonly string[];
  /** yarn `resolutions` (forced ranges), keyed by the pattern as written. */
  readonly resolutions: Readonly<Record<string, string>>;
}

function isSpdx(expression: string): boolean {
  try {
    parseSpdx(expression);
    return true;
  } catch {
    return false;
  }
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/**
 * A licence as one string. package.json `license` is normally an SPDX expression; the deprecated forms
 * `license: {type}` and `licenses: [{type}, …]` become an SPDX expression when every type is one (a list
 * meant a choice, so `A OR B`), else the raw names joined with ", " for a reviewer to read.
 */
export function normalizeLicense(license: unknown, licenses?: unknown): string | undefined {
  if (typeof license === 'string') return license.trim() === '' ? undefined : license.trim();
  if (isRecord(license)) return normalizeLicense(license['type']);
  const list = Array.isArray(license) ? license : Array.isArray(licenses) ? licenses : undefined;
  if (list === undefined) return undefined;
  const names = list
    .map((l) => (typeof l === 'string' ? l : isRecord(l) ? l['type'] : undefined))
    .filter((n): n is string => typeof n === 'string' && n.trim() !== '')
    .map((n) => n.trim());
  if (names.length === 0) return undefined;
  if (names.length === 1) return names[0];
  if (names.every(isSpdx)) return names.map((n) => (/\s/.test(n) ? `(${n})` : n)).join(' OR ');
  return names.join(', ');
}

/** Reads the parts of a parsed package.json the readers need; wrong-typed fields are ignored. */
export function manifestOf(json: unknown): Manifest {
  const m = isRecord(json) ? json : {};
  const ws = m['workspaces'];
  const patterns = Array.isArray(ws)
    ? ws
    : isRecord(ws) && Array.isArray(ws['packages'])
      ? ws['packages']
      : [];
  const name = m['name'];
  const version = m['version'];
  const license = normalizeLicense(m['license'], m['licenses']);
  return {
    ...(typeof name === 'string' && name !== '' && { name }),
    ...(typeof version === 'string' && version !== '' && { version }),
    ...(license !== undefined && { license }),
    dependencies: stringMap(m['dependencies']),
    devDependencies: stringMap(m['devDependencies']),
    optionalDependencies: stringMap(m['optionalDependencies']),
    workspaces: patterns.filter((p): p is string => typeof p === 'string'),
    resolutions: stringMap(m['resolutions']),
  };
}

/** Whether `path` is a regular file; any stat failure (absent, unreadable folder) counts as no. */
export async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** A package.json that may be absent (a workspace's, the root's); present but broken is a coded error. */
export async function manifestAt(path: string): Promise<Manifest | undefined> {
  return (await isFile(path)) ? manifestOf(parseJson(await readInput(path), path)) : undefined;
}

/** Installed manifests are small; a larger file is not a package.json worth trusting. */
const MAX_MANIFEST = 1024 * 1024;

/**
 * The licence an installed package declares, when `path` holds a package.json whose version equals
 * `version` (a different version means the tree is not what the lockfile says, so it is not evidence).
 * Only a missing file (not installed, Yarn PnP) gives undefined; any other read failure (EACCES, EMFILE,
 * EIO) is ERR_INPUT_UNREADABLE, so the SBOM never silently loses licences to the machine's state.
 */
export async function installedLicense(path: string, version: string): Promise<string | undefined> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_MANIFEST) return undefined;
    text = bytes.toString('utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw unreadable(path, e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(json) || json['version'] !== version) return undefined;
  return normalizeLicense(json['license'], json['licenses']);
}

/** A node whose licence may be found in one of these installed package.json files (nearest first). */
export interface LicenseProbe {
  readonly id: string;
  readonly version: string;
  readonly paths: readonly string[];
}

/**
 * Reads in flight at once: enough to keep libuv's thread pool busy, far below any `ulimit -n` (a tree of
 * thousands of packages read all at once runs out of file descriptors).
 */
const READ_CONCURRENCY = 32;

/**
 * Fills licences from installed manifests under `dir/node_modules` (skipped at once when that folder does
 * not exist). Up to READ_CONCURRENCY reads run at once; results are applied in probe order, so the graph
 * stays deterministic.
 */
export async function addInstalledLicenses(
  b: GraphBuilder,
  dir: string,
  probes: readonly LicenseProbe[],
): Promise<void> {
  if (probes.length === 0) return;
  try {
    if (!(await stat(join(dir, 'node_modules'))).isDirectory()) return;
  } catch {
    return;
  }
  const found: (string | undefined)[] = new Array(probes.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < probes.length; i = next++) {
      const p = probes[i];
      if (p === undefined) continue;
      try {
        for (const path of p.paths) {
          found[i] = await installedLicense(join(dir, path), p.version);
          if (found[i] !== undefined) break;
        }
      } catch (e) {
        next = probes.length; // the call has failed: the other workers stop reading
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, probes.length) }, worker));
  probes.forEach((p, i) => {
    const license = found[i];
    if (license !== undefined) b.setLicense(p.id, license, 'package.json');
  });
}
