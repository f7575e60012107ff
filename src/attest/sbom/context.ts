import { basename, resolve } from 'node:path';
import { fromBase64, toHex, VouchError } from '../../core/index.js';
import type { NodeInput } from './graph.js';
import type { Manifest } from './installed.js';
import type { HashAlg, PackageHash } from './model.js';
import { REGISTRY } from './purl.js';

/** Everything a dialect reader needs; the text is attacker-controlled (a repository's file). */
export interface LockContext {
  /** The lockfile path as given (messages name it). */
  readonly path: string;
  /** Project folder: node_modules and workspace package.json files are read relative to it. */
  readonly dir: string;
  readonly text: string;
  readonly sha256: string;
  /** The root package.json, when there is one. */
  readonly manifest: Manifest | undefined;
  readonly installed: boolean;
}

/** 1-based line of the first occurrence of `needle` in the text (for messages about a key). */
export function lineOf(text: string, needle: string): number | undefined {
  const at = text.indexOf(needle);
  return at < 0 ? undefined : lineAt(text, at);
}

/** ERR_LOCKFILE_MALFORMED naming the file and, when known, the line. */
export function malformed(ctx: { path: string }, message: string, line?: number): VouchError {
  const where = line === undefined ? ctx.path : `${ctx.path}:${line}`;
  return new VouchError('ERR_LOCKFILE_MALFORMED', `${where}: ${message}`, {
    details: { path: ctx.path, ...(line !== undefined && { line }) },
  });
}

/** ERR_LOCKFILE_VERSION for a format this reader does not know, with what it does know. */
export function unsupportedVersion(
  ctx: { path: string },
  found: string,
  hint: string,
  line?: number,
): VouchError {
  const where = line === undefined ? ctx.path : `${ctx.path}:${line}`;
  return new VouchError(
    'ERR_LOCKFILE_VERSION',
    `${where}: lockfile version ${found} is not supported; ${hint}`,
    {
      details: { path: ctx.path, version: found, ...(line !== undefined && { line }) },
    },
  );
}

const SRI_ALGS: Readonly<Record<string, HashAlg>> = {
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
};

/**
 * W3C Subresource Integrity (`sha512-<base64> sha1-<base64>`) to hex digests. Unknown algorithms are
 * skipped, as SRI says; a known one with a bad digest is a malformed lockfile.
 */
export function sriHashes(
  ctx: { path: string },
  sri: string,
  where: () => number | undefined,
): PackageHash[] {
  const out: PackageHash[] = [];
  for (const token of sri.trim().split(/\s+/)) {
    const dash = token.indexOf('-');
    const alg = SRI_ALGS[token.slice(0, dash)];
    if (dash < 0 || alg === undefined) continue;
    // SRI allows `?options` after the digest (W3C SRI §3.5); they carry no bytes of the digest.
    const b64 = token.slice(dash + 1).split('?', 1)[0] ?? '';
    let hex: string;
    try {
      hex = toHex(fromBase64(b64));
    } catch {
      throw malformed(ctx, `integrity "${token}" is not valid base64`, where());
    }
    if (hex.length !== HASH_HEX_LENGTH[alg])
      throw malformed(ctx, `integrity "${token}" has the wrong length for ${alg}`, where());
    if (!out.some((h) => h.alg === alg && h.hex === hex)) out.push({ alg, hex });
  }
  return out;
}

const HASH_HEX_LENGTH: Readonly<Record<HashAlg, number>> = {
  'SHA-1': 40,
  'SHA-256': 64,
  'SHA-384': 96,
  'SHA-512': 128,
};

/**
 * The project node: identity from package.json, else from what the lockfile says about its root, else the
 * folder name (a purl needs a name; the version may stay empty).
 */
export function rootInput(
  ctx: LockContext,
  fromLock: { name?: string | undefined; version?: string | undefined; license?: string | undefined },
): NodeInput {
  const m = ctx.manifest;
  const license = m?.license ?? fromLock.license;
  const licenseSource = m?.license !== undefined ? 'package.json' : 'lockfile';
  return {
    name: m?.name ?? fromLock.name ?? basename(resolve(ctx.dir)),
    version: m?.version ?? fromLock.version ?? '',
    source: REGISTRY,
    kind: 'root',
    ...(license !== undefined && { license, licenseSource }),
  };
}

/** A workspace node: version and licence from its package.json, when it has one. */
export function workspaceInput(name: string, m: Manifest | undefined): NodeInput {
  return {
    name,
    version: m?.version ?? '',
    source: { type: 'local' },
    kind: 'workspace',
    ...(m?.license !== undefined && { license: m.license, licenseSource: 'package.json' as const }),
  };
}

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
