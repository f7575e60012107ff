import type * as Semver from 'semver';
import type * as Yaml from 'yaml';
import { decodeUtf8, digestBytes, isRecord, lazyRequire, toHex, VouchError } from '../../core/index.js';
import type { BomComponent } from '../sbom/document.js';
import { parsePurl } from '../sbom/purl.js';
import { RFC3339_DATE_TIME } from '../sbom/sbom-write-common.js';
import { parseLicense, parseListEntry, termString } from './expression.js';

const semver = lazyRequire<typeof Semver>('semver');
const yaml = lazyRequire<typeof Yaml>('yaml');

// The licence policy file (docs/licenses.md): YAML 1.2 or JSON (JSON is YAML 1.2), closed schema — an unknown
// or misspelt field is an error rather than a silently weaker policy.

export type PolicyAction = 'deny' | 'warn' | 'allow';
export type Scope = BomComponent['scope'];

export interface LicenseException {
  /** As written: `name`, `name@range`, `pkg:type/ns/name` or `pkg:type/ns/name@range`. */
  readonly package: string;
  /** The licence the exception was granted for, as written. */
  readonly license: string;
  readonly reason: string;
  /** As written (RFC 3339 date or date-time). */
  readonly expires?: string;
}

export interface LicensePolicy {
  /** Absent: no allow list, anything not denied passes. Present (even empty): deny by default. */
  readonly allow?: readonly string[];
  readonly deny: readonly string[];
  readonly unknown: PolicyAction;
  readonly nonSpdx: PolicyAction;
  readonly exceptions: readonly LicenseException[];
  /** Scopes evaluated; components of other scopes are skipped. */
  readonly scopes: readonly Scope[];
  /** SHA-256 hex of the policy file's bytes, recorded in the predicate. */
  readonly sha256: string;
}

/** Policies are small hand-written files. */
export const MAX_POLICY_BYTES = 1024 * 1024;
const MAX_ENTRIES = 10_000;
const ACTIONS: readonly PolicyAction[] = ['deny', 'warn', 'allow'];
const SCOPES: readonly Scope[] = ['required', 'optional', 'dev'];
const KEYS = ['allow', 'deny', 'unknown', 'nonSpdx', 'exceptions', 'scopes'];
const EXCEPTION_KEYS = ['package', 'license', 'reason', 'expires'];
/** RFC 3339 full-date; a date-time with a zone is RFC3339_DATE_TIME. */
const DATE = /^\d{4}-\d{2}-\d{2}$/;

type Path = (string | number)[];

function pathText(path: Path): string {
  return path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? k : `${s}.${k}`),
    '',
  );
}

/** Reads a policy file's bytes; every problem is ERR_LICENSE_POLICY_MALFORMED naming the line and field. */
export function parsePolicy(bytes: Uint8Array, source: string): LicensePolicy {
  const text = decodeUtf8(bytes, source);
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const at = lines.linePos(first.pos[0]);
    throw new VouchError(
      'ERR_LICENSE_POLICY_MALFORMED',
      `${source}:${at.line}: not a valid YAML/JSON licence policy: ${first.message}`,
      { details: { source, line: at.line } },
    );
  }
  const fail = (path: Path, message: string): never => {
    const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
    const offset =
      node !== null && typeof node === 'object' && 'range' in node && Array.isArray(node.range)
        ? (node.range[0] as number)
        : undefined;
    const line = offset === undefined ? undefined : lines.linePos(offset).line;
    const where = pathText(path);
    throw new VouchError(
      'ERR_LICENSE_POLICY_MALFORMED',
      `${source}${line === undefined ? '' : `:${line}`}: licence policy ${where === '' ? 'document' : where} ${message}`,
      { details: { source, path: where, ...(line === undefined ? {} : { line }) } },
    );
  };
  let value: unknown;
  try {
    // maxAliasCount bounds YAML alias expansion ("billion laughs"); yaml throws when it is exceeded.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new VouchError(
      'ERR_LICENSE_POLICY_MALFORMED',
      `${source}: licence policy ${(e as Error).message}`,
      {
        cause: e,
        details: { source },
      },
    );
  }
  if (!isRecord(value))
    return fail([], 'must be a mapping (allow, deny, unknown, nonSpdx, exceptions, scopes)');
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) fail([key], `is not a policy field (expected one of ${KEYS.join(', ')})`);
  }
  const get = (key: string): unknown => (Object.hasOwn(value, key) ? value[key] : undefined);

  const list = (key: string): string[] | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    // `allow:` with every item commented out is null; reading it as absent would turn "allow only these"
    // into "allow anything not denied". Fail safe: an empty list is written `[]`.
    if (v === null) return fail([key], 'is empty (null); write [] for an empty list or remove the field');
    if (!Array.isArray(v)) return fail([key], 'must be a list of SPDX licence ids');
    if (v.length > MAX_ENTRIES) fail([key], `has ${v.length} entries; at most ${MAX_ENTRIES} are accepted`);
    return v.map((e: unknown, i) => {
      if (typeof e !== 'string') return fail([key, i], 'must be a string');
      const parsed = parseListEntry(e);
      if ('error' in parsed) return fail([key, i], `"${e}" ${parsed.error}`);
      // Matched as rewritten (a folded-exception id becomes `<licence>-only WITH <exception>`).
      return termString(parsed.term);
    });
  };
  const action = (key: string): PolicyAction => {
    const v = get(key);
    if (v === undefined || v === null) return 'deny';
    if (typeof v !== 'string' || !ACTIONS.includes(v as PolicyAction)) {
      return fail([key], `must be one of ${ACTIONS.join(', ')}`);
    }
    return v as PolicyAction;
  };

  const allow = list('allow');
  const scopesRaw = get('scopes');
  let scopes: Scope[] = [...SCOPES];
  if (scopesRaw !== undefined && scopesRaw !== null) {
    if (!Array.isArray(scopesRaw) || scopesRaw.length === 0) {
      return fail(['scopes'], `must be a non-empty list of ${SCOPES.join(', ')}`);
    }
    scopes = (scopesRaw as unknown[]).map((s: unknown, i) => {
      if (typeof s !== 'string' || !SCOPES.includes(s as Scope))
        fail(['scopes', i], `must be one of ${SCOPES.join(', ')}`);
      return s as Scope;
    });
  }
  const exceptionsRaw = get('exceptions');
  const exceptions: LicenseException[] = [];
  if (exceptionsRaw !== undefined && exceptionsRaw !== null) {
    if (!Array.isArray(exceptionsRaw)) return fail(['exceptions'], 'must be a list');
    if (exceptionsRaw.length > MAX_ENTRIES) fail(['exceptions'], `has more than ${MAX_ENTRIES} entries`);
    for (const [i, e] of (exceptionsRaw as unknown[]).entries()) {
      if (!isRecord(e))
        return fail(['exceptions', i], 'must be a mapping (package, license, reason, expires)');
      for (const key of Object.keys(e)) {
        if (!EXCEPTION_KEYS.includes(key))
          fail(['exceptions', i, key], `is not an exception field (expected ${EXCEPTION_KEYS.join(', ')})`);
      }
      const str = (key: string, required: boolean): string | undefined => {
        const v = Object.hasOwn(e, key) ? e[key] : undefined;
        if (v === undefined || v === null)
          return required ? fail(['exceptions', i], `needs "${key}"`) : undefined;
        if (typeof v !== 'string' || v.trim() === '')
          return fail(['exceptions', i, key], 'must be a non-empty string');
        return v.trim();
      };
      const pkg = str('package', true) as string;
      if (packagePattern(pkg) === undefined)
        fail(['exceptions', i, 'package'], `"${pkg}" is neither a name[@range] nor a purl`);
      const expires = str('expires', false);
      if (expires !== undefined && expiryTime(expires) === undefined) {
        fail(['exceptions', i, 'expires'], `"${expires}" is not an RFC 3339 date (YYYY-MM-DD) or date-time`);
      }
      exceptions.push({
        package: pkg,
        license: str('license', true) as string,
        reason: str('reason', true) as string,
        ...(expires === undefined ? {} : { expires }),
      });
    }
  }
  return {
    ...(allow === undefined ? {} : { allow }),
    deny: list('deny') ?? [],
    unknown: action('unknown'),
    nonSpdx: action('nonSpdx'),
    exceptions,
    scopes,
    sha256: toHex(digestBytes('sha256', bytes)),
  };
}

/**
 * When an exception stops applying (ms since the epoch): a date-time at that instant, a bare date at the end
 * of that day (UTC), so `expires: 2026-06-30` still covers 30 June.
 */
export function expiryTime(expires: string): number | undefined {
  if (DATE.test(expires)) {
    const t = Date.parse(`${expires}T00:00:00Z`);
    return Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== expires ? undefined : t + 86_400_000;
  }
  if (!RFC3339_DATE_TIME.test(expires)) return undefined;
  const t = Date.parse(expires);
  return Number.isNaN(t) ? undefined : t;
}

interface PackagePattern {
  readonly purl?: { readonly type: string; readonly namespace: string; readonly name: string };
  readonly name?: string;
  readonly range?: string;
}

/** Splits `<name or purl>@<range>`; the range `@` is the last one after the last `/` (purls encode `@` as %40). */
function packagePattern(text: string): PackagePattern | undefined {
  const slash = text.lastIndexOf('/');
  const at = text.lastIndexOf('@');
  const hasRange = at > 0 && at > slash;
  const base = hasRange ? text.slice(0, at) : text;
  const range = hasRange ? text.slice(at + 1).trim() : undefined;
  if (range === '') return undefined;
  const withRange = range === undefined ? {} : { range };
  if (!base.startsWith('pkg:')) return base === '' ? undefined : { name: base, ...withRange };
  const p = parsePurl(base);
  if (p === undefined) return undefined;
  return { purl: { type: p.type, namespace: p.namespace ?? '', name: p.name }, ...withRange };
}

function versionInRange(version: string | undefined, range: string | undefined): boolean {
  if (range === undefined) return true;
  if (version === undefined) return false;
  if (semver().valid(version) !== null && semver().validRange(range) !== null) {
    return semver().satisfies(version, range, { includePrerelease: true });
  }
  // Non-semver ecosystems (Maven, Alpine): the range is an exact version.
  return version === range;
}

/** The licence string an exception and a component are compared on: canonical when SPDX, else trimmed. */
function licenseKey(text: string): string {
  const p = parseLicense(text);
  return p.status === 'spdx' ? p.canonical : text.trim();
}

/** Whether an exception names this component (package and version) and the licence it carries. */
export function exceptionApplies(e: LicenseException, c: BomComponent): boolean {
  if (c.license === undefined || licenseKey(e.license) !== licenseKey(c.license)) return false;
  const p = packagePattern(e.package);
  if (p === undefined) return false;
  if (p.name !== undefined) return p.name === c.name && versionInRange(c.version, p.range);
  if (p.purl === undefined || c.purl === undefined) return false;
  const cp = parsePurl(c.purl);
  if (cp === undefined) return false;
  return (
    cp.type === p.purl.type &&
    (cp.namespace ?? '') === p.purl.namespace &&
    cp.name === p.purl.name &&
    versionInRange(cp.version ?? c.version, p.range)
  );
}
