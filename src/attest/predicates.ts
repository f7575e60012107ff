import { type FieldsContext, failAt, isRecord, JsonFields, parseJson, VouchError } from '../core/index.js';
import { parseStatement, STATEMENT_V1, STATEMENT_V01, type Statement } from '../envelope/index.js';
import { LICENSES_PREDICATE_TYPE } from './licenses/evaluate.js';
import { SLSA_PROVENANCE_V1 } from './provenance/provenance.js';
import { VULNS_PREDICATE_TYPE } from './vuln/predicate.js';

/**
 * The predicate types Vouch produces and reads back, and a shape check for each: signing a document of the
 * wrong kind under a type, or accepting one on verification, would let a gate trust the wrong thing.
 * The checks are structural (the fields a consumer relies on), not full schema validation.
 */
export const PREDICATE_TYPES = {
  slsa: SLSA_PROVENANCE_V1,
  cyclonedx: 'https://cyclonedx.org/bom',
  spdx: 'https://spdx.dev/Document',
  vulns: VULNS_PREDICATE_TYPE,
  openvex: 'https://openvex.dev/ns/v0.2.0',
  licenses: LICENSES_PREDICATE_TYPE,
} as const;

/** Failures read `<source>: <path> must be …`, with details.check "predicate". */
function predicateContext(source: string): FieldsContext {
  return {
    code: 'ERR_PREDICATE_MALFORMED',
    message: (path, problem) => `${source}: ${path} ${problem}`,
    details: { check: 'predicate' },
  };
}

// The predicate checks word absence and a wrong type as one failure ("must be an object").

function object(value: unknown, ctx: FieldsContext, path: string): JsonFields {
  if (!isRecord(value)) failAt(ctx, path, 'must be an object');
  return new JsonFields(value, path, ctx);
}

function obj(f: JsonFields, key: string): JsonFields {
  return object(f.raw(key), f.ctx, f.at(key));
}

function str(f: JsonFields, key: string, path = f.at(key)): string {
  const v = f.raw(key);
  if (typeof v !== 'string' || v.length === 0) failAt(f.ctx, path, 'must be a non-empty string');
  return v;
}

/** An optional array: absent is empty, anything else must be an array of objects. */
function objects(f: JsonFields, key: string): JsonFields[] {
  return f.array(key, Number.POSITIVE_INFINITY).map(({ value, path }) => object(value, f.ctx, path));
}

// SLSA Provenance v1 §"Schema": buildDefinition.buildType and runDetails.builder.id are REQUIRED.
function slsa(p: JsonFields): string {
  const def = obj(p, 'buildDefinition');
  const buildType = str(def, 'buildType');
  obj(def, 'externalParameters');
  const deps = objects(def, 'resolvedDependencies');
  const id = str(obj(obj(p, 'runDetails'), 'builder'), 'id');
  return `SLSA provenance v1: builder ${id}, build type ${buildType}, ${deps.length} resolved dependencies`;
}

// CycloneDX 1.6 JSON: bomFormat and specVersion are required.
function cyclonedx(p: JsonFields): string {
  if (p.raw('bomFormat') !== 'CycloneDX') p.fail('bomFormat', 'must be "CycloneDX"');
  const version = str(p, 'specVersion');
  if (!/^1\.[0-9]$/.test(version)) p.fail('specVersion', 'must be a CycloneDX 1.x version');
  const components = objects(p, 'components');
  return `CycloneDX ${version} SBOM: ${components.length} components`;
}

// SPDX 2.3 §6: spdxVersion, SPDXID "SPDXRef-DOCUMENT" and dataLicense are mandatory.
function spdx(p: JsonFields): string {
  const version = str(p, 'spdxVersion');
  if (!/^SPDX-2\.[0-3]$/.test(version)) p.fail('spdxVersion', 'must be SPDX-2.0 … SPDX-2.3');
  if (p.raw('SPDXID') !== 'SPDXRef-DOCUMENT') p.fail('SPDXID', 'must be "SPDXRef-DOCUMENT"');
  const packages = objects(p, 'packages');
  return `${version} SBOM: ${packages.length} packages`;
}

// in-toto vulns predicate v0.2: scanner.uri is required, scanner.result lists the findings.
function vulns(p: JsonFields): string {
  const scanner = obj(p, 'scanner');
  const uri = str(scanner, 'uri');
  const results = objects(scanner, 'result');
  for (const r of results) str(r, 'id');
  return `vulnerability scan by ${uri}: ${results.length} results`;
}

const VEX_STATUS = new Set(['not_affected', 'affected', 'fixed', 'under_investigation']);
/** `@context` is no identifier, so its path uses bracket notation. */
const VEX_CONTEXT_PATH = 'predicate["@context"]';

// OpenVEX v0.2.0: @context, @id, author, timestamp and statements[] with a status each.
function openvex(p: JsonFields): string {
  const context = str(p, '@context', VEX_CONTEXT_PATH);
  if (!context.startsWith('https://openvex.dev/ns'))
    failAt(p.ctx, VEX_CONTEXT_PATH, 'must be an OpenVEX context');
  const statements = objects(p, 'statements');
  for (const st of statements) {
    const status = st.raw('status');
    if (typeof status !== 'string' || !VEX_STATUS.has(status)) {
      st.fail('status', `must be ${[...VEX_STATUS].join(' | ')}`);
    }
  }
  return `OpenVEX document: ${statements.length} statements`;
}

/** A non-negative integer count, as the licences schema defines it. */
function count(f: JsonFields, key: string): number {
  const v = f.raw(key);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) f.fail(key, 'must be a count');
  return v;
}

// Vouch licences v1 (schemas/licenses-v1.schema.json): `result` is "fail" exactly when there are violations.
function licenses(p: JsonFields): string {
  const result = p.raw('result');
  if (result !== 'pass' && result !== 'fail') p.fail('result', 'must be "pass" or "fail"');
  const components = count(obj(p, 'summary'), 'components');
  objects(p, 'components');
  const violations = objects(p, 'violations');
  if ((result === 'fail') !== violations.length > 0) {
    p.fail('result', `must be "${violations.length > 0 ? 'fail' : 'pass'}" given its violations`);
  }
  return `licence evaluation: ${result}, ${components} components, ${violations.length} violations`;
}

const CHECKS: Readonly<Record<string, (p: JsonFields) => string>> = {
  [PREDICATE_TYPES.slsa]: slsa,
  [PREDICATE_TYPES.cyclonedx]: cyclonedx,
  [PREDICATE_TYPES.spdx]: spdx,
  [PREDICATE_TYPES.vulns]: vulns,
  [PREDICATE_TYPES.openvex]: openvex,
  [PREDICATE_TYPES.licenses]: licenses,
};

/**
 * Checks that `predicate` has the shape its type promises and returns a one-line description of it.
 * Types Vouch does not know pass unchecked (the description says so): custom predicates are the caller's.
 */
export function checkPredicate(predicateType: string, predicate: unknown, source: string): string {
  const check = CHECKS[predicateType];
  if (check === undefined) return `predicate of type ${predicateType} (not checked by Vouch)`;
  return check(object(predicate, predicateContext(source), 'predicate'));
}

/**
 * Reads a predicate file for `attest`: either the predicate itself, or a whole in-toto Statement (what
 * `vouch provenance` writes) of the same predicate type, whose predicate is taken. The caller must then check
 * that one of the statement's subjects is the artifact being attested (`assertSubjectMatches`): re-signing a
 * statement about other files would misattribute it.
 */
export function readPredicateFile(
  bytes: Uint8Array,
  source: string,
  predicateType: string,
): { predicate: unknown; statement?: Statement } {
  const json = parseJson(bytes, source);
  if (!isRecord(json) || (json['_type'] !== STATEMENT_V1 && json['_type'] !== STATEMENT_V01)) {
    return { predicate: json };
  }
  const statement = parseStatement(bytes);
  if (statement.predicateType !== predicateType) {
    throw new VouchError(
      'ERR_INTOTO_PREDICATE_TYPE',
      `${source} is a statement of type ${statement.predicateType}, not ${predicateType}`,
    );
  }
  return { predicate: statement.predicate, statement };
}
