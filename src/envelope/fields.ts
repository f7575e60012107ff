import {
  DEFAULT_MAX_INPUT,
  fromBase64,
  isRecord,
  parseJson,
  VouchError,
  type VouchErrorCode,
} from '../core/index.js';

/**
 * How a document is read: the error code every structural failure carries, the document's name for
 * messages, and whether JSON `null` means "absent" (protobuf JSON mapping) or is simply the wrong type.
 */
export interface ReadContext {
  readonly code: VouchErrorCode;
  readonly what: string;
  readonly nullIsAbsent: boolean;
}

export function fail(ctx: ReadContext, path: string, message: string): never {
  const where = path === '' ? '' : `${path} `;
  throw new VouchError(ctx.code, `invalid ${ctx.what}: ${where}${message}`, { details: { path } });
}

/**
 * Parses JSON text or bytes of a document; the size is capped before parsing (input is attacker-controlled).
 * `wrap` re-codes JSON and UTF-8 failures with the document's own code; otherwise they stay ERR_JSON_PARSE /
 * ERR_INPUT_ENCODING.
 */
export function parseDocument(input: Uint8Array | string, ctx: ReadContext, wrap: boolean): unknown {
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > DEFAULT_MAX_INPUT) {
    throw new VouchError(
      'ERR_INPUT_TOO_LARGE',
      `${ctx.what} is ${size} bytes; the limit is ${DEFAULT_MAX_INPUT}`,
    );
  }
  if (!wrap) return parseJson(input, ctx.what);
  try {
    return parseJson(input, ctx.what);
  } catch (e) {
    throw new VouchError(ctx.code, (e as Error).message, { cause: e });
  }
}

const INT64_MAX = (1n << 63n) - 1n;
const DECIMAL = /^-?(?:0|[1-9][0-9]*)$/;

/**
 * Path-aware, typed accessors over one JSON object of an attacker-controlled document. Only own properties
 * are read (a `constructor` or `__proto__` key never reaches Object.prototype); every failure names the
 * JSON path, e.g. `verificationMaterial.tlogEntries[0].logIndex`. Unknown keys are ignored.
 */
export class Fields {
  readonly #obj: Record<string, unknown>;
  readonly path: string;
  readonly ctx: ReadContext;

  constructor(value: unknown, path: string, ctx: ReadContext) {
    if (!isRecord(value)) fail(ctx, path, 'must be a JSON object');
    this.#obj = value;
    this.path = path;
    this.ctx = ctx;
  }

  /** The JSON path of a child key (`''` names this object itself). */
  at(key: string): string {
    if (key === '') return this.path;
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  fail(key: string, message: string): never {
    return fail(this.ctx, this.at(key), message);
  }

  raw(key: string): unknown {
    if (!Object.hasOwn(this.#obj, key)) return undefined;
    const v = this.#obj[key];
    return v === null && this.ctx.nullIsAbsent ? undefined : v;
  }

  /** The object's own keys, in document order. */
  keys(): string[] {
    return Object.keys(this.#obj);
  }

  has(key: string): boolean {
    return this.raw(key) !== undefined;
  }

  optString(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(key, 'must be a string');
    return v;
  }

  string(key: string, opts: { nonEmpty?: boolean } = {}): string {
    const v = this.optString(key);
    if (v === undefined) this.fail(key, 'is required');
    if (opts.nonEmpty === true && v === '') this.fail(key, 'must not be empty');
    return v;
  }

  optBytes(key: string): Buffer | undefined {
    const v = this.raw(key);
    return v === undefined ? undefined : decodeBytes(this.ctx, v, this.at(key));
  }

  bytes(key: string, opts: { nonEmpty?: boolean } = {}): Buffer {
    const v = this.optBytes(key);
    if (v === undefined) this.fail(key, 'is required');
    if (opts.nonEmpty === true && v.byteLength === 0) this.fail(key, 'must not be empty');
    return v;
  }

  optObject(key: string): Fields | undefined {
    const v = this.raw(key);
    return v === undefined ? undefined : new Fields(v, this.at(key), this.ctx);
  }

  object(key: string): Fields {
    const f = this.optObject(key);
    if (f === undefined) this.fail(key, 'is required');
    return f;
  }

  /** A JSON array (absent means empty, as in protobuf JSON) of at most `max` elements, with each path. */
  array(key: string, max: number): { value: unknown; path: string }[] {
    const v = this.raw(key);
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(key, 'must be an array');
    if (v.length > max) this.fail(key, `has ${v.length} elements; at most ${max} are accepted`);
    return v.map((value: unknown, i) => ({ value, path: `${this.at(key)}[${i}]` }));
  }

  /**
   * A protobuf JSON int64: a decimal string (or a JSON number that is a safe integer). proto3 JSON omits
   * zero-valued scalars, so an absent field is 0. Negative values are refused: every int64 Vouch reads is an
   * index, a size or a time, and a negative one only ever comes from a forged bundle.
   */
  uint64(key: string): bigint {
    const v = this.raw(key);
    if (v === undefined) return 0n;
    let n: bigint;
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) this.fail(key, 'must be an integer');
      n = BigInt(v);
    } else if (typeof v === 'string' && DECIMAL.test(v)) {
      n = BigInt(v);
    } else {
      return this.fail(key, 'must be an int64 (a decimal string)');
    }
    if (n < 0n) this.fail(key, 'must not be negative');
    if (n > INT64_MAX) this.fail(key, 'does not fit in an int64');
    return n;
  }
}

/** Strict base64 (standard or URL-safe, as protobuf JSON and DSSE allow) of a value at `path`. */
export function decodeBytes(ctx: ReadContext, value: unknown, path: string): Buffer {
  if (typeof value !== 'string') fail(ctx, path, 'must be a base64 string');
  try {
    return fromBase64(value);
  } catch {
    return fail(ctx, path, 'is not valid base64');
  }
}

/** The elements of an array field, each as an object. */
export function objects(parent: Fields, key: string, max: number): Fields[] {
  return parent.array(key, max).map(({ value, path }) => new Fields(value, path, parent.ctx));
}
