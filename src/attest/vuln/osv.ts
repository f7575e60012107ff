import type * as Semver from 'semver';
import { isRecord, isVouchError, JsonFields, lazyRequire, sourceContext } from '../../core/index.js';
import type { OsvAffected, OsvEvent, OsvRange, OsvRangeType, OsvRecord, OsvSeverity } from './types.js';

const semver = lazyRequire<typeof Semver>('semver');

// OSV schema 1.6 (https://ossf.github.io/osv-schema/). Records come from a download anyone can publish into:
// every field is read and typed one by one, counts and lengths are capped, unknown fields are ignored.

const CODE = 'ERR_OSV_MALFORMED';
const MAX_ID = 256;
const MAX_TEXT = 64 * 1024;
const MAX_ALIASES = 1024;
const MAX_SEVERITY = 32;
const MAX_AFFECTED = 16_384;
const MAX_RANGES = 1024;
const MAX_EVENTS = 4096;
/** OSV.dev enumerates every affected version for some ecosystems; the longest lists run to a few thousand. */
const MAX_VERSIONS = 200_000;
const MAX_NAME = 1024;
const MAX_VERSION = 1024;

/** OSV §id: `<DB>-<ENTRYID>`; anything else (spaces, control characters) would end up in terminal output. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:+-]*$/;
const RANGE_TYPES: readonly OsvRangeType[] = ['SEMVER', 'ECOSYSTEM', 'GIT'];
const EVENT_KINDS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

/** RFC 3339 date-time (OSV `modified`/`published`/`withdrawn`, OpenVEX `timestamp`), checked as a real date. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export function isTimestamp(s: string): boolean {
  return RFC3339.test(s) && !Number.isNaN(Date.parse(s));
}

/** A required string of at most `max` characters; `''` counts as missing. */
function required(max: number): { max: number; emptyIsAbsent: true } {
  return { max, emptyIsAbsent: true };
}

function timestamp(o: JsonFields, key: string, mandatory: boolean): string | undefined {
  const v = mandatory ? o.string(key, required(64)) : o.optString(key, { max: 64 });
  if (v !== undefined && !isTimestamp(v)) o.fail(key, 'must be an RFC 3339 date-time');
  return v;
}

function identifier(o: JsonFields, value: string, key: string): string {
  if (!ID.test(value)) o.fail(key, 'is not an OSV identifier');
  return value;
}

function readEvent(e: JsonFields, type: OsvRangeType): OsvEvent {
  const keys = e.keys().filter((k) => (EVENT_KINDS as readonly string[]).includes(k));
  if (keys.length !== 1) e.fail('', `must have exactly one of ${EVENT_KINDS.join(', ')}`);
  const kind = keys[0] as (typeof EVENT_KINDS)[number];
  const version = e.string(kind, required(MAX_VERSION));
  // OSV §ranges[].type SEMVER: versions are SemVer 2.0; "0" as `introduced` means "all versions" and "*" as
  // `limit` means no limit (OSV §ranges[].events: limit "*" is infinity).
  const special = (kind === 'introduced' && version === '0') || (kind === 'limit' && version === '*');
  if (type === 'SEMVER' && !special && semver().valid(version) === null) {
    e.fail(kind, `${JSON.stringify(version.slice(0, 64))} is not a SemVer version`);
  }
  switch (kind) {
    case 'introduced':
      return { introduced: version };
    case 'fixed':
      return { fixed: version };
    case 'last_affected':
      return { last_affected: version };
    case 'limit':
      return { limit: version };
  }
}

function readRange(r: JsonFields): OsvRange {
  const type = r.string('type', required(16)) as OsvRangeType;
  if (!RANGE_TYPES.includes(type)) r.fail('type', `must be one of ${RANGE_TYPES.join(', ')}`);
  const events = r.objects('events', MAX_EVENTS).map((e) => readEvent(e, type));
  if (events.length === 0) r.fail('events', 'must not be empty');
  // OSV §ranges[].events: "must contain at least one introduced event".
  if (!events.some((e) => 'introduced' in e)) r.fail('events', 'has no introduced event');
  return { type, events };
}

/** Receives the message of a range that was skipped because it cannot be used. */
export type SkippedRange = (message: string) => void;

function readAffected(a: JsonFields, onSkippedRange: SkippedRange | undefined): OsvAffected | undefined {
  const pkg = a.optObject('package');
  const ranges: OsvRange[] = [];
  for (const r of a.objects('ranges', MAX_RANGES)) {
    try {
      ranges.push(readRange(r));
    } catch (e) {
      if (onSkippedRange === undefined || !isVouchError(e) || e.code !== CODE) throw e;
      onSkippedRange(`${e.message} (range skipped)`);
    }
  }
  const versions = a.strings('versions', MAX_VERSIONS, MAX_VERSION);
  // OSV allows an entry without `package` (GIT ranges of a repository); no package version can match it.
  if (pkg === undefined) return undefined;
  const purl = pkg.optString('purl', { max: MAX_NAME });
  return {
    ecosystem: pkg.string('ecosystem', required(128)),
    name: pkg.string('name', required(MAX_NAME)),
    ...(purl === undefined ? {} : { purl }),
    ranges,
    versions,
  };
}

function readSeverity(s: JsonFields): OsvSeverity {
  return { type: s.string('type', required(32)), score: s.string('score', required(1024)) };
}

/**
 * Reads one OSV record (already parsed JSON). Structural problems are ERR_OSV_MALFORMED naming `source` and
 * the JSON path. `database_specific` is free-form: only a string `severity` in it is used, anything else there
 * is ignored rather than refused. With `onSkippedRange`, a range that cannot be used (an unknown type, a
 * version that is not SemVer in a SEMVER range, no introduced event) is reported to it and left out instead
 * of refusing the record, so the record's other ranges and packages still match.
 */
export function parseOsv(json: unknown, source: string, onSkippedRange?: SkippedRange): OsvRecord {
  const o = new JsonFields(json, '', sourceContext(CODE, source));
  const id = identifier(o, o.string('id', required(MAX_ID)), 'id');
  const modified = timestamp(o, 'modified', true) as string;
  const published = timestamp(o, 'published', false);
  const withdrawn = timestamp(o, 'withdrawn', false);
  const aliases = o.strings('aliases', MAX_ALIASES, MAX_ID);
  aliases.forEach((alias, i) => {
    identifier(o, alias, `aliases[${i}]`);
  });
  const summary = o.optString('summary', { max: MAX_TEXT });
  const severity = o.objects('severity', MAX_SEVERITY).map(readSeverity);
  const dbSpecific = o.raw('database_specific');
  const dbSeverity = isRecord(dbSpecific)
    ? o.child(dbSpecific, o.at('database_specific')).raw('severity')
    : undefined;
  const affected = o
    .objects('affected', MAX_AFFECTED)
    .map((a) => readAffected(a, onSkippedRange))
    .filter((a) => a !== undefined);
  return {
    id,
    modified,
    ...(published === undefined ? {} : { published }),
    ...(withdrawn === undefined ? {} : { withdrawn }),
    aliases,
    ...(summary === undefined ? {} : { summary }),
    severity,
    ...(typeof dbSeverity === 'string' && dbSeverity.length <= 32 ? { databaseSeverity: dbSeverity } : {}),
    affected,
  };
}
