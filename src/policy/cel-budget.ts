import type * as Cel from '@bufbuild/cel';

/**
 * What one run of an expression may build: the wall-clock limit bounds how long CEL runs, not how much it
 * allocates, and copying runs at memory speed (`[s,s,s,s,s,s,s,s,s,s].join("")` five levels deep asks for
 * 300 MB per string and aborted the process with heap out of memory). Every library function that builds a
 * value as large as its inputs is replaced by one that counts what it builds; past the budget the call is a
 * CEL error, so the check fails (ERR_POLICY_CEL) and the process lives. Both policy and input are
 * attacker-controlled here. The strings extension's own `replace`, `lowerAscii`, `upperAscii` and `quote`
 * grow their result one piece at a time (quadratic, or a rope of one node per character); these are linear.
 */

/** Characters (string or bytes) one run may build: 32 Mi, at most 64 MiB as UTF-16. */
export const MAX_BUILT_CHARS = 32 * 1024 * 1024;
/** Elements of one list built with `+` (the concatenation itself is lazy; iterating it is not). */
export const MAX_BUILT_LIST = 1024 * 1024;

let built = 0;

/** Starts the budget of one run (evaluation is synchronous, so one counter serves every run in turn). */
export function resetBudget(): void {
  built = 0;
}

function charge(n: number, what: string): void {
  built += n;
  if (built > MAX_BUILT_CHARS) {
    throw new Error(
      `${what} would take the strings built by this expression past ${MAX_BUILT_CHARS} characters (the policy limit)`,
    );
  }
}

/** cel-go's strings.Replace semantics: `n < 0` replaces all; an empty `from` matches before every code point and at the end. */
export function replaceLinear(s: string, from: string, to: string, n: number): string {
  const limit = n < 0 ? Number.POSITIVE_INFINITY : n;
  const parts: string[] = [];
  if (from === '') {
    let count = 0;
    for (const cp of s) {
      if (count < limit) {
        parts.push(to);
        count++;
      }
      parts.push(cp);
    }
    if (count < limit) {
      parts.push(to);
      count++;
    }
    charge(s.length + count * to.length, 'replace()');
    return parts.join('');
  }
  const at: number[] = [];
  for (let i = s.indexOf(from); i >= 0 && at.length < limit; i = s.indexOf(from, i + from.length)) at.push(i);
  charge(s.length + at.length * Math.max(0, to.length - from.length), 'replace()');
  let pos = 0;
  for (const i of at) {
    parts.push(s.slice(pos, i), to);
    pos = i + from.length;
  }
  parts.push(s.slice(pos));
  return parts.join('');
}

const QUOTED: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '"': '\\"',
  '\\': '\\\\',
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters quote() escapes.
const QUOTE = /[\0\x07\b\t\n\v\f\r"\\]/g;

/** Size of what `format` would write for `args`, counted until it passes `limit` (the walk is iterative: inputs nest deeply). */
function formattedSize(cel: typeof Cel, args: Iterable<unknown>, limit: number): number {
  let n = 0;
  const stack: Iterator<unknown>[] = [args[Symbol.iterator]()];
  while (stack.length > 0 && n <= limit) {
    const r = (stack[stack.length - 1] as Iterator<unknown>).next();
    if (r.done === true) {
      stack.pop();
      continue;
    }
    const v = r.value;
    n += 2;
    if (typeof v === 'string') n += v.length;
    else if (v instanceof Uint8Array) n += 2 * v.length;
    else if (Array.isArray(v) || cel.isCelList(v) || cel.isCelMap(v))
      stack.push((v as Iterable<unknown>)[Symbol.iterator]());
    else n += 32;
  }
  return n;
}

type Impl = (this: unknown, ...args: unknown[]) => unknown;

/**
 * The metered functions, under the ids of the ones they replace (a later function with the same id wins in
 * @bufbuild/cel's resolver). `originals` are the library's functions: std and the strings extension.
 */
export function meteredFunctions(cel: typeof Cel, originals: Iterable<Cel.CelFunc>): Cel.CelFunc[] {
  const byId = new Map<string, Cel.CelFunc>();
  for (const f of originals) byId.set(f.id, f);
  const replace = (id: string, impl: Impl): Cel.CelFunc => {
    const f = byId.get(id);
    if (f === undefined) throw new TypeError(`@bufbuild/cel has no function ${id} to meter`);
    const make = f.target === undefined ? cel.celFunc : cel.celMethod;
    const args =
      f.target === undefined
        ? [f.name, f.arguments, f.result, impl]
        : [f.name, f.target, f.arguments, f.result, impl];
    return (make as (...a: unknown[]) => Cel.CelFunc)(...args);
  };
  /** The library's function, after `meter` has counted what it will build. */
  const metered = (id: string, meter: (target: unknown, args: unknown[]) => void): Cel.CelFunc => {
    const f = byId.get(id);
    return replace(id, function (this: unknown, ...args: unknown[]) {
      meter(this, args);
      const r = f?.call(0, this as Cel.CelValue, args as Cel.CelValue[]);
      if (cel.isCelError(r)) throw r;
      return r;
    });
  };
  const len = (v: unknown) => (typeof v === 'string' || v instanceof Uint8Array ? v.length : 0);
  const joined = (list: unknown, sep: unknown) => {
    let n = 0;
    for (const item of list as Iterable<unknown>) {
      n += len(item) + len(sep);
      if (built + n > MAX_BUILT_CHARS) break;
    }
    charge(n, 'join()');
  };
  return [
    metered('_+_(string,string)', (_t, [l, r]) => charge(len(l) + len(r), '+')),
    metered('_+_(bytes,bytes)', (_t, [l, r]) => charge(len(l) + len(r), '+')),
    metered('_+_(list,list)', (_t, [l, r]) => {
      const size = (l as Cel.CelList).size + (r as Cel.CelList).size;
      if (size > MAX_BUILT_LIST)
        throw new Error(
          `+ would build a list of ${size} elements; at most ${MAX_BUILT_LIST} (the policy limit)`,
        );
    }),
    metered('bytes(string)', (_t, [s]) => charge(len(s), 'bytes()')),
    metered('string(bytes)', (_t, [b]) => charge(len(b), 'string()')),
    metered('list.join()', (t) => joined(t, '')),
    metered('list.join(string)', (t, [sep]) => joined(t, sep)),
    metered('string.split(string)', (t) => charge(len(t), 'split()')),
    metered('string.split(string,int)', (t) => charge(len(t), 'split()')),
    metered('string.format(list)', (t, [args]) =>
      charge(len(t) + formattedSize(cel, args as Iterable<unknown>, MAX_BUILT_CHARS - built), 'format()'),
    ),
    replace('string.replace(string,string)', function (this: unknown, from, to) {
      return replaceLinear(this as string, from as string, to as string, -1);
    }),
    replace('string.replace(string,string,int)', function (this: unknown, from, to, n) {
      return replaceLinear(this as string, from as string, to as string, Number(n));
    }),
    replace('string.lowerAscii()', function (this: unknown) {
      charge(len(this), 'lowerAscii()');
      return (this as string).replace(/[A-Z]+/g, (m) => m.toLowerCase());
    }),
    replace('string.upperAscii()', function (this: unknown) {
      charge(len(this), 'upperAscii()');
      return (this as string).replace(/[a-z]+/g, (m) => m.toUpperCase());
    }),
    replace('strings.quote(string)', (s) => {
      charge(2 * len(s) + 2, 'strings.quote()');
      return `"${(s as string).replace(QUOTE, (c) => QUOTED[c] ?? c)}"`;
    }),
  ];
}
