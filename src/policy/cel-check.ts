import type { parse } from '@bufbuild/cel';
import type { VouchErrorCode } from '../core/index.js';
import { type CelT, MAX_DYN_LIST, MAX_DYN_STRING, T, typeName } from './cel-types.js';

/**
 * The compile-time checker of policy expressions: walks the parsed CEL AST against the input's types
 * (cel-types.ts) and reports undeclared variables, unknown fields of typed views, unknown functions, wrong
 * arity or argument types and a non-bool result, each at its offset in the expression; it also enforces
 * the static limits of issue 5 §5 (size, depth, comprehension nesting) and estimates the worst-case cost
 * the way Kubernetes does for CRD validation rules: every node costs 1, a comprehension costs its body
 * times the declared maximum size of its range, string scans cost 0.1 per character.
 */

type Parsed = ReturnType<typeof parse>;
type Expr = Parsed['expr'];

/** Expressions are a line or a paragraph; longer text is not a policy rule. */
export const MAX_EXPR_CHARS = 4096;
export const MAX_AST_NODES = 1000;
export const MAX_AST_DEPTH = 64;
/** all(…, exists(…, all(…))) is as deep as a policy needs; deeper loops are what the cost limit is for. */
export const MAX_COMPREHENSION_NESTING = 3;
/**
 * Worst-case steps of one expression. Far above what a decision does in its time limit: the estimate only
 * rejects expressions that could never finish (a loop over the components inside a loop over the
 * findings); the wall-clock limit of each decision bounds the rest.
 */
export const MAX_COST = 100_000_000;

export interface CelProblem {
  readonly offset: number;
  readonly message: string;
  readonly code: Extract<VouchErrorCode, 'ERR_POLICY_CEL' | 'ERR_POLICY_COST'>;
}

export interface CheckedExpression {
  readonly type: CelT;
  readonly cost: number;
  /** Top-level variables the expression reads (the views it needs bound). */
  readonly variables: ReadonlySet<string>;
  readonly problems: readonly CelProblem[];
}

/** Validates a regexp at compile time; returns the problem, or undefined when RE2 accepts it. */
export type RegexpCheck = (pattern: string) => string | undefined;

interface Typed {
  readonly t: CelT;
  readonly cost: number;
}

interface Scope {
  readonly vars: ReadonlyMap<string, CelT>;
  readonly parent?: Scope;
}

/** Type tokens of the function table: S string, I int, U uint, D double, B bool, Y bytes, T timestamp,
 * R duration, L any list, M any map, * anything. */
type Tok = 'S' | 'I' | 'U' | 'D' | 'B' | 'Y' | 'T' | 'R' | 'L' | 'M' | '*' | 'Z' | 'LS';

/** [receiver ('' for a global function), parameters, result]. */
type Overload = readonly [string, string, Tok];

/** What @bufbuild/cel 0.6.1 (std + the strings extension) implements, by name. */
const FUNCTIONS: Readonly<Record<string, readonly Overload[]>> = {
  int: [
    ['', 'I', 'I'],
    ['', 'U', 'I'],
    ['', 'D', 'I'],
    ['', 'S', 'I'],
    ['', 'T', 'I'],
    ['', 'R', 'I'],
  ],
  uint: [
    ['', 'U', 'U'],
    ['', 'I', 'U'],
    ['', 'D', 'U'],
    ['', 'S', 'U'],
  ],
  double: [
    ['', 'D', 'D'],
    ['', 'I', 'D'],
    ['', 'U', 'D'],
    ['', 'S', 'D'],
  ],
  bool: [
    ['', 'B', 'B'],
    ['', 'S', 'B'],
  ],
  bytes: [
    ['', 'Y', 'Y'],
    ['', 'S', 'Y'],
  ],
  string: [
    ['', 'S', 'S'],
    ['', 'B', 'S'],
    ['', 'I', 'S'],
    ['', 'U', 'S'],
    ['', 'D', 'S'],
    ['', 'Y', 'S'],
    ['', 'T', 'S'],
    ['', 'R', 'S'],
  ],
  timestamp: [
    ['', 'T', 'T'],
    ['', 'S', 'T'],
    ['', 'I', 'T'],
  ],
  duration: [
    ['', 'R', 'R'],
    ['', 'S', 'R'],
    ['', 'I', 'R'],
  ],
  type: [['', '*', 'Z']],
  dyn: [['', '*', '*']],
  contains: [['S', 'S', 'B']],
  startsWith: [['S', 'S', 'B']],
  endsWith: [['S', 'S', 'B']],
  matches: [['S', 'S', 'B']],
  charAt: [['S', 'I', 'S']],
  indexOf: [
    ['S', 'S', 'I'],
    ['S', 'S I', 'I'],
  ],
  lastIndexOf: [
    ['S', 'S', 'I'],
    ['S', 'S I', 'I'],
  ],
  lowerAscii: [['S', '', 'S']],
  upperAscii: [['S', '', 'S']],
  replace: [
    ['S', 'S S', 'S'],
    ['S', 'S S I', 'S'],
  ],
  split: [
    ['S', 'S', 'LS'],
    ['S', 'S I', 'LS'],
  ],
  substring: [
    ['S', 'I', 'S'],
    ['S', 'I I', 'S'],
  ],
  trim: [['S', '', 'S']],
  join: [
    ['L', '', 'S'],
    ['L', 'S', 'S'],
  ],
  format: [['S', 'L', 'S']],
  'strings.quote': [['', 'S', 'S']],
  ...Object.fromEntries(
    ['getFullYear', 'getMonth', 'getDate', 'getDayOfMonth', 'getDayOfWeek', 'getDayOfYear'].map((f) => [
      f,
      [
        ['T', '', 'I'],
        ['T', 'S', 'I'],
      ] as const,
    ]),
  ),
  ...Object.fromEntries(
    ['getHours', 'getMinutes', 'getSeconds', 'getMilliseconds'].map((f) => [
      f,
      [
        ['T', '', 'I'],
        ['T', 'S', 'I'],
        ['R', '', 'I'],
      ] as const,
    ]),
  ),
};

/** Functions whose cost grows with the length of the string they scan. */
const STRING_SCANS = new Set([
  'contains',
  'matches',
  'indexOf',
  'lastIndexOf',
  'lowerAscii',
  'upperAscii',
  'replace',
  'split',
  'substring',
  'trim',
  'format',
  'strings.quote',
  'string',
]);

/** Type names usable as values (`type(x) == string`). */
const TYPE_IDENTS = new Set([
  'int',
  'uint',
  'double',
  'bool',
  'string',
  'bytes',
  'list',
  'map',
  'null_type',
  'type',
]);

const OPERATOR_TEXT: Readonly<Record<string, string>> = {
  '_==_': '==',
  '_!=_': '!=',
  '_<_': '<',
  '_<=_': '<=',
  '_>_': '>',
  '_>=_': '>=',
  '_+_': '+',
  '_-_': '-',
  '_*_': '*',
  '_/_': '/',
  '_%_': '%',
  '-_': 'unary -',
  '!_': '!',
  '_&&_': '&&',
  '_||_': '||',
  '@in': 'in',
};

/** CEL duration strings (cel-spec langdef "duration"): no day unit, unlike the policy's own maxAge. */
const CEL_DURATION = /^-?(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|ns))+$/;

const NUMERIC = new Set(['int', 'uint', 'double']);

function scanCost(chars: number): number {
  return Math.ceil(0.1 * chars);
}

/** The sizes the estimate assumes for values of unknown size (`dyn`). */
interface Sizes {
  readonly list: number;
  readonly string: number;
}

const DECLARED: Sizes = { list: MAX_DYN_LIST, string: MAX_DYN_STRING };

function accepts(param: string, t: CelT): boolean {
  if (param === '*' || t.k === 'dyn') return true;
  switch (param) {
    case 'S':
      return t.k === 'string';
    case 'I':
      return t.k === 'int';
    case 'U':
      return t.k === 'uint';
    case 'D':
      return t.k === 'double';
    case 'B':
      return t.k === 'bool';
    case 'Y':
      return t.k === 'bytes';
    case 'T':
      return t.k === 'timestamp';
    case 'R':
      return t.k === 'duration';
    case 'L':
      return t.k === 'list';
    case 'M':
      return t.k === 'map' || t.k === 'struct';
    default:
      return false;
  }
}

function join(a: CelT, b: CelT): CelT {
  if (a.k === 'null') return b;
  if (b.k === 'null') return a;
  if (a.k === 'string' && b.k === 'string') return T.string(Math.max(a.max, b.max));
  if (a.k === 'list' && b.k === 'list') return T.list(join(a.elem, b.elem), Math.max(a.max, b.max));
  if (a.k === b.k && a.k !== 'list' && a.k !== 'map' && a.k !== 'struct' && a.k !== 'string') return a;
  if (a.k === 'struct' && b.k === 'struct' && a.name === b.name) return a;
  return T.dyn;
}

/** Whether `==` between values of these types can ever be true (CEL compares numbers across types). */
function comparable(a: CelT, b: CelT): boolean {
  if (a.k === 'dyn' || b.k === 'dyn' || a.k === 'null' || b.k === 'null') return true;
  if (NUMERIC.has(a.k) && NUMERIC.has(b.k)) return true;
  const mapLike = (t: CelT) => t.k === 'map' || t.k === 'struct';
  if (mapLike(a) && mapLike(b)) return true;
  return a.k === b.k;
}

function orderable(a: CelT, b: CelT): boolean {
  if (a.k === 'dyn' || b.k === 'dyn') return true;
  if (NUMERIC.has(a.k) && NUMERIC.has(b.k)) return true;
  return a.k === b.k && ['string', 'bytes', 'bool', 'timestamp', 'duration'].includes(a.k);
}

/** The qualified name of `a.b.c` when it is made of identifiers only (`strings.quote`). */
function qualifiedName(e: Expr | undefined): string | undefined {
  if (e === undefined) return undefined;
  if (e.exprKind.case === 'identExpr') return e.exprKind.value.name;
  if (e.exprKind.case === 'selectExpr' && !e.exprKind.value.testOnly) {
    const inner = qualifiedName(e.exprKind.value.operand);
    return inner === undefined ? undefined : `${inner}.${e.exprKind.value.field}`;
  }
  return undefined;
}

class Checker {
  readonly problems: CelProblem[] = [];
  readonly variables = new Set<string>();
  nodes = 0;
  #depthReported = false;

  constructor(
    readonly parsed: Parsed,
    readonly top: ReadonlyMap<string, CelT>,
    readonly regexp: RegexpCheck,
    readonly sizes: Sizes,
  ) {}

  strMax(t: CelT): number {
    return t.k === 'string' ? t.max : this.sizes.string;
  }

  sizeOf(t: CelT): number {
    if (t.k === 'list' || t.k === 'map') return t.max;
    if (t.k === 'struct') return Object.keys(t.fields).length;
    return this.sizes.list;
  }

  tok(t: Tok): CelT {
    switch (t) {
      case 'S':
        return T.string(this.sizes.string);
      case 'I':
        return T.int;
      case 'U':
        return T.uint;
      case 'D':
        return T.double;
      case 'B':
        return T.bool;
      case 'Y':
        return T.bytes;
      case 'T':
        return T.timestamp;
      case 'R':
        return T.duration;
      case 'Z':
        return T.type;
      case 'LS':
        return T.list(T.string(this.sizes.string), this.sizes.list);
      case 'L':
        return T.list(T.dyn, this.sizes.list);
      case 'M':
        return T.map(T.dyn, this.sizes.list);
      case '*':
        return T.dyn;
    }
  }

  offset(e: Expr): number {
    return this.parsed.sourceInfo?.positions[e.id.toString()] ?? 0;
  }

  problem(e: Expr | undefined, message: string, code: CelProblem['code'] = 'ERR_POLICY_CEL'): void {
    if (this.problems.length >= 16) return;
    this.problems.push({ offset: e === undefined ? 0 : this.offset(e), message, code });
  }

  lookup(scope: Scope | undefined, name: string): CelT | undefined {
    for (let s = scope; s !== undefined; s = s.parent) {
      const t = s.vars.get(name);
      if (t !== undefined) return t;
    }
    const t = this.top.get(name);
    if (t !== undefined) this.variables.add(name);
    return t;
  }

  visit(e: Expr, scope: Scope | undefined, depth: number, nesting: number): Typed {
    this.nodes++;
    if (depth > MAX_AST_DEPTH && !this.#depthReported) {
      this.#depthReported = true;
      this.problem(e, `is nested more than ${MAX_AST_DEPTH} levels deep`, 'ERR_POLICY_COST');
    }
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr':
        return { t: this.constant(k.value.constantKind), cost: 0 };
      case 'identExpr': {
        const t = this.lookup(scope, k.value.name);
        if (t !== undefined) return { t, cost: 1 };
        if (TYPE_IDENTS.has(k.value.name)) return { t: T.type, cost: 1 };
        this.problem(
          e,
          `undeclared reference to '${k.value.name}' (variables: ${[...this.top.keys()].join(', ')})`,
        );
        return { t: T.dyn, cost: 1 };
      }
      case 'selectExpr': {
        if (k.value.operand === undefined) return { t: T.dyn, cost: 1 };
        const op = this.visit(k.value.operand, scope, depth + 1, nesting);
        const t = this.select(e, op.t, k.value.field);
        return { t: k.value.testOnly ? T.bool : t, cost: op.cost + 1 };
      }
      case 'callExpr':
        return this.call(e, k.value, scope, depth, nesting);
      case 'listExpr': {
        let elem: CelT | undefined;
        let cost = 1;
        for (const el of k.value.elements) {
          const r = this.visit(el, scope, depth + 1, nesting);
          elem = elem === undefined ? r.t : join(elem, r.t);
          cost += r.cost;
        }
        return { t: T.list(elem ?? T.dyn, k.value.elements.length), cost };
      }
      case 'structExpr': {
        if (k.value.messageName !== '') {
          this.problem(
            e,
            `there are no message types in policies (${k.value.messageName}{…}); use a map literal`,
          );
        }
        let value: CelT | undefined;
        let cost = 1;
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === 'mapKey') {
            const key = this.visit(entry.keyKind.value, scope, depth + 1, nesting);
            cost += key.cost;
          }
          if (entry.value !== undefined) {
            const v = this.visit(entry.value, scope, depth + 1, nesting);
            value = value === undefined ? v.t : join(value, v.t);
            cost += v.cost;
          }
        }
        return { t: T.map(value ?? T.dyn, k.value.entries.length), cost };
      }
      case 'comprehensionExpr':
        return this.comprehension(e, k.value, scope, depth, nesting);
      default:
        this.problem(e, 'is not an expression CEL can evaluate');
        return { t: T.dyn, cost: 1 };
    }
  }

  constant(c: Extract<Expr['exprKind'], { case: 'constExpr' }>['value']['constantKind']): CelT {
    switch (c.case) {
      case 'nullValue':
        return T.null;
      case 'boolValue':
        return T.bool;
      case 'int64Value':
        return T.int;
      case 'uint64Value':
        return T.uint;
      case 'doubleValue':
        return T.double;
      case 'stringValue':
        return T.string(c.value.length);
      case 'bytesValue':
        return T.bytes;
      default:
        return T.dyn;
    }
  }

  select(e: Expr, t: CelT, field: string): CelT {
    switch (t.k) {
      case 'struct': {
        const f = t.fields[field];
        if (f !== undefined && Object.hasOwn(t.fields, field)) return f;
        this.problem(e, `${t.name} has no field '${field}' (fields: ${Object.keys(t.fields).join(', ')})`);
        return T.dyn;
      }
      case 'map':
        return t.value;
      case 'dyn':
        return T.dyn;
      default:
        this.problem(e, `cannot select field '${field}' from a value of type ${typeName(t)}`);
        return T.dyn;
    }
  }

  call(
    e: Expr,
    c: Extract<Expr['exprKind'], { case: 'callExpr' }>['value'],
    scope: Scope | undefined,
    depth: number,
    nesting: number,
  ): Typed {
    // `strings.quote(x)`: a namespaced global function, parsed as a method call on an identifier.
    const qualified = qualifiedName(c.target);
    const namespaced =
      qualified !== undefined && this.lookupQuiet(scope, qualified.split('.')[0] ?? '') === undefined
        ? `${qualified}.${c.function}`
        : undefined;
    const fn = namespaced !== undefined && Object.hasOwn(FUNCTIONS, namespaced) ? namespaced : c.function;
    const target =
      c.target === undefined || fn !== c.function
        ? undefined
        : this.visit(c.target, scope, depth + 1, nesting);
    const args = c.args.map((a) => this.visit(a, scope, depth + 1, nesting));
    const base = 1 + (target?.cost ?? 0) + args.reduce((s, a) => s + a.cost, 0);
    const at = args.map((a) => a.t);
    const op = OPERATOR_TEXT[fn] ?? fn;
    const bad = (): Typed => {
      this.problem(e, `no matching overload for '${op}' applied to (${at.map(typeName).join(', ')})`);
      return { t: T.dyn, cost: base };
    };
    const [a, b] = at;
    switch (fn) {
      case '_&&_':
      case '_||_':
      case '!_':
      case '@not_strictly_false':
        for (const x of at) if (x.k !== 'bool' && x.k !== 'dyn') return bad();
        return { t: T.bool, cost: base };
      case '_?_:_': {
        if (a === undefined || (a.k !== 'bool' && a.k !== 'dyn')) return bad();
        return { t: join(at[1] ?? T.dyn, at[2] ?? T.dyn), cost: base };
      }
      case '_==_':
      case '_!=_': {
        if (a === undefined || b === undefined || !comparable(a, b)) return bad();
        const scan =
          a.k === 'string' || b.k === 'string' ? scanCost(Math.min(this.strMax(a), this.strMax(b))) : 0;
        const lists =
          a.k === 'list' || b.k === 'list' || a.k === 'map' || b.k === 'map'
            ? Math.min(this.sizeOf(a), this.sizeOf(b))
            : 0;
        return { t: T.bool, cost: base + scan + lists };
      }
      case '_<_':
      case '_<=_':
      case '_>_':
      case '_>=_': {
        if (a === undefined || b === undefined || !orderable(a, b)) return bad();
        return {
          t: T.bool,
          cost: base + (a.k === 'string' ? scanCost(Math.min(this.strMax(a), this.strMax(b))) : 0),
        };
      }
      case '_+_':
        return this.add(a, b, base) ?? bad();
      case '_-_':
        return this.subtract(a, b, base) ?? bad();
      case '_*_':
      case '_/_':
      case '_%_': {
        if (a === undefined || b === undefined) return bad();
        if (a.k === 'dyn' || b.k === 'dyn') return { t: a.k === 'dyn' ? b : a, cost: base };
        const ok = a.k === b.k && (fn === '_%_' ? a.k === 'int' || a.k === 'uint' : NUMERIC.has(a.k));
        return ok ? { t: a, cost: base } : bad();
      }
      case '-_':
        if (a === undefined || !(a.k === 'int' || a.k === 'double' || a.k === 'dyn')) return bad();
        return { t: a, cost: base };
      case '_[_]':
        return this.index(e, c.args[1], a, b, base) ?? bad();
      case '@in': {
        if (a === undefined || b === undefined) return bad();
        if (b.k === 'list') return { t: T.bool, cost: base + b.max };
        if (b.k === 'map' || b.k === 'struct' || b.k === 'dyn') return { t: T.bool, cost: base + 1 };
        return bad();
      }
      case 'size': {
        const x = target?.t ?? a;
        if (x === undefined || at.length !== (target === undefined ? 1 : 0)) return bad();
        if (!['string', 'bytes', 'list', 'map', 'struct', 'dyn'].includes(x.k)) return bad();
        return { t: T.int, cost: base + (x.k === 'string' ? scanCost(x.max) : 0) };
      }
    }
    return this.library(e, fn, c, target, at, args, base);
  }

  lookupQuiet(scope: Scope | undefined, name: string): CelT | undefined {
    for (let s = scope; s !== undefined; s = s.parent) {
      const t = s.vars.get(name);
      if (t !== undefined) return t;
    }
    return this.top.get(name);
  }

  add(a: CelT | undefined, b: CelT | undefined, base: number): Typed | undefined {
    if (a === undefined || b === undefined) return undefined;
    if (a.k === 'dyn' || b.k === 'dyn') return { t: T.dyn, cost: base };
    if (a.k === 'string' && b.k === 'string')
      return { t: T.string(a.max + b.max), cost: base + scanCost(a.max + b.max) };
    if (a.k === 'list' && b.k === 'list') {
      return { t: T.list(join(a.elem, b.elem), a.max + b.max), cost: base + a.max + b.max };
    }
    if ((a.k === 'timestamp' && b.k === 'duration') || (a.k === 'duration' && b.k === 'timestamp')) {
      return { t: T.timestamp, cost: base };
    }
    if (a.k === b.k && (NUMERIC.has(a.k) || a.k === 'bytes' || a.k === 'duration'))
      return { t: a, cost: base };
    return undefined;
  }

  subtract(a: CelT | undefined, b: CelT | undefined, base: number): Typed | undefined {
    if (a === undefined || b === undefined) return undefined;
    if (a.k === 'dyn' || b.k === 'dyn') return { t: T.dyn, cost: base };
    if (a.k === 'timestamp' && b.k === 'timestamp') return { t: T.duration, cost: base };
    if (a.k === 'timestamp' && b.k === 'duration') return { t: T.timestamp, cost: base };
    if (a.k === b.k && (NUMERIC.has(a.k) || a.k === 'duration')) return { t: a, cost: base };
    return undefined;
  }

  index(
    e: Expr,
    keyExpr: Expr | undefined,
    a: CelT | undefined,
    b: CelT | undefined,
    base: number,
  ): Typed | undefined {
    if (a === undefined || b === undefined) return undefined;
    switch (a.k) {
      case 'list':
        return b.k === 'int' || b.k === 'uint' || b.k === 'dyn' ? { t: a.elem, cost: base } : undefined;
      case 'map':
        return { t: a.value, cost: base };
      case 'struct': {
        const key = keyExpr?.exprKind;
        if (key?.case === 'constExpr' && key.value.constantKind.case === 'stringValue') {
          return { t: this.select(e, a, key.value.constantKind.value), cost: base };
        }
        return { t: T.dyn, cost: base };
      }
      case 'dyn':
        return { t: T.dyn, cost: base };
      default:
        return undefined;
    }
  }

  library(
    e: Expr,
    fn: string,
    c: Extract<Expr['exprKind'], { case: 'callExpr' }>['value'],
    target: Typed | undefined,
    at: readonly CelT[],
    args: readonly Typed[],
    base: number,
  ): Typed {
    const overloads = Object.hasOwn(FUNCTIONS, fn) ? FUNCTIONS[fn] : undefined;
    const member = target !== undefined;
    const shaped = overloads?.filter(([recv]) => (recv !== '') === member);
    if (overloads === undefined || shaped === undefined || shaped.length === 0) {
      const where = member ? ` on ${typeName(target.t)}` : '';
      const kind =
        overloads === undefined ? 'unknown function' : member ? 'not a method' : 'a method, not a function';
      this.problem(
        e,
        `${kind} '${fn}'${where}${overloads === undefined ? '' : ` (write ${member ? `${fn}(x)` : `x.${fn}(…)`})`}`,
      );
      return { t: T.dyn, cost: base };
    }
    const arity = shaped.filter(([, params]) => (params === '' ? 0 : params.split(' ').length) === at.length);
    if (arity.length === 0) {
      const counts = [...new Set(shaped.map(([, p]) => (p === '' ? 0 : p.split(' ').length)))].join(' or ');
      this.problem(e, `'${fn}' takes ${counts} argument(s), not ${at.length}`);
      return { t: T.dyn, cost: base };
    }
    const fits = arity.filter(
      ([recv, params]) =>
        (recv === '' || target === undefined || accepts(recv, target.t)) &&
        (params === '' ? [] : params.split(' ')).every((p, i) => accepts(p, at[i] ?? T.dyn)),
    );
    if (fits.length === 0) {
      const recv = target === undefined ? '' : `${typeName(target.t)}.`;
      this.problem(e, `no matching overload for '${recv}${fn}' applied to (${at.map(typeName).join(', ')})`);
      return { t: T.dyn, cost: base };
    }
    const results = new Set(fits.map(([, , r]) => r));
    const [only] = results;
    let t = results.size === 1 && only !== undefined ? this.tok(only) : T.dyn;
    let cost = base;
    const scanned = target?.t ?? at[0];
    if (STRING_SCANS.has(fn) && scanned !== undefined) {
      const len = this.strMax(scanned);
      cost +=
        fn === 'matches'
          ? scanCost(len) * Math.max(1, Math.ceil(this.strMax(at[0] ?? T.dyn) / 16))
          : scanCost(len);
      if (t.k === 'string' && ['lowerAscii', 'upperAscii', 'trim', 'substring', 'charAt'].includes(fn))
        t = T.string(len);
      if (fn === 'split') t = T.list(T.string(len), len + 1);
      // Strings that grow: replace() can put the replacement between every character, quote() escapes.
      if (fn === 'replace') {
        const grown = (len + 1) * Math.max(1, this.strMax(at[1] ?? T.dyn));
        t = T.string(grown);
        cost += scanCost(grown);
      }
      if (fn === 'strings.quote') t = T.string(2 * len + 2);
    }
    if (fn === 'startsWith' || fn === 'endsWith') cost += scanCost(this.strMax(at[0] ?? T.dyn));
    if (fn === 'join' && target?.t.k === 'list') {
      const joined = target.t.max * (this.strMax(target.t.elem) + this.strMax(at[0] ?? T.string(0)));
      t = T.string(joined);
      cost += scanCost(joined);
    }
    this.literalArgument(fn, c, args);
    return { t, cost };
  }

  /** Literal arguments that can be checked now: RE2 patterns and CEL duration strings. */
  literalArgument(
    fn: string,
    c: Extract<Expr['exprKind'], { case: 'callExpr' }>['value'],
    args: readonly Typed[],
  ): void {
    const first = c.args[0];
    if (first === undefined || args.length !== 1) return;
    const k = first.exprKind;
    if (k.case !== 'constExpr' || k.value.constantKind.case !== 'stringValue') return;
    const text = k.value.constantKind.value;
    if (fn === 'matches') {
      const problem = this.regexp(text);
      if (problem !== undefined) this.problem(first, `invalid RE2 regexp: ${problem}`);
    }
    if (fn === 'duration' && !CEL_DURATION.test(text)) {
      this.problem(
        first,
        `'${text}' is not a CEL duration (h, m, s, ms, us, ns; there is no day unit: 30 days is "720h")`,
      );
    }
  }

  comprehension(
    e: Expr,
    c: Extract<Expr['exprKind'], { case: 'comprehensionExpr' }>['value'],
    scope: Scope | undefined,
    depth: number,
    nesting: number,
  ): Typed {
    if (nesting + 1 > MAX_COMPREHENSION_NESTING) {
      this.problem(
        e,
        `nests comprehensions (all, exists, map, filter) more than ${MAX_COMPREHENSION_NESTING} deep`,
        'ERR_POLICY_COST',
      );
    }
    const range =
      c.iterRange === undefined ? { t: T.dyn, cost: 0 } : this.visit(c.iterRange, scope, depth + 1, nesting);
    let iter: CelT = T.dyn;
    let iter2: CelT = T.dyn;
    switch (range.t.k) {
      case 'list':
        iter = c.iterVar2 === '' ? range.t.elem : T.int;
        iter2 = range.t.elem;
        break;
      case 'map':
        iter = range.t.key;
        iter2 = range.t.value;
        break;
      case 'struct':
        iter = T.string(this.sizes.string);
        break;
      case 'dyn':
        break;
      default:
        this.problem(c.iterRange, `cannot iterate over a value of type ${typeName(range.t)}`);
    }
    const count = this.sizeOf(range.t);
    const init =
      c.accuInit === undefined ? { t: T.dyn, cost: 0 } : this.visit(c.accuInit, scope, depth + 1, nesting);
    const loopVars = new Map<string, CelT>([[c.accuVar, init.t]]);
    loopVars.set(c.iterVar, iter);
    if (c.iterVar2 !== '') loopVars.set(c.iterVar2, iter2);
    const inner: Scope = scope === undefined ? { vars: loopVars } : { vars: loopVars, parent: scope };
    const cond =
      c.loopCondition === undefined
        ? { t: T.bool, cost: 0 }
        : this.visit(c.loopCondition, inner, depth + 1, nesting + 1);
    const step =
      c.loopStep === undefined
        ? { t: T.dyn, cost: 0 }
        : this.visit(c.loopStep, inner, depth + 1, nesting + 1);
    // map()/filter() accumulate a list one element per iteration: at most the range's size.
    const accu: CelT = init.t.k === 'list' && step.t.k === 'list' ? T.list(step.t.elem, count) : init.t;
    const resultScope: Scope = {
      vars: new Map([[c.accuVar, accu]]),
      ...(scope === undefined ? {} : { parent: scope }),
    };
    const result =
      c.result === undefined ? { t: accu, cost: 0 } : this.visit(c.result, resultScope, depth + 1, nesting);
    return { t: result.t, cost: range.cost + init.cost + count * (cond.cost + step.cost + 1) + result.cost };
  }
}

/**
 * Type-checks and costs one parsed expression. `bool` demands a boolean result (conditions and rules);
 * `dyn` results are checked when evaluated.
 */
export function checkExpression(
  parsed: Parsed,
  variables: Readonly<Record<string, CelT>>,
  regexp: RegexpCheck,
): CheckedExpression {
  const checker = new Checker(parsed, new Map(Object.entries(variables)), regexp, DECLARED);
  const { t, cost } = checker.visit(parsed.expr, undefined, 0, 0);
  if (checker.nodes > MAX_AST_NODES) {
    checker.problem(
      undefined,
      `has ${checker.nodes} nodes; at most ${MAX_AST_NODES} are accepted`,
      'ERR_POLICY_COST',
    );
  }
  if (t.k !== 'bool' && t.k !== 'dyn') {
    checker.problem(parsed.expr, `must evaluate to a bool, but has type ${typeName(t)}`);
  }
  if (cost > MAX_COST) {
    checker.problem(
      undefined,
      `has an estimated worst-case cost of ${cost.toExponential(1)}, over the limit of ${MAX_COST.toExponential(0)} (loops over large lists nested inside each other; see docs/policy.md "Cost")`,
      'ERR_POLICY_COST',
    );
  }
  return { type: t, cost, variables: checker.variables, problems: checker.problems };
}
