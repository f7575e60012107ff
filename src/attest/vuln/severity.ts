import type * as Cvss from 'ae-cvss-calculator';
import { lazyRequire } from '../../core/index.js';
import type { OsvRecord, SeverityRating } from './types.js';

const cvss = lazyRequire<typeof Cvss>('ae-cvss-calculator');

/**
 * Base scores of the CVSS vectors in OSV `severity[]` (CVSS v2.0, v3.0/v3.1, v4.0 from FIRST). The arithmetic
 * is ae-cvss-calculator's (decision 011); the library accepts incomplete vectors and repeated metrics and then
 * scores them, so Vouch first checks that every base metric is present exactly once with a legal value.
 * A vector that fails the check is ignored (the record still matches, rated from the rest).
 */

export interface CvssScore {
  /** `CVSSv2`, `CVSSv30`, `CVSSv31`, `CVSSv4`. */
  readonly method: string;
  readonly vector: string;
  readonly value: number;
}

interface Version {
  readonly method: string;
  readonly prefix: string;
  readonly base: Readonly<Record<string, string>>;
  /** NVD's v2 ratings have no CRITICAL. */
  readonly v2: boolean;
}

const V3_BASE = { AV: 'NALP', AC: 'LH', PR: 'NLH', UI: 'NR', S: 'UC', C: 'HLN', I: 'HLN', A: 'HLN' };
const VERSIONS: readonly Version[] = [
  { method: 'CVSSv31', prefix: 'CVSS:3.1/', base: V3_BASE, v2: false },
  { method: 'CVSSv30', prefix: 'CVSS:3.0/', base: V3_BASE, v2: false },
  {
    method: 'CVSSv4',
    prefix: 'CVSS:4.0/',
    base: {
      AV: 'NALP',
      AC: 'LH',
      AT: 'NP',
      PR: 'NLH',
      UI: 'NPA',
      VC: 'HLN',
      VI: 'HLN',
      VA: 'HLN',
      SC: 'HLN',
      SI: 'HLN',
      SA: 'HLN',
    },
    v2: false,
  },
  {
    method: 'CVSSv2',
    prefix: '',
    base: { AV: 'LAN', AC: 'HML', Au: 'MSN', C: 'NPC', I: 'NPC', A: 'NPC' },
    v2: true,
  },
];

const METRIC = /^[A-Za-z]{1,4}:[A-Za-z0-9]{1,3}$/;

/** The version of a vector whose base metrics are complete, unrepeated and legal; undefined otherwise. */
function checkVector(vector: string): Version | undefined {
  if (vector.length > 512) return undefined;
  const version = VERSIONS.find((v) =>
    v.prefix === '' ? !vector.startsWith('CVSS:') : vector.startsWith(v.prefix),
  );
  if (version === undefined) return undefined;
  const parts = vector.slice(version.prefix.length).split('/');
  const seen = new Set<string>();
  for (const part of parts) {
    if (!METRIC.test(part)) return undefined;
    const [key = '', value = ''] = part.split(':');
    if (seen.has(key)) return undefined;
    seen.add(key);
    const legal = Object.hasOwn(version.base, key) ? version.base[key] : undefined;
    if (legal !== undefined && (value.length !== 1 || !legal.includes(value))) return undefined;
  }
  return Object.keys(version.base).every((k) => seen.has(k)) ? version : undefined;
}

/** The base score of one vector, or undefined when it is not a complete, legal CVSS vector. */
export function cvssBaseScore(vector: string): CvssScore | undefined {
  const version = checkVector(vector);
  if (version === undefined) return undefined;
  let scores: { base?: number; baseMetricsOnly?: number } | null;
  try {
    // Non-base metrics (temporal, environmental, threat) are parsed by the library; an unknown one
    // yields null or throws. Either way the vector is not used.
    scores = cvss().fromVector(vector)?.calculateScores() ?? null;
  } catch {
    return undefined;
  }
  // CVSS v4 "CVSS-B": the score from base metrics alone; v2/v3 `base` ignores temporal/environmental.
  const value = scores?.baseMetricsOnly ?? scores?.base;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 10) return undefined;
  return { method: version.method, vector, value };
}

/** CVSS v3.1 §5 / v4.0 §6 qualitative ratings; NVD's for v2 (no CRITICAL). */
export function ratingOf(score: CvssScore): SeverityRating {
  const v = score.value;
  if (score.method === 'CVSSv2') return v >= 7 ? 'HIGH' : v >= 4 ? 'MEDIUM' : 'LOW';
  if (v === 0) return 'NONE';
  return v >= 9 ? 'CRITICAL' : v >= 7 ? 'HIGH' : v >= 4 ? 'MEDIUM' : 'LOW';
}

/** GHSA `database_specific.severity` (LOW, MODERATE, HIGH, CRITICAL); MODERATE is CVSS's MEDIUM. */
const DATABASE_RATINGS: Readonly<Record<string, SeverityRating>> = {
  LOW: 'LOW',
  MODERATE: 'MEDIUM',
  MEDIUM: 'MEDIUM',
  HIGH: 'HIGH',
  CRITICAL: 'CRITICAL',
};

/**
 * The highest CVSS base score among the record's vectors and its rating, else the database's rating.
 * `cache` keeps scores by vector across records (one scan).
 */
export function severityOf(
  record: OsvRecord,
  cache?: Map<string, CvssScore | undefined>,
): { score?: CvssScore; rating: SeverityRating } {
  let best: CvssScore | undefined;
  for (const s of record.severity) {
    if (!s.type.startsWith('CVSS_')) continue;
    let score: CvssScore | undefined;
    if (cache?.has(s.score) === true) score = cache.get(s.score);
    else {
      score = cvssBaseScore(s.score);
      cache?.set(s.score, score);
    }
    if (score !== undefined && (best === undefined || score.value > best.value)) best = score;
  }
  if (best !== undefined) return { score: best, rating: ratingOf(best) };
  const db = record.databaseSeverity?.toUpperCase();
  const rating = db !== undefined && Object.hasOwn(DATABASE_RATINGS, db) ? DATABASE_RATINGS[db] : undefined;
  return { rating: rating ?? 'UNKNOWN' };
}

/** Rating order for `--fail-on` and sorting. */
export const RATING_ORDER: readonly SeverityRating[] = [
  'UNKNOWN',
  'NONE',
  'LOW',
  'MEDIUM',
  'HIGH',
  'CRITICAL',
];
