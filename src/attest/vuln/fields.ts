import { isRecord, VouchError, type VouchErrorCode } from '../../core/index.js';

/**
 * Own-property, path-aware reading of one object of an attacker-controlled JSON document (OSV records,
 * OpenVEX documents). A `__proto__` or `constructor` key is only ever data; every failure is `code` with the
 * document's name and the JSON path, e.g. `GHSA-x.json: affected[0].ranges[1].events[0]: must be an object`.
 */
export class JsonObject {
  readonly #o: Record<string, unknown>;

  constructor(
    value: unknown,
    readonly path: string,
    readonly source: string,
    readonly code: VouchErrorCode,
  ) {
    if (!isRecord(value)) fail(code, source, path, 'must be a JSON object');
    this.#o = value;
  }

  /** The JSON path of a child key (`''` names this object itself). */
  at(key: string): string {
    if (key === '') return this.path;
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  fail(key: string, message: string): never {
    return fail(this.code, this.source, this.at(key), message);
  }

  raw(key: string): unknown {
    return Object.hasOwn(this.#o, key) ? this.#o[key] : undefined;
  }

  keys(): string[] {
    return Object.keys(this.#o);
  }

  optString(key: string, max: number): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(key, 'must be a string');
    if (v.length > max) this.fail(key, `is ${v.length} characters; at most ${max} are accepted`);
    return v;
  }

  string(key: string, max: number): string {
    const v = this.optString(key, max);
    if (v === undefined || v === '') this.fail(key, 'is required');
    return v;
  }

  optObject(key: string): JsonObject | undefined {
    const v = this.raw(key);
    return v === undefined ? undefined : new JsonObject(v, this.at(key), this.source, this.code);
  }

  /** An optional array (absent means empty) of at most `max` elements, each with its JSON path. */
  array(key: string, max: number): { value: unknown; path: string }[] {
    const v = this.raw(key);
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(key, 'must be an array');
    if (v.length > max) this.fail(key, `has ${v.length} elements; at most ${max} are accepted`);
    return v.map((value: unknown, i) => ({ value, path: `${this.at(key)}[${i}]` }));
  }

  objects(key: string, max: number): JsonObject[] {
    return this.array(key, max).map(({ value, path }) => new JsonObject(value, path, this.source, this.code));
  }

  strings(key: string, max: number, maxChars: number): string[] {
    return this.array(key, max).map(({ value, path }) => {
      if (typeof value !== 'string') fail(this.code, this.source, path, 'must be a string');
      if (value.length > maxChars)
        fail(this.code, this.source, path, `is longer than ${maxChars} characters`);
      return value;
    });
  }
}

export function fail(code: VouchErrorCode, source: string, path: string, message: string): never {
  throw new VouchError(code, `${source}: ${path === '' ? '' : `${path}: `}${message}`, {
    details: { source, path },
  });
}

/** RFC 3339 date-time (OSV `modified`/`published`/`withdrawn`, OpenVEX `timestamp`), checked as a real date. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export function isTimestamp(s: string): boolean {
  return RFC3339.test(s) && !Number.isNaN(Date.parse(s));
}
