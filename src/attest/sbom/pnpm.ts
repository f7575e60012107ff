import { join, posix } from 'node:path';
import type * as Yaml from 'yaml';
import { isRecord, lazyRequire } from '../../core/index.js';
import {
  type LockContext,
  lineAt,
  lineOf,
  malformed,
  rootInput,
  sriHashes,
  unsupportedVersion,
  workspaceInput,
} from './context.js';
import { type EdgeKind, GraphBuilder } from './graph.js';
import { addInstalledLicenses, type LicenseProbe, manifestAt } from './installed.js';
import type { PackageGraph } from './model.js';
import { type PackageSource, sourceOf } from './purl.js';

const yaml = lazyRequire<typeof Yaml>('yaml');

type Dialect = '6' | '9';

/** A key of a top-level section, for messages that point at a line. */
interface Owner {
  readonly key: string;
  readonly section: string;
}

/**
 * pnpm-lock.yaml v6 (`/name@1.2.3(peer@1.0.0)` keys, one `packages` map) and v9 (`packages` for what was
 * fetched, `snapshots` for each peer-resolved instance, `importers` for the project and its workspaces)
 * (https://github.com/pnpm/spec/tree/master/lockfile). Peer suffixes name instances, not versions: every
 * instance of name@version is one node.
 */
export async function readPnpmLockfile(ctx: LockContext): Promise<PackageGraph> {
  const doc = parseYaml(ctx);
  const raw = doc['lockfileVersion'];
  const version = typeof raw === 'string' ? raw : String(raw);
  const dialect: Dialect | undefined = /^6\.\d+$/.test(version)
    ? '6'
    : /^9\.\d+$/.test(version)
      ? '9'
      : undefined;
  if (dialect === undefined) {
    throw unsupportedVersion(
      ctx,
      version,
      'pnpm lockfileVersion 6.x (pnpm 8) and 9.x (pnpm 9+) are',
      lineOf(ctx.text, 'lockfileVersion'),
    );
  }
  const packages = section(ctx, doc, 'packages');
  const snapSection = dialect === '9' ? 'snapshots' : 'packages';
  const snapshots = dialect === '9' ? section(ctx, doc, 'snapshots') : packages;
  const importers =
    doc['importers'] === undefined
      ? {
          '.': {
            dependencies: doc['dependencies'],
            devDependencies: doc['devDependencies'],
            optionalDependencies: doc['optionalDependencies'],
          },
        }
      : section(ctx, doc, 'importers');

  const b = new GraphBuilder();
  const importerIds = new Map<string, string>();
  const probes: LicenseProbe[] = [];
  let rootId: string | undefined;
  for (const path of Object.keys(importers).sort()) {
    if (path === '.') {
      rootId = b.add(rootInput(ctx, {}));
      importerIds.set(path, rootId);
    } else {
      const m = await manifestAt(join(ctx.dir, path, 'package.json'));
      importerIds.set(path, b.add(workspaceInput(m?.name ?? posix.basename(path), m)));
    }
  }
  rootId ??= b.add(rootInput(ctx, {}));
  // Workspaces hang off the project, as npm records them, so the graph is one tree.
  for (const [path, id] of importerIds) if (path !== '.') b.edge(rootId, id, 'prod');

  // Snapshot key → node id, created on first reference (every snapshot is referenced or is a root).
  const ids = new Map<string, string>();
  const referrers = new Map<string, Owner>();
  const nodeOf = (key: string, owner: Owner): string => {
    const known = ids.get(key);
    if (known !== undefined) return known;
    const pkgKey = dialect === '9' ? stripPeers(key) : key;
    const pkg = entry(ctx, packages, pkgKey, 'packages', owner);
    const { name, version } = nameVersion(ctx, pkgKey, pkg);
    const res = pkg['resolution'];
    if (!isRecord(res))
      throw malformed(
        ctx,
        `packages[${JSON.stringify(pkgKey)}].resolution must be a map`,
        keyLine(ctx, pkgKey, 'packages'),
      );
    const integrity = optString(ctx, res, 'integrity', pkgKey);
    const { source, resolved } = sourceOfResolution(ctx, res, pkgKey, name, version);
    const id = b.add({
      name,
      version,
      source,
      hashes:
        integrity === undefined ? [] : sriHashes(ctx, integrity, () => keyLine(ctx, pkgKey, 'packages')),
      resolved,
    });
    ids.set(key, id);
    referrers.set(key, owner);
    probes.push({ id, version, paths: installPaths(key, name) });
    return id;
  };

  for (const [path, imp] of Object.entries(importers)) {
    const from = importerIds.get(path) ?? rootId;
    const owner: Owner = { key: path, section: 'importers' };
    if (!isRecord(imp))
      throw malformed(
        ctx,
        `importers[${JSON.stringify(path)}] must be a map`,
        keyLine(ctx, path, 'importers'),
      );
    for (const [field, kind] of IMPORTER_FIELDS) {
      for (const [name, spec] of deps(ctx, imp[field], owner, field)) {
        const ref = isRecord(spec) ? spec['version'] : undefined;
        if (typeof ref !== 'string')
          throw malformed(
            ctx,
            `importers[${JSON.stringify(path)}].${field}[${JSON.stringify(name)}] needs a version`,
            keyLine(ctx, path, 'importers'),
          );
        const to = target(dialect, path, name, ref, importerIds, nodeOf, owner);
        if (to !== undefined) b.edge(from, to, kind);
      }
    }
  }

  // Walk the snapshots reached so far; new ones are appended to `ids` while iterating.
  for (const key of ids.keys()) {
    const snap = entry(ctx, snapshots, key, snapSection, referrers.get(key) ?? { key, section: snapSection });
    const self: Owner = { key, section: snapSection };
    const from = ids.get(key) as string;
    for (const [field, kind] of SNAPSHOT_FIELDS) {
      for (const [name, ref] of deps(ctx, snap[field], self, field)) {
        if (typeof ref !== 'string')
          throw malformed(
            ctx,
            `${JSON.stringify(key)}.${field}[${JSON.stringify(name)}] must be a string`,
            keyLine(ctx, key, snapSection),
          );
        const to = target(dialect, undefined, name, ref, importerIds, nodeOf, self);
        if (to !== undefined) b.edge(from, to, kind);
      }
    }
  }

  if (ctx.installed) await addInstalledLicenses(b, ctx.dir, probes);
  return b.build(rootId, { path: ctx.path, type: 'pnpm', version, sha256: ctx.sha256 });
}

const IMPORTER_FIELDS: readonly [string, EdgeKind][] = [
  ['dependencies', 'prod'],
  ['devDependencies', 'dev'],
  ['optionalDependencies', 'optional'],
];
const SNAPSHOT_FIELDS: readonly [string, EdgeKind][] = [
  ['dependencies', 'prod'],
  ['optionalDependencies', 'optional'],
];

/**
 * yaml's own guard against alias bombs (YAML 1.2 §3.2.2.2 lets `*a` repeat a whole subtree, so ten nested
 * lists of ten aliases expand to 10^10 nodes), pinned rather than left to the library's default. pnpm writes
 * no anchors at all, so a real lockfile never comes near it.
 */
const MAX_ALIAS_COUNT = 100;

function parseYaml(ctx: LockContext): Record<string, unknown> {
  const y = yaml();
  let parsed: Yaml.Document.Parsed;
  let doc: unknown;
  try {
    // failsafe: every scalar stays a string, so `1.10` is not the number 1.1 and `true` is checked as text.
    parsed = y.parseDocument(ctx.text, { schema: 'failsafe', uniqueKeys: false, logLevel: 'error' });
  } catch (e) {
    throw notYaml(ctx, e, undefined);
  }
  const first = parsed.errors[0];
  if (first !== undefined) throw notYaml(ctx, first, first.linePos?.[0].line);
  try {
    // Aliases are resolved here: an unknown anchor or too many expansions throws a plain ReferenceError.
    doc = parsed.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw notYaml(ctx, e, unresolvedAliasLine(ctx, parsed));
  }
  if (!isRecord(doc)) throw malformed(ctx, 'the top level must be a map', 1);
  return doc;
}

/** Any failure of the YAML library, as ERR_LOCKFILE_MALFORMED with its first message line. */
function notYaml(ctx: LockContext, e: unknown, line: number | undefined) {
  const message = e instanceof Error ? e.message : String(e);
  const first = (message.split('\n', 1)[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return malformed(ctx, `not valid YAML (${first})`, line);
}

/** The line of the first alias (`*name`) whose anchor is not defined before it. */
function unresolvedAliasLine(ctx: LockContext, parsed: Yaml.Document.Parsed): number | undefined {
  let offset: number | undefined;
  yaml().visit(parsed, {
    Alias(_, node) {
      if (node.resolve(parsed) !== undefined) return undefined;
      offset = node.range?.[0];
      return yaml().visit.BREAK;
    },
  });
  return offset === undefined ? undefined : lineAt(ctx.text, offset);
}

function section(ctx: LockContext, doc: Record<string, unknown>, name: string): Record<string, unknown> {
  const v = doc[name];
  if (v === undefined || v === '') return {};
  if (!isRecord(v)) throw malformed(ctx, `"${name}" must be a map`, keyLineTop(ctx, name));
  return v;
}

/** Line of a key of a top-level section (two-space indent, quoted when it starts with `@` or has `:`). */
function keyLineTop(ctx: LockContext, name: string): number | undefined {
  const at = ctx.text.indexOf(`\n${name}:`);
  return at < 0 ? undefined : lineAt(ctx.text, at + 1);
}

function keyLine(ctx: LockContext, key: string, section: string): number | undefined {
  const start = Math.max(0, ctx.text.indexOf(`\n${section}:`));
  for (const form of [`\n  ${key}:`, `\n  '${key}':`, `\n  "${key}":`]) {
    const at = ctx.text.indexOf(form, start);
    if (at >= 0) return lineAt(ctx.text, at + 1);
  }
  return undefined;
}

/** An entry of `packages`/`snapshots`; a reference to a missing one (truncation, bad edit) names its referrer. */
function entry(
  ctx: LockContext,
  map: Record<string, unknown>,
  key: string,
  where: string,
  referrer: Owner,
): Record<string, unknown> {
  const v = map[key];
  if (v === undefined) {
    const what = `${JSON.stringify(referrer.key)} refers to ${JSON.stringify(key)}, which ${where} does not define`;
    throw malformed(ctx, what, keyLine(ctx, referrer.key, referrer.section));
  }
  if (!isRecord(v))
    throw malformed(ctx, `${where}[${JSON.stringify(key)}] must be a map`, keyLine(ctx, key, where));
  return v;
}

function deps(ctx: LockContext, v: unknown, owner: Owner, field: string): [string, unknown][] {
  if (v === undefined) return [];
  if (!isRecord(v))
    throw malformed(
      ctx,
      `${JSON.stringify(owner.key)}.${field} must be a map`,
      keyLine(ctx, owner.key, owner.section),
    );
  return Object.entries(v);
}

function optString(
  ctx: LockContext,
  o: Record<string, unknown>,
  k: string,
  owner: string,
): string | undefined {
  const v = o[k];
  if (v === undefined || typeof v === 'string') return v;
  throw malformed(ctx, `${JSON.stringify(owner)}.${k} must be a string`, keyLine(ctx, owner, 'packages'));
}

/** `name@1.2.3(peer@1.0.0)(other@2.0.0)` → `name@1.2.3`. */
function stripPeers(key: string): string {
  const paren = key.indexOf('(');
  return paren < 0 ? key : key.slice(0, paren);
}

/** Name and version from the entry's own fields (non-registry packages have them), else from the key. */
function nameVersion(
  ctx: LockContext,
  key: string,
  pkg: Record<string, unknown>,
): { name: string; version: string } {
  const bare = stripPeers(key.startsWith('/') ? key.slice(1) : key);
  const at = bare.indexOf('@', 1);
  const name = optString(ctx, pkg, 'name', key) ?? (at > 0 ? bare.slice(0, at) : undefined);
  const version = optString(ctx, pkg, 'version', key) ?? (at > 0 ? bare.slice(at + 1) : undefined);
  if (name === undefined || version === undefined)
    throw malformed(
      ctx,
      `cannot tell name and version from ${JSON.stringify(key)}`,
      keyLine(ctx, key, 'packages'),
    );
  return { name, version };
}

function sourceOfResolution(
  ctx: LockContext,
  res: Record<string, unknown>,
  key: string,
  name: string,
  version: string,
): { source: PackageSource; resolved: string | undefined } {
  const type = optString(ctx, res, 'type', key);
  if (type === 'git') {
    const repo = optString(ctx, res, 'repo', key);
    const commit = optString(ctx, res, 'commit', key);
    if (repo === undefined || commit === undefined)
      throw malformed(
        ctx,
        `${JSON.stringify(key)}: a git resolution needs repo and commit`,
        keyLine(ctx, key, 'packages'),
      );
    const url = `${repo.startsWith('git') ? '' : 'git+'}${repo}#${commit}`;
    return { source: { type: 'git', url }, resolved: url };
  }
  if (type === 'directory')
    return { source: { type: 'local' }, resolved: optString(ctx, res, 'directory', key) };
  const tarball = optString(ctx, res, 'tarball', key);
  if (tarball?.startsWith('file:')) return { source: { type: 'local' }, resolved: tarball };
  return { source: sourceOf(tarball, name, version), resolved: tarball };
}

/**
 * A dependency reference to its node: `link:` points at another importer (a workspace), anything else
 * at a snapshot key, following pnpm's `refToRelative` for each lockfile version.
 */
function target(
  dialect: Dialect,
  importer: string | undefined,
  name: string,
  ref: string,
  importerIds: ReadonlyMap<string, string>,
  nodeOf: (key: string, owner: Owner) => string,
  owner: Owner,
): string | undefined {
  if (ref.startsWith('link:')) {
    // Links from importers are relative to the importer; links to folders outside the lock are not nodes.
    if (importer === undefined) return undefined;
    const path = posix.normalize(posix.join(importer, ref.slice(5)));
    return importerIds.get(path === '' ? '.' : path);
  }
  if (dialect === '9') {
    if (ref.startsWith('@')) return nodeOf(ref, owner);
    const at = ref.indexOf('@');
    const colon = ref.indexOf(':');
    const paren = ref.indexOf('(');
    const isKey = at > 0 && (colon < 0 || at < colon) && (paren < 0 || at < paren);
    return nodeOf(isKey ? ref : `${name}@${ref}`, owner);
  }
  if (ref.startsWith('/') || ref.startsWith('file:')) return nodeOf(ref, owner);
  const slash = ref.indexOf('/');
  const paren = ref.indexOf('(');
  const plainVersion = slash < 0 || (paren >= 0 && paren < slash);
  return nodeOf(plainVersion ? `/${name}@${ref}` : ref, owner);
}

/** Where pnpm's virtual store keeps an instance (pnpm `depPathToFilename`), then the hoisted link. */
function installPaths(key: string, name: string): string[] {
  let file = key.startsWith('file:') ? key.replace(':', '+') : key.startsWith('/') ? key.slice(1) : key;
  file = file.replace(/[\\/:*?"<>|]/g, '+');
  if (file.includes('(')) file = file.replace(/\)$/, '').replace(/\)\(|\(|\)/g, '_');
  const paths = [`node_modules/${name}/package.json`];
  // pnpm hashes long or mixed-case names (md5, base32); those instances are found only through the hoisted link.
  if (file.length <= 120 && (file === file.toLowerCase() || file.startsWith('file+'))) {
    paths.unshift(`node_modules/.pnpm/${file}/node_modules/${name}/package.json`);
  }
  return paths;
}
