/**
 * Maven version order, written from the POM reference's "Version Order Specification"
 * (https://maven.apache.org/pom.html#version-order-specification), which is what OSV means by Maven's
 * ECOSYSTEM ordering. Every string is a Maven version, so this never fails; it only orders.
 */

import { byCodeUnit } from '../sbom/sbom-write-common.js';

/** A prefixed token: `.` or `-` (a digit/letter transition counts as `-`), and a number or a qualifier. */
interface Token {
  readonly prefix: '.' | '-';
  /** Decimal digits without leading zeros, for numbers. */
  readonly num?: string;
  /** Lower-case qualifier with the spec's aliases applied (`cr` → `rc`; `ga`, `final`, `release` → ``). */
  readonly qual?: string;
}

export type MavenVersion = readonly Token[];

/** Known qualifiers first, in this order; unknown ones after them, alphabetically (spec, "Non-numeric"). */
const KNOWN = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Readonly<Record<string, string>> = { cr: 'rc', ga: '', final: '', release: '' };
/** `a1`, `b2`, `m3`: the short forms stand for alpha/beta/milestone only when a number follows directly. */
const SHORT: Readonly<Record<string, string>> = { a: 'alpha', b: 'beta', m: 'milestone' };

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function makeToken(prefix: '.' | '-', text: string, numberFollows: boolean): Token {
  if (text === '') return { prefix, num: '0' };
  if (isDigit(text[0] ?? '')) return { prefix, num: text.replace(/^0+(?=.)/, '') };
  const lower = text.toLowerCase();
  const short = numberFollows ? SHORT[lower] : undefined;
  return { prefix, qual: short ?? ALIASES[lower] ?? lower };
}

function isNull(t: Token): boolean {
  return t.num === '0' || t.qual === '';
}

/** Splits on `.`, `-` and digit/non-digit transitions, then trims trailing nulls before each hyphen. */
export function parseMavenVersion(version: string): MavenVersion {
  const tokens: Token[] = [];
  let prefix: '.' | '-' = '.';
  let start = 0;
  const push = (end: number, numberFollows: boolean) => {
    tokens.push(makeToken(prefix, version.slice(start, end), numberFollows));
  };
  for (let i = 0; i < version.length; i++) {
    const c = version[i] as string;
    if (c === '.' || c === '-') {
      push(i, false);
      prefix = c;
      start = i + 1;
    } else if (i > start && isDigit(c) !== isDigit(version[i - 1] as string)) {
      push(i, isDigit(c));
      prefix = '-';
      start = i;
    }
  }
  push(version.length, false);
  // "starting from the end of the version, the trailing null values are trimmed. This process is
  // repeated at each remaining hyphen from end to start." The first token always stays.
  const out: Token[] = [];
  let trimming = true;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i] as Token;
    if (!(trimming && i > 0 && isNull(t))) {
      out.push(t);
      trimming = false;
    }
    if (t.prefix === '-') trimming = true;
  }
  return out.reverse();
}

function compareNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return byCodeUnit(a, b);
}

function qualifierRank(q: string): number {
  const i = KNOWN.indexOf(q);
  return i === -1 ? KNOWN.length : i;
}

function compareQualifiers(a: string, b: string): number {
  const ra = qualifierRank(a);
  const rb = qualifierRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (ra < KNOWN.length) return 0;
  return byCodeUnit(a, b);
}

/** `.qualifier` < `-qualifier` < `-number` < `.number` (spec, prefixed token order). */
function kindRank(t: Token): number {
  if (t.num === undefined) return t.prefix === '.' ? 0 : 1;
  return t.prefix === '-' ? 2 : 3;
}

/**
 * Compares a token with the padding "null" of the same prefix: a number against 0, a qualifier against the
 * release qualifier ``, so `1-snapshot` < `1` < `1-sp` and `1` < `1.1`.
 */
function compareWithNull(t: Token): number {
  return t.num !== undefined ? compareNumbers(t.num, '0') : compareQualifiers(t.qual ?? '', '');
}

function compareTokens(a: Token, b: Token): number {
  if (a.prefix === b.prefix) {
    if (a.num !== undefined && b.num !== undefined) return compareNumbers(a.num, b.num);
    if (a.qual !== undefined && b.qual !== undefined) return compareQualifiers(a.qual, b.qual);
    // Same prefix, a number against a qualifier: numbers come after qualifiers.
    return a.num !== undefined ? 1 : -1;
  }
  const ka = kindRank(a);
  const kb = kindRank(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function compareMaven(a: MavenVersion, b: MavenVersion): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ta = a[i];
    const tb = b[i];
    let c: number;
    if (ta === undefined) c = tb === undefined ? 0 : -compareWithNull(tb);
    else if (tb === undefined) c = compareWithNull(ta);
    else c = compareTokens(ta, tb);
    if (c !== 0) return c;
  }
  return 0;
}
