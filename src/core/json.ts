import { decodeUtf8 } from './encoding.js';
import { VouchError } from './errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Parses JSON from bytes or text; every failure is ERR_JSON_PARSE (or ERR_INPUT_ENCODING for bad UTF-8). */
export function parseJson(input: Uint8Array | string, what = 'JSON input'): unknown {
  const text = typeof input === 'string' ? input : decodeUtf8(input, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new VouchError('ERR_JSON_PARSE', `${what} is not valid JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * RFC 8785 (JCS) canonical JSON: keys sorted by UTF-16 code units, no whitespace, ECMAScript number and
 * string serialisation. Rekor's SET payload is signed over this form.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: unsupported type ${typeof value}`);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
