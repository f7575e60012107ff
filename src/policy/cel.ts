import type * as Cel from '@bufbuild/cel';
import type * as CelExt from '@bufbuild/cel/ext';
import type * as Wkt from '@bufbuild/protobuf/wkt';
import type * as Re2 from '@bufbuild/re2';
import { meteredFunctions, resetBudget } from './cel-budget.js';
import { type CelProblem, checkExpression, MAX_EXPR_CHARS } from './cel-check.js';
import { type CelT, CONDITION_VARIABLES } from './cel-types.js';

/**
 * CEL through @bufbuild/cel (decision 014): parse, check (cel-check.ts), plan once at compile time; the
 * planned function is what a decision runs. The library and its RE2 engine are ESM with a separate CommonJS
 * build, so they are imported, not required (decision 012), on the first policy compiled.
 */

export interface CelModules {
  readonly cel: typeof Cel;
  readonly strings: typeof CelExt.strings;
  readonly wkt: typeof Wkt;
  readonly re2: typeof Re2;
  readonly env: Cel.CelEnv;
}

let modules: Promise<CelModules> | undefined;

const MAX_CACHED_PATTERNS = 256;
/** Longer patterns (from the input: `x.matches(y)`) are compiled each time, not kept across decisions. */
const MAX_CACHED_PATTERN_CHARS = 1024;

export function loadCel(): Promise<CelModules> {
  modules ??= (async () => {
    const [cel, ext, wkt, re2] = await Promise.all([
      import('@bufbuild/cel'),
      import('@bufbuild/cel/ext'),
      import('@bufbuild/protobuf/wkt'),
      import('@bufbuild/re2'),
    ]);
    const variables = Object.fromEntries(Object.keys(CONDITION_VARIABLES).map((v) => [v, cel.CelScalar.DYN]));
    // The std `matches` compiles its pattern on every call; policies match the same few patterns on every
    // decision. Patterns can come from the input (`x.matches(y)`), so the cache is bounded.
    const compiled = new Map<string, Re2.RE2JS>();
    const re2Cached = {
      compile(pattern: string): Re2.RE2JS {
        let m = compiled.get(pattern);
        if (m === undefined) {
          m = re2.RE2JS.compile(pattern);
          if (pattern.length > MAX_CACHED_PATTERN_CHARS) return m;
          if (compiled.size >= MAX_CACHED_PATTERNS) compiled.clear();
          compiled.set(pattern, m);
        }
        return m;
      },
    };
    // The library's functions that build strings, bytes and lists, replaced by metered ones (cel-budget.ts).
    const funcs = [...ext.strings, ...meteredFunctions(cel, cel.celEnv({ funcs: ext.strings }).funcs)];
    const env = cel.celEnv({ variables, funcs, re2: re2Cached });
    return { cel, strings: ext.strings, wkt, re2, env };
  })();
  return modules;
}

/** Why RE2 refuses `pattern`, or undefined when it compiles. RE2 matches in linear time (no backtracking). */
export function re2Problem(mods: CelModules, pattern: string): string | undefined {
  try {
    mods.re2.RE2JS.compile(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export interface CompiledExpression {
  readonly text: string;
  /** Top-level variables it reads (which views a decision must bind). */
  readonly variables: ReadonlySet<string>;
  readonly cost: number;
  /** Never throws for a CEL error: the result is a value or a CelError (also when it built too much). */
  readonly run: (bindings: Record<string, unknown>) => unknown;
}

/** Brackets nest the parser's recursion; deeper text is refused before it can exhaust the stack. */
const MAX_BRACKET_DEPTH = 32;

/** The deepest nesting of ( [ { outside string literals. */
function bracketDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote !== undefined) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(' || ch === '[' || ch === '{') max = Math.max(max, ++depth);
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
  }
  return max;
}

interface SyntaxErrorShape {
  readonly location?: { readonly start?: { readonly offset?: number } };
}

/** Parses, checks and plans one expression; the problems carry offsets into `text`. */
export function compileExpression(
  mods: CelModules,
  text: string,
  variables: Readonly<Record<string, CelT>>,
): { readonly expr?: CompiledExpression; readonly problems: readonly CelProblem[] } {
  if (text.length > MAX_EXPR_CHARS) {
    return {
      problems: [
        {
          offset: 0,
          code: 'ERR_POLICY_COST',
          message: `is ${text.length} characters; at most ${MAX_EXPR_CHARS} are accepted`,
        },
      ],
    };
  }
  if (bracketDepth(text) > MAX_BRACKET_DEPTH) {
    return {
      problems: [
        { offset: 0, code: 'ERR_POLICY_COST', message: `nests brackets more than ${MAX_BRACKET_DEPTH} deep` },
      ],
    };
  }
  let parsed: ReturnType<typeof Cel.parse>;
  try {
    parsed = mods.cel.parse(text);
  } catch (e) {
    if (e instanceof RangeError) {
      return { problems: [{ offset: 0, code: 'ERR_POLICY_COST', message: 'is nested too deeply to parse' }] };
    }
    const offset = (e as SyntaxErrorShape).location?.start?.offset ?? 0;
    const message = String((e as Error).message).replace(/^<input>:\d+:\d+: /, '');
    return { problems: [{ offset, code: 'ERR_POLICY_CEL', message: `syntax error: ${message}` }] };
  }
  const checked = checkExpression(parsed, variables, (p) => re2Problem(mods, p));
  if (checked.problems.length > 0) return { problems: checked.problems };
  const planned = mods.cel.plan(mods.env, parsed) as (ctx: Record<string, unknown>) => unknown;
  const run = (bindings: Record<string, unknown>): unknown => {
    resetBudget();
    return planned(bindings);
  };
  return {
    expr: { text, variables: checked.variables, cost: checked.cost, run },
    problems: [],
  };
}
