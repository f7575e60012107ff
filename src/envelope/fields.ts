import {
  DEFAULT_MAX_INPUT,
  type FieldsContext,
  failAt,
  fromBase64,
  JsonFields,
  parseJson,
  VouchError,
  type VouchErrorCode,
} from '../core/index.js';

/**
 * How a protobuf-JSON or DSSE document is read: the error code every structural failure carries, the
 * document's name for messages, and whether JSON `null` means "absent" (protobuf JSON mapping) or is simply
 * the wrong type.
 */
export interface ReadContext extends FieldsContext {
  readonly what: string;
  readonly nullIsAbsent: boolean;
}

export function readContext(code: VouchErrorCode, what: string, nullIsAbsent: boolean): ReadContext {
  return {
    code,
    what,
    nullIsAbsent,
    message: (path, problem) => `invalid ${what}: ${path === '' ? '' : `${path} `}${problem}`,
  };
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

/** The core reader with protobuf JSON's extras: `null` as absent (per context), base64 bytes and int64. */
export class Fields extends JsonFields {
  constructor(
    value: unknown,
    path: string,
    override readonly ctx: ReadContext,
  ) {
    super(value, path, ctx);
  }

  override raw(key: string): unknown {
    const v = super.raw(key);
    return v === null && this.ctx.nullIsAbsent ? undefined : v;
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
export function decodeBytes(ctx: FieldsContext, value: unknown, path: string): Buffer {
  if (typeof value !== 'string') failAt(ctx, path, 'must be a base64 string');
  try {
    return fromBase64(value);
  } catch {
    return failAt(ctx, path, 'is not valid base64');
  }
}
