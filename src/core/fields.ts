import { VouchError, type VouchErrorCode } from './errors.js';
import { isRecord } from './json.js';

/**
 * How one document reports a structural failure: the code every failure carries and the message of a
 * `problem` at a JSON `path` (`''` names the document itself). `details` go into every error beside `path`.
 */
export interface FieldsContext {
  readonly code: VouchErrorCode;
  readonly message: (path: string, problem: string) => string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The plain context: `<source>: <path>: <problem>`, with `source` in the details. */
export function sourceContext(code: VouchErrorCode, source: string): FieldsContext {
  return {
    code,
    message: (path, problem) => `${source}: ${path === '' ? '' : `${path}: `}${problem}`,
    details: { source },
  };
}

export function failAt(ctx: FieldsContext, path: string, problem: string): never {
  throw new VouchError(ctx.code, ctx.message(path, problem), { details: { ...ctx.details, path } });
}

export interface StringOptions {
  /** The longest accepted string, in UTF-16 code units. */
  readonly max?: number;
  /** A required string refuses `''` as "must not be empty". */
  readonly nonEmpty?: boolean;
  /** A required string reports `''` as missing, "is required" (OSV, VEX, SBOMs: an empty id is no id). */
  readonly emptyIsAbsent?: boolean;
}

/**
 * Path-aware, typed accessors over one JSON object of an attacker-controlled document. Only own properties
 * are read (a `constructor` or `__proto__` key is data and never reaches Object.prototype); every failure
 * names the JSON path, e.g. `affected[0].ranges[1].events`. Unknown keys are ignored. A subclass keeps the
 * `(value, path, ctx)` constructor: nested objects are read by the same class.
 */
export class JsonFields {
  readonly #obj: Record<string, unknown>;

  constructor(
    value: unknown,
    readonly path: string,
    readonly ctx: FieldsContext,
  ) {
    if (!isRecord(value)) failAt(ctx, path, 'must be a JSON object');
    this.#obj = value;
  }

  /** The JSON path of a child key (`''` names this object itself). */
  at(key: string): string {
    if (key === '') return this.path;
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  fail(key: string, problem: string): never {
    return failAt(this.ctx, this.at(key), problem);
  }

  /** An own property; `undefined` when absent. */
  raw(key: string): unknown {
    return Object.hasOwn(this.#obj, key) ? this.#obj[key] : undefined;
  }

  has(key: string): boolean {
    return this.raw(key) !== undefined;
  }

  /** The object's own keys, in document order. */
  keys(): string[] {
    return Object.keys(this.#obj);
  }

  /** Reads `value`, found at `path` of the same document, as an object. */
  child(value: unknown, path: string): this {
    const Reader = this.constructor as new (value: unknown, path: string, ctx: FieldsContext) => this;
    return new Reader(value, path, this.ctx);
  }

  optString(key: string, opts: Pick<StringOptions, 'max'> = {}): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(key, 'must be a string');
    const max = opts.max ?? Number.POSITIVE_INFINITY;
    if (v.length > max) this.fail(key, `is ${v.length} characters; at most ${max} are accepted`);
    return v;
  }

  string(key: string, opts: StringOptions = {}): string {
    const v = this.optString(key, opts);
    if (v === undefined || (v === '' && opts.emptyIsAbsent === true)) this.fail(key, 'is required');
    if (v === '' && opts.nonEmpty === true) this.fail(key, 'must not be empty');
    return v;
  }

  optObject(key: string): this | undefined {
    const v = this.raw(key);
    return v === undefined ? undefined : this.child(v, this.at(key));
  }

  object(key: string): this {
    return this.optObject(key) ?? this.fail(key, 'is required');
  }

  /** An array (absent means empty) of at most `max` elements, each with its JSON path. */
  array(key: string, max: number): { value: unknown; path: string }[] {
    const v = this.raw(key);
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(key, 'must be an array');
    if (v.length > max) this.fail(key, `has ${v.length} elements; at most ${max} are accepted`);
    return v.map((value: unknown, i) => ({ value, path: `${this.at(key)}[${i}]` }));
  }

  /** An array of objects (absent means empty). */
  objects(key: string, max: number): this[] {
    return this.array(key, max).map(({ value, path }) => this.child(value, path));
  }

  /** An array of strings (absent means empty), each at most `maxChars` long. */
  strings(key: string, max: number, maxChars = Number.POSITIVE_INFINITY): string[] {
    return this.array(key, max).map(({ value, path }) => {
      if (typeof value !== 'string') failAt(this.ctx, path, 'must be a string');
      if (value.length > maxChars) failAt(this.ctx, path, `is longer than ${maxChars} characters`);
      return value;
    });
  }
}
