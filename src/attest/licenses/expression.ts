import parse from 'spdx-expression-parse';
import type Satisfies from 'spdx-satisfies';
import { lazyRequire } from '../../core/index.js';

const satisfies = lazyRequire<typeof Satisfies>('spdx-satisfies');

// SPDX license expressions (SPDX 2.3 Annex D): parsed with spdx-expression-parse, compared with spdx-satisfies.
// Licence strings come from SBOMs, so they are attacker-controlled: parse failures are data, never exceptions,
// and expressions whose OR-alternatives would explode are refused before expansion.

/** One licence of an expression: an id or LicenseRef, with `+` and an exception (`WITH`). */
export interface LicenseTerm {
  readonly license: string;
  readonly plus?: true;
  readonly exception?: string;
}

/** What a licence string is: a valid SPDX expression, free text / an invalid expression, or nothing. */
export type LicenseStatus = 'spdx' | 'non-spdx' | 'unknown';

export type ParsedLicense =
  | {
      readonly status: 'spdx';
      /** The expression re-rendered from its parse tree (one spelling per expression). */
      readonly canonical: string;
      /** Disjunctive normal form: any one branch (an AND of terms) satisfies the expression. */
      readonly branches: readonly (readonly LicenseTerm[])[];
    }
  | { readonly status: 'non-spdx'; readonly why: string }
  | { readonly status: 'unknown' };

/**
 * An expression of n ANDed two-way choices has 2^n branches; beyond this many alternatives it is refused
 * (no real package offers more than a handful).
 */
export const MAX_BRANCHES = 1024;

function render(node: parse.Info, parent?: 'and' | 'or'): string {
  if ('license' in node) return termString(toTerm(node));
  const text = `${render(node.left, node.conjunction)} ${node.conjunction.toUpperCase()} ${render(node.right, node.conjunction)}`;
  // AND binds tighter than OR (Annex D.4), so only an OR inside an AND needs parentheses.
  return parent === 'and' && node.conjunction === 'or' ? `(${text})` : text;
}

export function termString(t: LicenseTerm): string {
  return `${t.license}${t.plus === true ? '+' : ''}${t.exception === undefined ? '' : ` WITH ${t.exception}`}`;
}

/**
 * Deprecated ids that fold an exception into the licence id. SPDX License List 3.0 deprecated them for
 * `<licence>-only WITH <exception>` (SPDX 2.3 Annex D); spdx-satisfies matches them against nothing, so
 * `deny: [GPL-2.0-only]` would miss `GPL-2.0-with-classpath-exception`. They are rewritten before matching.
 * The list is spdx-license-ids' deprecated.json entries of this form; the exceptions are those the SPDX
 * License List names for each.
 */
const FOLDED_EXCEPTION: ReadonlyMap<string, { readonly license: string; readonly exception: string }> =
  new Map([
    ['GPL-2.0-with-autoconf-exception', { license: 'GPL-2.0', exception: 'Autoconf-exception-2.0' }],
    ['GPL-2.0-with-bison-exception', { license: 'GPL-2.0', exception: 'Bison-exception-2.2' }],
    ['GPL-2.0-with-classpath-exception', { license: 'GPL-2.0', exception: 'Classpath-exception-2.0' }],
    ['GPL-2.0-with-font-exception', { license: 'GPL-2.0', exception: 'Font-exception-2.0' }],
    ['GPL-2.0-with-GCC-exception', { license: 'GPL-2.0', exception: 'GCC-exception-2.0' }],
    ['GPL-3.0-with-autoconf-exception', { license: 'GPL-3.0', exception: 'Autoconf-exception-3.0' }],
    ['GPL-3.0-with-GCC-exception', { license: 'GPL-3.0', exception: 'GCC-exception-3.1' }],
  ]);

/** A folded-exception id that also carries `WITH`: two exceptions, which no single term can say. */
function doubleException(node: parse.Info): string | undefined {
  if ('license' in node) {
    return FOLDED_EXCEPTION.has(node.license) && node.exception !== undefined ? node.license : undefined;
  }
  return doubleException(node.left) ?? doubleException(node.right);
}

function toTerm(node: parse.LicenseInfo): LicenseTerm {
  const folded = FOLDED_EXCEPTION.get(node.license);
  if (folded !== undefined && node.exception === undefined) {
    // `GPL-2.0-with-…-exception+` is the or-later licence with that exception.
    return {
      license: `${folded.license}${node.plus === true ? '-or-later' : '-only'}`,
      exception: folded.exception,
    };
  }
  return {
    license: node.license,
    ...(node.plus === true ? { plus: true as const } : {}),
    ...(node.exception === undefined ? {} : { exception: node.exception }),
  };
}

function count(node: parse.Info): number {
  if ('license' in node) return 1;
  const l = count(node.left);
  const r = count(node.right);
  return node.conjunction === 'or' ? l + r : l * r;
}

function expand(node: parse.Info): LicenseTerm[][] {
  if ('license' in node) return [[toTerm(node)]];
  const left = expand(node.left);
  const right = expand(node.right);
  if (node.conjunction === 'or') return [...left, ...right];
  return left.flatMap((l) => right.map((r) => [...l, ...r]));
}

/** Classifies and, when it is SPDX, expands a licence string. */
export function parseLicense(text: string | undefined): ParsedLicense {
  if (text === undefined || text.trim() === '') return { status: 'unknown' };
  let tree: parse.Info;
  try {
    tree = parse(text.trim());
  } catch (e) {
    return { status: 'non-spdx', why: (e as Error).message };
  }
  const twice = doubleException(tree);
  if (twice !== undefined)
    return { status: 'non-spdx', why: `${twice} already names its exception; WITH adds another` };
  const n = count(tree);
  if (n > MAX_BRANCHES) {
    return {
      status: 'non-spdx',
      why: `the expression has ${n} alternatives; at most ${MAX_BRANCHES} are evaluated`,
    };
  }
  return { status: 'spdx', canonical: render(tree), branches: expand(tree) };
}

/**
 * Parses one entry of a policy list: a single licence (id, `id+`, `-or-later`, LicenseRef, optional
 * `WITH exception`). spdx-satisfies compares terms against such entries and refuses AND/OR lists.
 */
export function parseListEntry(text: string): { term: LicenseTerm } | { error: string } {
  let tree: parse.Info;
  try {
    tree = parse(text.trim());
  } catch (e) {
    return { error: `is not an SPDX licence: ${(e as Error).message}` };
  }
  if (!('license' in tree))
    return { error: 'must be one licence (with an optional WITH exception), not AND/OR' };
  const twice = doubleException(tree);
  if (twice !== undefined) return { error: `${twice} already names its exception; WITH adds another` };
  return { term: toTerm(tree) };
}

/**
 * Whether a term matches a list entry, with spdx-satisfies' rules: `-only`/`-or-later`/`+` ranges, deprecated
 * ids such as `GPL-2.0` read as `-only`, and an exception that must match exactly. Terms and entries come
 * from parseLicense / parseListEntry, so folded-exception ids are already rewritten. With `ignoreException`
 * a term's exception is also dropped before comparing, so denying `GPL-2.0-only` denies
 * `GPL-2.0-only WITH Classpath-exception-2.0` too.
 */
export function termMatches(term: LicenseTerm, list: readonly string[], ignoreException = false): boolean {
  if (list.length === 0) return false;
  if (satisfies()(termString(term), list)) return true;
  if (!ignoreException || term.exception === undefined) return false;
  const { exception: _dropped, ...base } = term;
  return satisfies()(termString(base), list);
}
