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

function toTerm(node: parse.LicenseInfo): LicenseTerm {
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
  return { term: toTerm(tree) };
}

/**
 * Whether a term matches a list entry, with spdx-satisfies' rules: `-only`/`-or-later`/`+` ranges, deprecated
 * ids such as `GPL-2.0` read as `-only`, and an exception that must match exactly. With `ignoreException`
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
