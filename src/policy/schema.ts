import { readFileSync } from 'node:fs';
import type * as Ajv2020 from 'ajv/dist/2020.js';
import { lazyRequire } from '../core/index.js';
import type { Path, SourceDocument } from './source.js';

const ajv2020 = lazyRequire<typeof Ajv2020>('ajv/dist/2020.js');

/**
 * The published schema, read from the package: `schemas/` sits two levels above this module in src/,
 * in dist/policy/ and in the bundled dist/bin/, so one relative URL serves all three.
 */
const SCHEMA_URL = new URL('../../schemas/policy-v1.schema.json', import.meta.url);

type Validate = Ajv2020.ValidateFunction;
type SchemaError = NonNullable<Validate['errors']>[number];

let validator: Validate | undefined;

function validate(): Validate {
  if (validator === undefined) {
    const Ajv = ajv2020().Ajv2020;
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object);
  }
  return validator;
}

/** `/spec/rules/0/id` → ['spec', 'rules', 0, 'id'] (RFC 6901 unescaping). */
function pointerPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function schemaOf(e: SchemaError): Record<string, unknown> {
  return (e.parentSchema ?? {}) as Record<string, unknown>;
}

/** The `required` alternatives of an anyOf/oneOf, as "a or b". */
function alternatives(e: SchemaError): string {
  const branches = (schemaOf(e)[e.keyword] ?? []) as { required?: string[] }[];
  return branches.map((b) => (b.required ?? []).join(' and ')).join(' or ');
}

function describe(e: SchemaError): { path: Path; message: string; key?: boolean } {
  const path = pointerPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  const schema = schemaOf(e);
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String(params['additionalProperty']);
      const known = Object.keys((schema['properties'] ?? {}) as object);
      return {
        path: [...path, extra],
        key: true,
        message: `unknown field "${extra}"${known.length > 0 ? ` (expected one of ${known.join(', ')})` : ''}`,
      };
    }
    case 'required':
      return { path: [...path, String(params['missingProperty'])], message: 'is required' };
    case 'anyOf':
      return { path, message: `needs ${alternatives(e)}` };
    case 'oneOf':
      return { path, message: `needs exactly one of ${alternatives(e)}` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params['allowedValue'])}` };
    case 'enum':
      return {
        path,
        message: `must be one of ${(params['allowedValues'] as unknown[]).map(String).join(', ')}`,
      };
    case 'pattern': {
      const description = schema['description'];
      return {
        path,
        message: `${JSON.stringify(e.data)} is not valid${typeof description === 'string' ? `: ${description}` : ''}`,
      };
    }
    case 'propertyNames':
      return { path, message: 'has a field name that is not valid' };
    default:
      return { path, message: e.message ?? `fails ${e.keyword}` };
  }
}

/**
 * Validates the document against schemas/policy-v1.schema.json and records every violation with its
 * path and line. Errors inside a failed anyOf/oneOf branch are left out: the alternative's message says it.
 */
export function validateSchema(doc: SourceDocument): boolean {
  const check = validate();
  if (check(doc.value)) return true;
  const errors = check.errors ?? [];
  const branches = errors
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .map((e) => e.schemaPath);
  const seen = new Set<string>();
  for (const e of errors) {
    if (branches.some((b) => e.schemaPath !== b && e.schemaPath.startsWith(`${b}/`))) continue;
    // `propertyNames` reports each name it rejects twice (the name, then the keyword); keep one.
    if (e.propertyName !== undefined) continue;
    const d = describe(e);
    const key = `${d.path.join('/')}\u0000${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    doc.add(d.path, d.message, d.key === true ? { key: true } : {});
  }
  return false;
}
