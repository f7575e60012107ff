import type * as Pep440 from '@renovatebot/pep440';
import type * as Semver from 'semver';
import { lazyRequire } from '../../core/index.js';
import { compareMaven, type MavenVersion, parseMavenVersion } from './maven.js';
import type { OsvRangeType } from './types.js';

const pep440 = lazyRequire<typeof Pep440>('@renovatebot/pep440');
const semver = lazyRequire<typeof Semver>('semver');

/**
 * A total order over one ecosystem's versions (OSV §affected[].ranges: SEMVER and ECOSYSTEM types). `parse`
 * returns undefined for a string that is not a version of the ordering; such a version never falls in a
 * range (it can still be listed in `versions`).
 */
export interface VersionOrder<K> {
  readonly name: string;
  parse(version: string): K | undefined;
  compare(a: K, b: K): number;
}

/** Longer strings are not versions in any ecosystem; refusing them bounds the parsers' work. */
const MAX_VERSION_CHARS = 256;

/**
 * SemVer 2.0 precedence (semver.org §11) over the whole total order: 1.0.0-rc.1 < 1.0.0 < 1.0.1. OSV compares
 * versions, it does not evaluate npm ranges, so `includePrerelease` has no part in it. A leading `v` (Go
 * module versions, pseudo-versions such as v0.0.0-20220127200216-cd36cc0744dd) is accepted; build metadata
 * (`+incompatible`) does not take part in the order, as in Go.
 */
const SEMVER: VersionOrder<Semver.SemVer> = {
  name: 'semver',
  parse: (v) => (v.length > MAX_VERSION_CHARS ? undefined : (semver().parse(v) ?? undefined)),
  compare: (a, b) => a.compare(b),
};

/** PEP 440 (packaging.python.org/en/latest/specifications/version-specifiers): 1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1. */
const PEP440: VersionOrder<string> = {
  name: 'pep440',
  parse: (v) => (v.length <= MAX_VERSION_CHARS && pep440().valid(v) !== null ? v : undefined),
  compare: (a, b) => pep440().compare(a, b),
};

const MAVEN: VersionOrder<MavenVersion> = {
  name: 'maven',
  parse: (v) => (v.length > MAX_VERSION_CHARS ? undefined : parseMavenVersion(v)),
  compare: compareMaven,
};

/** ECOSYSTEM orderings Vouch knows, by OSV ecosystem name (without a `:suffix`, as in `Maven:central`). */
const ECOSYSTEM_ORDERS: Readonly<Record<string, VersionOrder<unknown>>> = {
  npm: SEMVER as VersionOrder<unknown>,
  Go: SEMVER as VersionOrder<unknown>,
  PyPI: PEP440 as VersionOrder<unknown>,
  Maven: MAVEN as VersionOrder<unknown>,
};

/**
 * The order a range is evaluated in: SEMVER ranges always use SemVer; ECOSYSTEM ranges use the ecosystem's
 * own order when Vouch has one; GIT ranges (commit hashes) and other ecosystems have none, so only their
 * explicit `versions` lists match.
 */
export function versionOrder(type: OsvRangeType, ecosystem: string): VersionOrder<unknown> | undefined {
  if (type === 'SEMVER') return SEMVER as VersionOrder<unknown>;
  if (type === 'GIT') return undefined;
  const base = ecosystem.split(':', 1)[0] ?? ecosystem;
  return Object.hasOwn(ECOSYSTEM_ORDERS, base) ? ECOSYSTEM_ORDERS[base] : undefined;
}
