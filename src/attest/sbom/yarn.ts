import { join } from 'node:path';
import type * as YarnParsers from '@yarnpkg/parsers';
import type * as Tinyglobby from 'tinyglobby';
import { isRecord, lazyRequire } from '../../core/index.js';
import {
  type LockContext,
  lineAt,
  malformed,
  rootInput,
  sriHashes,
  unsupportedVersion,
  workspaceInput,
} from './context.js';
import { type EdgeKind, GraphBuilder } from './graph.js';
import { addInstalledLicenses, type LicenseProbe, type Manifest, manifestAt } from './installed.js';
import type { PackageGraph, PackageHash } from './model.js';
import { type PackageSource, REGISTRY, sourceOf } from './purl.js';

const parsers = lazyRequire<typeof YarnParsers>('@yarnpkg/parsers');
const tinyglobby = lazyRequire<typeof Tinyglobby>('tinyglobby');

/**
 * yarn.lock v1 (`# yarn lockfile v1`) and Berry (yarn 2+, `__metadata.version`), both read with yarn's own
 * parser. Keys are comma-joined descriptors (`name@range, name@range2`) that resolve to one entry; a
 * dependency `name: range` is found again as the descriptor `name@range`.
 */
export async function readYarnLockfile(ctx: LockContext): Promise<PackageGraph> {
  const parsed = parse(ctx);
  const meta = parsed['__metadata'];
  return meta === undefined ? readV1(ctx, parsed) : readBerry(ctx, parsed, meta);
}

type Entries = Map<string, { key: string; entry: Record<string, unknown> }>;

function parse(ctx: LockContext): Record<string, unknown> {
  try {
    return parsers().parseSyml(ctx.text);
  } catch (e) {
    // The v1 grammar reports `location.start.line`, the YAML path (Berry) `mark.line` counted from 0.
    const err = e as {
      message?: unknown;
      location?: { start?: { line?: unknown } };
      mark?: { line?: unknown };
    };
    const line =
      typeof err.location?.start?.line === 'number'
        ? err.location.start.line
        : typeof err.mark?.line === 'number'
          ? err.mark.line + 1
          : undefined;
    const why = typeof err.message === 'string' ? err.message.split('\n', 1)[0] : 'syntax error';
    throw malformed(ctx, `not a valid yarn.lock (${why})`, line);
  }
}

/** Line of an entry key (quoted or not, at the start of a line). */
function keyLine(ctx: LockContext, key: string): number | undefined {
  for (const form of [`\n"${key}":`, `\n${key}:`]) {
    const at = ctx.text.indexOf(form);
    if (at >= 0) return lineAt(ctx.text, at + 1);
  }
  return undefined;
}

/** Every descriptor of every entry → the entry; entries must be maps. */
function index(ctx: LockContext, parsed: Record<string, unknown>): Entries {
  const out: Entries = new Map();
  for (const [key, entry] of Object.entries(parsed)) {
    if (key === '__metadata') continue;
    if (!isRecord(entry))
      throw malformed(ctx, `entry ${JSON.stringify(key)} must be a map`, keyLine(ctx, key));
    for (const d of key.split(',')) out.set(d.trim(), { key, entry });
  }
  return out;
}

function str(
  ctx: LockContext,
  key: string,
  entry: Record<string, unknown>,
  field: string,
): string | undefined {
  const v = entry[field];
  if (v === undefined || typeof v === 'string') return v;
  throw malformed(ctx, `${JSON.stringify(key)}.${field} must be a string`, keyLine(ctx, key));
}

function deps(
  ctx: LockContext,
  key: string,
  entry: Record<string, unknown>,
  field: string,
): [string, string][] {
  const v = entry[field];
  if (v === undefined) return [];
  if (!isRecord(v)) throw malformed(ctx, `${JSON.stringify(key)}.${field} must be a map`, keyLine(ctx, key));
  return Object.entries(v).map(([name, range]) => {
    if (typeof range !== 'string')
      throw malformed(ctx, `${JSON.stringify(key)}.${field}.${name} must be a string`, keyLine(ctx, key));
    return [name, range];
  });
}

/** `@scope/name@range` → name and range (the name's own `@` is at index 0). */
function splitDescriptor(d: string): [string, string] {
  const at = d.indexOf('@', 1);
  return at < 0 ? [d, ''] : [d.slice(0, at), d.slice(at + 1)];
}

/**
 * yarn `resolutions` force a range wherever a package is wanted; the lockfile keeps the wanted descriptor
 * only when it was resolved normally, so a forced one is found under the forced range
 * (https://yarnpkg.com/configuration/manifest#resolutions). Parent-scoped patterns (`parent/name`) are applied to
 * the name alone.
 */
function forcedRanges(m: Manifest | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [pattern, range] of Object.entries(m?.resolutions ?? {})) {
    const parts = pattern.split('/');
    const last = parts.at(-1) ?? '';
    const prev = parts.at(-2);
    const target = prev?.startsWith('@') ? `${prev}/${last}` : last;
    out.set(target, range);
  }
  return out;
}

/**
 * Looks a dependency up by its descriptor, then by the range `resolutions` force on it. When the override
 * is unknown (no package.json given) but the lockfile holds exactly one version of that name, that is the
 * one an override chose; a name the lockfile lacks altogether stays unresolved (a truncated file).
 */
function finder(
  b: GraphBuilder,
  ids: ReadonlyMap<string, string>,
  lookup: (name: string, range: string) => string | undefined,
  forced: ReadonlyMap<string, string>,
): (name: string, range: string) => string | undefined {
  const byName = new Map<string, Set<string>>();
  for (const id of ids.values()) {
    const name = b.get(id)?.name;
    if (name === undefined) continue;
    const set = byName.get(name) ?? new Set<string>();
    set.add(id);
    byName.set(name, set);
  }
  return (name, range) => {
    const hit = lookup(name, range);
    if (hit !== undefined) return hit;
    const override = forced.get(`${name}@${range}`) ?? forced.get(name);
    if (override !== undefined) return lookup(name, override);
    const only = byName.get(name);
    return only?.size === 1 ? [...only][0] : undefined;
  };
}

/** An entry's dependency, which the lockfile must define: a missing one means a truncated or hand-edited file. */
function dependency(
  ctx: LockContext,
  key: string,
  find: (name: string, range: string) => string | undefined,
  name: string,
  range: string,
): string {
  const to = find(name, range);
  if (to !== undefined) return to;
  throw malformed(
    ctx,
    `${JSON.stringify(key)} depends on ${name}@${range}, which the lockfile does not define`,
    keyLine(ctx, key),
  );
}

// ---- yarn v1 ----

async function readV1(ctx: LockContext, parsed: Record<string, unknown>): Promise<PackageGraph> {
  const entries = index(ctx, parsed);
  const b = new GraphBuilder();
  const ids = new Map<string, string>();
  const probes: LicenseProbe[] = [];
  for (const [descriptor, { key, entry }] of entries) {
    if (ids.has(key)) continue;
    const [alias, range] = splitDescriptor(descriptor);
    // `alias@npm:real@^1` installs `real`.
    const name = range.startsWith('npm:') ? splitDescriptor(range.slice(4))[0] : alias;
    const version = str(ctx, key, entry, 'version');
    if (version === undefined)
      throw malformed(ctx, `${JSON.stringify(key)} has no version`, keyLine(ctx, key));
    const resolved = str(ctx, key, entry, 'resolved');
    const integrity = str(ctx, key, entry, 'integrity');
    const hashes = integrity === undefined ? [] : sriHashes(ctx, integrity, () => keyLine(ctx, key));
    const { url, sha1 } = splitResolved(resolved);
    if (sha1 !== undefined && !hashes.some((h) => h.alg === 'SHA-1')) hashes.push(sha1);
    const id = b.add({ name, version, source: sourceOf(url, name, version), hashes, resolved: url });
    ids.set(key, id);
    probes.push({ id, version, paths: [`node_modules/${name}/package.json`] });
  }
  const find = finder(
    b,
    ids,
    (name, range) => {
      const hit = entries.get(`${name}@${range}`);
      return hit === undefined ? undefined : ids.get(hit.key);
    },
    forcedRanges(ctx.manifest),
  );
  const depended = new Set<string>();
  for (const [key, id] of ids) {
    const entry = entries.get(key.split(',')[0]?.trim() ?? '')?.entry ?? {};
    for (const [field, kind] of [
      ['dependencies', 'prod'],
      ['optionalDependencies', 'optional'],
    ] as const) {
      for (const [name, range] of deps(ctx, key, entry, field)) {
        const to = dependency(ctx, key, find, name, range);
        b.edge(id, to, kind);
        depended.add(to);
      }
    }
  }

  const rootId = b.add(rootInput(ctx, {}));
  const m = ctx.manifest;
  if (m === undefined) {
    // Without package.json the direct dependencies are what nothing else depends on.
    for (const id of ids.values()) if (!depended.has(id)) b.edge(rootId, id, 'prod');
  } else {
    linkManifest(b, rootId, m, find);
    for (const ws of await workspaces(ctx, m)) {
      const wsId = b.add(workspaceInput(ws.name ?? ws.dir, ws));
      b.edge(rootId, wsId, 'prod');
      linkManifest(b, wsId, ws, find);
    }
  }
  if (ctx.installed) await addInstalledLicenses(b, ctx.dir, probes);
  return b.build(rootId, { path: ctx.path, type: 'yarn-v1', version: '1', sha256: ctx.sha256 });
}

/** yarn v1 `resolved`: a tarball URL whose `#fragment` is the tarball's SHA-1, or a git URL whose fragment is a commit. */
function splitResolved(resolved: string | undefined): { url: string | undefined; sha1?: PackageHash } {
  if (resolved === undefined) return { url: undefined };
  const hash = resolved.indexOf('#');
  const fragment = hash < 0 ? '' : resolved.slice(hash + 1);
  if (/^https?:\/\//.test(resolved) && /^[0-9a-f]{40}$/.test(fragment)) {
    return { url: resolved.slice(0, hash), sha1: { alg: 'SHA-1', hex: fragment } };
  }
  return { url: resolved };
}

/** Edges from a package.json's dependency lists; entries the lockfile lacks (out of sync) are left out. */
function linkManifest(
  b: GraphBuilder,
  from: string,
  m: Manifest,
  find: (name: string, range: string) => string | undefined,
): void {
  const lists: [Readonly<Record<string, string>>, EdgeKind][] = [
    [m.dependencies, 'prod'],
    [m.devDependencies, 'dev'],
    [m.optionalDependencies, 'optional'],
  ];
  for (const [list, kind] of lists) {
    for (const [name, range] of Object.entries(list)) {
      const to = find(name, range);
      if (to !== undefined) b.edge(from, to, kind);
    }
  }
}

/** yarn v1 does not record workspaces: they are the package.json files the root's `workspaces` globs match. */
async function workspaces(ctx: LockContext, root: Manifest): Promise<(Manifest & { dir: string })[]> {
  if (root.workspaces.length === 0) return [];
  const files = await tinyglobby().glob(
    root.workspaces.map((p) => `${p.replace(/\/$/, '')}/package.json`),
    { cwd: ctx.dir, ignore: ['**/node_modules/**'] },
  );
  const out: (Manifest & { dir: string })[] = [];
  for (const file of files.sort()) {
    const m = await manifestAt(join(ctx.dir, file));
    if (m !== undefined) out.push({ ...m, dir: file.slice(0, -'/package.json'.length) });
  }
  return out;
}

// ---- Berry ----

/** Berry lockfile versions this reader has been checked against (yarn 2.x–4.x write 4–8). */
const BERRY_VERSIONS = new Set(['4', '5', '6', '7', '8']);

async function readBerry(
  ctx: LockContext,
  parsed: Record<string, unknown>,
  meta: unknown,
): Promise<PackageGraph> {
  const version = isRecord(meta) ? meta['version'] : undefined;
  if (typeof version !== 'string' || !BERRY_VERSIONS.has(version)) {
    throw unsupportedVersion(
      ctx,
      String(version),
      'yarn Berry __metadata.version 4 to 8 are',
      keyLine(ctx, '__metadata'),
    );
  }
  const entries = index(ctx, parsed);
  const b = new GraphBuilder();
  const ids = new Map<string, string>();
  const probes: LicenseProbe[] = [];
  const wsManifests = new Map<string, Manifest | undefined>();
  let rootId: string | undefined;
  for (const { key, entry } of entries.values()) {
    if (ids.has(key)) continue;
    const resolution = str(ctx, key, entry, 'resolution');
    const entryVersion = str(ctx, key, entry, 'version');
    if (resolution === undefined || entryVersion === undefined)
      throw malformed(ctx, `${JSON.stringify(key)} needs version and resolution`, keyLine(ctx, key));
    const [name, reference] = splitDescriptor(resolution);
    const origin = berrySource(unpatch(reference));
    if (origin === 'workspace') {
      const path = reference.slice('workspace:'.length);
      const m = path === '.' ? ctx.manifest : await manifestAt(join(ctx.dir, path, 'package.json'));
      wsManifests.set(key, m);
      const id = b.add(path === '.' ? rootInput(ctx, { name }) : workspaceInput(name, m));
      if (path === '.') rootId = id;
      ids.set(key, id);
      continue;
    }
    // Berry's `checksum` hashes yarn's own zip of the package, not the registry tarball: not a PackageHash.
    const id = b.add({ name, version: entryVersion, source: origin, resolved: resolvedOf(reference) });
    ids.set(key, id);
    probes.push({ id, version: entryVersion, paths: [`node_modules/${name}/package.json`] });
  }
  rootId ??= b.add(rootInput(ctx, {}));

  const find = finder(
    b,
    ids,
    (name, range) => {
      for (const d of [`${name}@${range}`, `${name}@npm:${range}`]) {
        const hit = entries.get(d);
        if (hit !== undefined) return ids.get(hit.key);
      }
      return undefined;
    },
    forcedRanges(ctx.manifest),
  );
  for (const [key, id] of ids) {
    const entry = entries.get(key.split(',')[0]?.trim() ?? '')?.entry ?? {};
    const ws = wsManifests.get(key);
    const meta = entry['dependenciesMeta'];
    for (const [name, range] of deps(ctx, key, entry, 'dependencies')) {
      const to = dependency(ctx, key, find, name, range);
      const m = isRecord(meta) ? meta[name] : undefined;
      const optional = isRecord(m) && (m['optional'] === 'true' || m['optional'] === true);
      // Workspace entries merge dependencies and devDependencies; only the workspace's package.json tells them apart.
      const dev = ws !== undefined && name in ws.devDependencies && !(name in ws.dependencies);
      b.edge(
        id,
        to,
        optional || (ws !== undefined && name in ws.optionalDependencies) ? 'optional' : dev ? 'dev' : 'prod',
      );
    }
  }
  for (const [key, id] of ids) if (wsManifests.has(key) && id !== rootId) b.edge(rootId, id, 'prod');
  if (ctx.installed) await addInstalledLicenses(b, ctx.dir, probes);
  return b.build(rootId, { path: ctx.path, type: 'yarn-berry', version, sha256: ctx.sha256 });
}

/** `patch:name@npm%3A1.2.3#…::version=…` → `npm:1.2.3`: a patched package is still the package it patches. */
function unpatch(reference: string): string {
  if (!reference.startsWith('patch:')) return reference;
  const inner = decodeURIComponent(reference.slice('patch:'.length).split('#', 1)[0] ?? '');
  return unpatch(splitDescriptor(inner)[1]);
}

function berrySource(reference: string): PackageSource | 'workspace' {
  if (reference.startsWith('workspace:')) return 'workspace';
  if (reference.startsWith('npm:')) return REGISTRY;
  if (reference.includes('#commit=') || /^(git\+|git:|github:|gitlab:|bitbucket:)/.test(reference)) {
    return { type: 'git', url: reference };
  }
  if (/^https?:\/\//.test(reference)) return { type: 'tarball', url: reference };
  return { type: 'local' };
}

/** The origin Berry records: the locator's reference, except for the registry, where it says nothing more. */
function resolvedOf(reference: string): string | undefined {
  const inner = unpatch(reference);
  return inner.startsWith('npm:') ? undefined : inner;
}
