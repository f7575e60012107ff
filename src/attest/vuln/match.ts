import { byCodeUnit } from '../sbom/sbom-write-common.js';
import { normaliseName, type OsvPackage, purlToPackage } from './purl.js';
import { type CvssScore, severityOf } from './severity.js';
import type { CandidateLookup, Finding, OsvAffected, OsvRange, OsvRecord, ScanTarget } from './types.js';
import { type VersionOrder, versionOrder } from './version.js';
import { type VexArtifact, type VexDocument, vexSuppressor } from './vex.js';

type Kind = 'introduced' | 'fixed' | 'last_affected' | 'limit';

/** An event with its version parsed; `key` is undefined for `introduced: "0"` (below every version). */
interface ParsedEvent {
  readonly kind: Kind;
  readonly raw: string;
  readonly key: unknown;
}

interface ParsedRange {
  readonly order: VersionOrder<unknown>;
  /** Sorted by version, limits removed (OSV §evaluation: events are evaluated in version order). */
  readonly events: readonly ParsedEvent[];
  readonly limits: readonly unknown[];
}

/**
 * Parsed versions and sorted ranges, kept for one scan: many components share versions and records, and
 * parsing (PEP 440 and Maven especially) costs more than comparing.
 */
export class MatchCache {
  readonly #versions = new Map<VersionOrder<unknown>, Map<string, unknown>>();
  readonly #ranges = new WeakMap<OsvRange, ParsedRange | null>();
  /** CVSS scores by vector: records repeat a handful of vectors, and scoring one is costly. */
  readonly vectors = new Map<string, CvssScore | undefined>();

  parse(order: VersionOrder<unknown>, version: string): unknown {
    let m = this.#versions.get(order);
    if (m === undefined) {
      m = new Map();
      this.#versions.set(order, m);
    }
    if (m.has(version)) return m.get(version);
    const key = order.parse(version);
    m.set(version, key);
    return key;
  }

  /** The range ready for evaluation, or null when it cannot be evaluated (no order, unparseable event). */
  range(range: OsvRange, ecosystem: string): ParsedRange | null {
    const hit = this.#ranges.get(range);
    if (hit !== undefined) return hit;
    const parsed = this.#prepare(range, ecosystem);
    this.#ranges.set(range, parsed);
    return parsed;
  }

  #prepare(range: OsvRange, ecosystem: string): ParsedRange | null {
    const order = versionOrder(range.type, ecosystem);
    if (order === undefined) return null;
    const events: ParsedEvent[] = [];
    const limits: unknown[] = [];
    for (const e of range.events) {
      const [kind, raw]: [Kind, string] =
        'introduced' in e
          ? ['introduced', e.introduced]
          : 'fixed' in e
            ? ['fixed', e.fixed]
            : 'last_affected' in e
              ? ['last_affected', e.last_affected]
              : ['limit', e.limit];
      if (kind === 'introduced' && raw === '0') {
        events.push({ kind, raw, key: undefined });
        continue;
      }
      // OSV §ranges[].events: limit "*" is infinity, which bounds nothing.
      if (kind === 'limit' && raw === '*') continue;
      const key = this.parse(order, raw);
      // An event version the ecosystem cannot order makes the whole range unusable; guessing its
      // position could report a fixed version as affected or hide an affected one.
      if (key === undefined) return null;
      if (kind === 'limit') limits.push(key);
      else events.push({ kind, raw, key });
    }
    // Array.prototype.sort is stable, so events at the same version keep their document order.
    events.sort((a, b) =>
      a.key === undefined
        ? b.key === undefined
          ? 0
          : -1
        : b.key === undefined
          ? 1
          : order.compare(a.key, b.key),
    );
    return { order, events, limits };
  }
}

/**
 * OSV §evaluation: walk the sorted events; `introduced` (inclusive; "0" = everything) sets affected, `fixed`
 * (exclusive) and `last_affected` (inclusive) clear it, and a version at or above every `limit` is outside.
 * Returns the first `fixed` version above `version` when affected, or null when not affected.
 */
function evaluate(r: ParsedRange, v: unknown): { fixed?: string } | null {
  const cmp = r.order.compare;
  if (r.limits.length > 0 && !r.limits.some((l) => cmp(v, l) < 0)) return null;
  let affected = false;
  for (const e of r.events) {
    if (e.kind === 'introduced') {
      if (e.key === undefined || cmp(v, e.key) >= 0) affected = true;
    } else if (e.kind === 'fixed') {
      if (cmp(v, e.key) >= 0) affected = false;
    } else if (cmp(v, e.key) > 0) {
      affected = false;
    }
  }
  if (!affected) return null;
  const fixed = r.events.find((e) => e.kind === 'fixed' && cmp(v, e.key) < 0);
  return fixed === undefined ? {} : { fixed: fixed.raw };
}

/** Whether `version` is one of the listed versions: equal under the ecosystem's order when it has one. */
function listed(a: OsvAffected, version: string, cache: MatchCache): boolean {
  if (a.versions.length === 0) return false;
  const order = versionOrder('ECOSYSTEM', a.ecosystem);
  const v = order === undefined ? undefined : cache.parse(order, version);
  if (order === undefined || v === undefined) return a.versions.includes(version);
  return a.versions.some((s) => {
    const k = cache.parse(order, s);
    return k === undefined ? s === version : order.compare(v, k) === 0;
  });
}

/** A record's verdict on one package version, and whether some of its ranges could not be evaluated. */
interface Verdict {
  readonly hit: { fixed?: string } | null;
  /**
   * A SEMVER or ECOSYSTEM range for the package could not be evaluated: the ecosystem has no order Vouch
   * knows (crates.io, RubyGems, NuGet, Packagist, …), an event or the version does not parse in it.
   */
  readonly unevaluated: boolean;
}

function judge(record: OsvRecord, pkg: OsvPackage, cache: MatchCache): Verdict {
  if (record.withdrawn !== undefined) return { hit: null, unevaluated: false };
  let result: { fixed?: string } | null = null;
  let unevaluated = false;
  for (const a of record.affected) {
    if (a.ecosystem !== pkg.ecosystem || normaliseName(a.ecosystem, a.name) !== pkg.name) continue;
    for (const range of a.ranges) {
      // GIT ranges are commits, never package versions (the entry's `versions` list speaks for them).
      if (range.type === 'GIT') continue;
      const r = cache.range(range, a.ecosystem);
      const v = r === null ? undefined : cache.parse(r.order, pkg.version);
      if (r === null || v === undefined) {
        unevaluated = true;
        continue;
      }
      const hit = evaluate(r, v);
      if (hit !== null && (result === null || (result.fixed === undefined && hit.fixed !== undefined))) {
        result = hit;
      }
    }
    if (result === null && listed(a, pkg.version, cache)) result = {};
  }
  return { hit: result, unevaluated };
}

/**
 * Whether a record affects one package version, and the version that fixes it when the record says so.
 * Withdrawn records affect nothing. Returns null when not affected (or when it cannot tell: `scanComponents`
 * reports those as not fully scanned).
 */
export function affects(
  record: OsvRecord,
  pkg: OsvPackage,
  cache: MatchCache = new MatchCache(),
): { fixed?: string } | null {
  return judge(record, pkg, cache).hit;
}

/** A component some candidate records could not be decided for, so its clean result proves nothing. */
export interface IncompleteScan {
  readonly target: ScanTarget;
  readonly ecosystem: string;
  readonly name: string;
  readonly version: string;
  /** The records whose ranges could not be evaluated. */
  readonly ids: readonly string[];
}

export interface ScanResult {
  readonly findings: Finding[];
  readonly incomplete: IncompleteScan[];
}

export interface ScanOptions {
  /** OpenVEX documents; a matching `not_affected`/`fixed` statement marks a finding suppressed. */
  readonly vex?: readonly VexDocument[];
  /**
   * The scanned artifact, for VEX statements with subcomponents (they apply only inside their product);
   * without it such statements suppress nothing.
   */
  readonly artifact?: VexArtifact;
}

/**
 * Matches every target whose purl names an OSV package version against the candidates `lookup` returns.
 * Targets without a usable purl are skipped (see `purlToPackage`). Findings are ordered by package, version
 * and id, so the same inputs give the same output. A target that a candidate record does not match but
 * whose ranges could not be evaluated is listed in `incomplete` (same order): no finding is not "clean".
 */
export function scanComponents(
  targets: readonly ScanTarget[],
  lookup: CandidateLookup,
  opts: ScanOptions = {},
): ScanResult {
  const cache = new MatchCache();
  const candidates = new Map<string, readonly OsvRecord[]>();
  const findings: Finding[] = [];
  const incomplete: IncompleteScan[] = [];
  const suppress =
    opts.vex === undefined ? undefined : vexSuppressor(opts.vex, opts.artifact ?? { purls: [], names: [] });
  for (const target of targets) {
    const pkg = purlToPackage(target.purl);
    if (pkg === undefined) continue;
    const key = `${pkg.ecosystem}\u0000${pkg.name}`;
    let records = candidates.get(key);
    if (records === undefined) {
      records = lookup(pkg.ecosystem, pkg.name);
      candidates.set(key, records);
    }
    const undecided: string[] = [];
    for (const record of records) {
      const { hit, unevaluated } = judge(record, pkg, cache);
      if (hit === null) {
        if (unevaluated) undecided.push(record.id);
        continue;
      }
      const { score, rating } = severityOf(record, cache.vectors);
      const finding: Finding = {
        target,
        ecosystem: pkg.ecosystem,
        name: pkg.name,
        version: pkg.version,
        id: record.id,
        aliases: record.aliases,
        ...(record.summary === undefined ? {} : { summary: record.summary }),
        ...(score === undefined ? {} : { score }),
        rating,
        ...(hit.fixed === undefined ? {} : { fixed: hit.fixed }),
      };
      const suppressedBy = suppress?.(finding);
      findings.push(suppressedBy === undefined ? finding : { ...finding, suppressedBy });
    }
    if (undecided.length > 0) {
      incomplete.push({
        target,
        ecosystem: pkg.ecosystem,
        name: pkg.name,
        version: pkg.version,
        ids: undecided.sort(byCodeUnit),
      });
    }
  }
  findings.sort(
    (a, b) =>
      byCodeUnit(a.name, b.name) ||
      byCodeUnit(a.version, b.version) ||
      byCodeUnit(a.id, b.id) ||
      byCodeUnit(a.target.ref, b.target.ref),
  );
  incomplete.sort(
    (a, b) =>
      byCodeUnit(a.name, b.name) ||
      byCodeUnit(a.version, b.version) ||
      byCodeUnit(a.target.ref, b.target.ref),
  );
  return { findings, incomplete };
}
