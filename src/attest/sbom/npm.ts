import { isRecord, isVouchError, parseJson } from '../../core/index.js';
import {
  type LockContext,
  lineAt,
  lineOf,
  malformed,
  rootInput,
  sriHashes,
  unsupportedVersion,
} from './context.js';
import { type EdgeKind, GraphBuilder } from './graph.js';
import { addInstalledLicenses, type LicenseProbe, normalizeLicense } from './installed.js';
import type { PackageGraph } from './model.js';
import { type PackageSource, sourceOf } from './purl.js';

/**
 * package-lock.json / npm-shrinkwrap.json v2 and v3: the `packages` map keyed by install path
 * (https://docs.npmjs.com/cli/v10/configuring-npm/package-lock-json). v1 only has the nested
 * `dependencies` tree, which lacks the paths the graph is built from.
 */
export async function readNpmLockfile(ctx: LockContext): Promise<PackageGraph> {
  const json = parseLock(ctx);
  const version = json['lockfileVersion'];
  if (version === 1) {
    throw unsupportedVersion(
      ctx,
      '1',
      'run `npm install --lockfile-version 3` with npm ≥ 7 to upgrade it',
      lineOf(ctx.text, '"lockfileVersion"'),
    );
  }
  if (version !== 2 && version !== 3) {
    throw unsupportedVersion(
      ctx,
      JSON.stringify(version ?? null),
      'npm lockfileVersion 2 and 3 are',
      lineOf(ctx.text, '"lockfileVersion"'),
    );
  }
  const packages = json['packages'];
  if (!isRecord(packages))
    throw malformed(ctx, '"packages" must be an object', lineOf(ctx.text, '"packages"'));

  const entries = new Map<string, Entry>();
  for (const [key, raw] of Object.entries(packages)) entries.set(key, entryOf(ctx, key, raw));
  const b = new GraphBuilder();
  const rootEntry = entries.get('') ?? EMPTY;
  const rootId = b.add(
    rootInput(ctx, {
      name: rootEntry.name ?? stringField(json, 'name'),
      version: rootEntry.version ?? stringField(json, 'version'),
      license: rootEntry.license,
    }),
  );

  // Install path → node id; link entries point at their target folder's node.
  const idAt = new Map<string, string>([['', rootId]]);
  const workspaces = new Set<string>();
  const needLicense: LicenseProbe[] = [];
  for (const [key, e] of entries) {
    if (key === '' || e.link) continue;
    const inModules = key.startsWith('node_modules/') || key.includes('/node_modules/');
    const name =
      e.name ??
      (inModules ? key.slice(key.lastIndexOf('node_modules/') + 13) : key.slice(key.lastIndexOf('/') + 1));
    const version = e.version ?? '';
    // A folder outside node_modules is a workspace (inside the project) or a `file:` directory (outside).
    const workspace = !inModules && !key.startsWith('../');
    const source: PackageSource = inModules ? sourceOf(e.resolved, name, version) : { type: 'local' };
    const id = b.add({
      name,
      version,
      source,
      hashes: e.integrity === undefined ? [] : sriHashes(ctx, e.integrity, () => keyLine(ctx, key)),
      resolved: e.resolved,
      ...(e.license !== undefined && { license: e.license, licenseSource: 'lockfile' as const }),
      kind: workspace ? 'workspace' : 'package',
      // npm's own marks; `devOptional` (needed unless both dev and optional are omitted) is neither.
      flags: { dev: e.dev, optional: e.optional },
    });
    idAt.set(key, id);
    if (workspace) workspaces.add(key);
    if (e.license === undefined && inModules)
      needLicense.push({ id, version, paths: [`${key}/package.json`] });
  }
  for (const [key, e] of entries) {
    if (!e.link || e.resolved === undefined) continue;
    const target = idAt.get(e.resolved);
    if (target !== undefined) idAt.set(key, target);
  }

  for (const [key, e] of entries) {
    const from = idAt.get(key);
    if (from === undefined || e.link) continue;
    const top = key === '' || workspaces.has(key);
    linkAll(b, idAt, key, from, e.dependencies, 'prod');
    linkAll(b, idAt, key, from, e.optionalDependencies, 'optional');
    linkAll(b, idAt, key, from, e.peerDependencies, 'prod');
    if (top) linkAll(b, idAt, key, from, e.devDependencies, 'dev');
  }
  for (const ws of workspaces) {
    const id = idAt.get(ws);
    if (id !== undefined) b.edge(rootId, id, 'prod');
  }

  if (ctx.installed) await addInstalledLicenses(b, ctx.dir, needLicense);
  return b.build(rootId, { path: ctx.path, type: 'npm', version: String(version), sha256: ctx.sha256 });
}

interface Entry {
  readonly name?: string;
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly license?: string;
  readonly link: boolean;
  readonly dev: boolean;
  readonly optional: boolean;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly optionalDependencies: Readonly<Record<string, string>>;
  readonly peerDependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
}

const NO_DEPS: Readonly<Record<string, string>> = Object.freeze({});

const EMPTY: Entry = {
  link: false,
  dev: false,
  optional: false,
  dependencies: NO_DEPS,
  optionalDependencies: NO_DEPS,
  peerDependencies: NO_DEPS,
  devDependencies: NO_DEPS,
};

function parseLock(ctx: LockContext): Record<string, unknown> {
  let json: unknown;
  try {
    json = parseJson(ctx.text, ctx.path);
  } catch (e) {
    if (!isVouchError(e)) throw e;
    // V8 reports "at position N" for most syntax errors and nothing for truncation (the end is the place).
    const pos = /at position (\d+)/.exec(e.message)?.[1];
    const line = lineAt(ctx.text, pos === undefined ? ctx.text.length : Number(pos));
    throw malformed(
      ctx,
      `not valid JSON (${e.message.replace(`${ctx.path} is not valid JSON: `, '')})`,
      line,
    );
  }
  if (!isRecord(json)) throw malformed(ctx, 'the top level must be a JSON object', 1);
  return json;
}

function keyLine(ctx: LockContext, key: string): number | undefined {
  return lineOf(ctx.text, `${JSON.stringify(key)}:`);
}

function stringField(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** One `packages` entry, type-checked: a wrong type is a malformed lockfile, not a silent gap. */
function entryOf(ctx: LockContext, key: string, raw: unknown): Entry {
  if (!isRecord(raw)) throw badEntry(ctx, key, ' must be an object');
  const name = str(ctx, key, raw, 'name');
  const version = str(ctx, key, raw, 'version');
  const resolved = str(ctx, key, raw, 'resolved');
  const integrity = str(ctx, key, raw, 'integrity');
  const license = normalizeLicense(raw['license'], raw['licenses']);
  return {
    ...(name !== undefined && name !== '' && { name }),
    ...(version !== undefined && { version }),
    ...(resolved !== undefined && { resolved }),
    ...(integrity !== undefined && { integrity }),
    ...(license !== undefined && { license }),
    link: bool(ctx, key, raw, 'link'),
    dev: bool(ctx, key, raw, 'dev'),
    optional: bool(ctx, key, raw, 'optional'),
    dependencies: deps(ctx, key, raw, 'dependencies'),
    optionalDependencies: deps(ctx, key, raw, 'optionalDependencies'),
    peerDependencies: deps(ctx, key, raw, 'peerDependencies'),
    devDependencies: deps(ctx, key, raw, 'devDependencies'),
  };
}

function badEntry(ctx: LockContext, key: string, what: string): Error {
  return malformed(ctx, `packages[${JSON.stringify(key)}]${what}`, keyLine(ctx, key));
}

function str(ctx: LockContext, key: string, raw: Record<string, unknown>, k: string): string | undefined {
  const v = raw[k];
  if (v === undefined || typeof v === 'string') return v;
  throw badEntry(ctx, key, `.${k} must be a string`);
}

function bool(ctx: LockContext, key: string, raw: Record<string, unknown>, k: string): boolean {
  const v = raw[k];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw badEntry(ctx, key, `.${k} must be true or false`);
  return v;
}

function deps(
  ctx: LockContext,
  key: string,
  raw: Record<string, unknown>,
  k: string,
): Readonly<Record<string, string>> {
  const v = raw[k];
  if (v === undefined) return NO_DEPS;
  if (!isRecord(v)) throw badEntry(ctx, key, `.${k} must be an object`);
  for (const d in v) {
    if (typeof v[d] !== 'string') throw badEntry(ctx, key, `.${k}[${JSON.stringify(d)}] must be a string`);
  }
  return v as Record<string, string>;
}

function linkAll(
  b: GraphBuilder,
  idAt: ReadonlyMap<string, string>,
  key: string,
  from: string,
  deps: Readonly<Record<string, string>>,
  kind: EdgeKind,
): void {
  for (const dep in deps) {
    const to = resolveFrom(idAt, key, dep);
    // Missing targets are normal: optional deps for other platforms, peers nobody installed.
    if (to !== undefined) b.edge(from, to, kind);
  }
}

/**
 * Node's module lookup over install paths: `<dir>/node_modules/<dep>` for the package's own folder and
 * every ancestor, nearest first, skipping folders that are themselves `node_modules`
 * (https://nodejs.org/api/modules.html#loading-from-node_modules-folders).
 */
function resolveFrom(idAt: ReadonlyMap<string, string>, from: string, dep: string): string | undefined {
  let dir = from;
  for (;;) {
    if (dir !== 'node_modules' && !dir.endsWith('/node_modules')) {
      const id = idAt.get(dir === '' ? `node_modules/${dep}` : `${dir}/node_modules/${dep}`);
      if (id !== undefined) return id;
    }
    if (dir === '') return undefined;
    const slash = dir.lastIndexOf('/');
    dir = slash < 0 ? '' : dir.slice(0, slash);
  }
}
