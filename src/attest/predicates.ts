import { isRecord, parseJson, VouchError } from '../core/index.js';
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

type Json = Readonly<Record<string, unknown>>;

function malformed(source: string, path: string, expected: string): VouchError {
  return new VouchError('ERR_PREDICATE_MALFORMED', `${source}: ${path} must be ${expected}`, {
    details: { path, check: 'predicate' },
  });
}

function obj(v: unknown, source: string, path: string): Json {
  if (!isRecord(v)) throw malformed(source, path, 'an object');
  return v;
}

function str(v: unknown, source: string, path: string): string {
  if (typeof v !== 'string' || v.length === 0) throw malformed(source, path, 'a non-empty string');
  return v;
}

/** An optional array: absent is empty, anything else must be an array of objects. */
function objects(v: unknown, source: string, path: string): Json[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw malformed(source, path, 'an array');
  return v.map((e, i) => obj(e, source, `${path}[${i}]`));
}

function own(o: Json, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

// SLSA Provenance v1 §"Schema": buildDefinition.buildType and runDetails.builder.id are REQUIRED.
function slsa(p: Json, s: string): string {
  const def = obj(own(p, 'buildDefinition'), s, 'predicate.buildDefinition');
  const buildType = str(own(def, 'buildType'), s, 'predicate.buildDefinition.buildType');
  obj(own(def, 'externalParameters'), s, 'predicate.buildDefinition.externalParameters');
  const deps = objects(own(def, 'resolvedDependencies'), s, 'predicate.buildDefinition.resolvedDependencies');
  const run = obj(own(p, 'runDetails'), s, 'predicate.runDetails');
  const builder = obj(own(run, 'builder'), s, 'predicate.runDetails.builder');
  const id = str(own(builder, 'id'), s, 'predicate.runDetails.builder.id');
  return `SLSA provenance v1: builder ${id}, build type ${buildType}, ${deps.length} resolved dependencies`;
}

// CycloneDX 1.6 JSON: bomFormat and specVersion are required.
function cyclonedx(p: Json, s: string): string {
  if (own(p, 'bomFormat') !== 'CycloneDX') throw malformed(s, 'predicate.bomFormat', '"CycloneDX"');
  const version = str(own(p, 'specVersion'), s, 'predicate.specVersion');
  if (!/^1\.[0-9]$/.test(version)) throw malformed(s, 'predicate.specVersion', 'a CycloneDX 1.x version');
  const components = objects(own(p, 'components'), s, 'predicate.components');
  return `CycloneDX ${version} SBOM: ${components.length} components`;
}

// SPDX 2.3 §6: spdxVersion, SPDXID "SPDXRef-DOCUMENT" and dataLicense are mandatory.
function spdx(p: Json, s: string): string {
  const version = str(own(p, 'spdxVersion'), s, 'predicate.spdxVersion');
  if (!/^SPDX-2\.[0-3]$/.test(version)) throw malformed(s, 'predicate.spdxVersion', 'SPDX-2.0 … SPDX-2.3');
  if (own(p, 'SPDXID') !== 'SPDXRef-DOCUMENT') throw malformed(s, 'predicate.SPDXID', '"SPDXRef-DOCUMENT"');
  const packages = objects(own(p, 'packages'), s, 'predicate.packages');
  return `${version} SBOM: ${packages.length} packages`;
}

// in-toto vulns predicate v0.2: scanner.uri is required, scanner.result lists the findings.
function vulns(p: Json, s: string): string {
  const scanner = obj(own(p, 'scanner'), s, 'predicate.scanner');
  const uri = str(own(scanner, 'uri'), s, 'predicate.scanner.uri');
  const results = objects(own(scanner, 'result'), s, 'predicate.scanner.result');
  results.forEach((r, i) => {
    str(own(r, 'id'), s, `predicate.scanner.result[${i}].id`);
  });
  return `vulnerability scan by ${uri}: ${results.length} results`;
}

const VEX_STATUS = new Set(['not_affected', 'affected', 'fixed', 'under_investigation']);

// OpenVEX v0.2.0: @context, @id, author, timestamp and statements[] with a status each.
function openvex(p: Json, s: string): string {
  const context = str(own(p, '@context'), s, 'predicate["@context"]');
  if (!context.startsWith('https://openvex.dev/ns'))
    throw malformed(s, 'predicate["@context"]', 'an OpenVEX context');
  const statements = objects(own(p, 'statements'), s, 'predicate.statements');
  statements.forEach((st, i) => {
    const status = own(st, 'status');
    if (typeof status !== 'string' || !VEX_STATUS.has(status)) {
      throw malformed(s, `predicate.statements[${i}].status`, [...VEX_STATUS].join(' | '));
    }
  });
  return `OpenVEX document: ${statements.length} statements`;
}

/** A non-negative integer count, as the licences schema defines it. */
function count(v: unknown, source: string, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed(source, path, 'a count');
  return v;
}

// Vouch licences v1 (schemas/licenses-v1.schema.json): `result` is "fail" exactly when there are violations.
function licenses(p: Json, s: string): string {
  const result = own(p, 'result');
  if (result !== 'pass' && result !== 'fail') throw malformed(s, 'predicate.result', '"pass" or "fail"');
  const summary = obj(own(p, 'summary'), s, 'predicate.summary');
  const components = count(own(summary, 'components'), s, 'predicate.summary.components');
  objects(own(p, 'components'), s, 'predicate.components');
  const violations = objects(own(p, 'violations'), s, 'predicate.violations');
  if ((result === 'fail') !== violations.length > 0) {
    throw malformed(
      s,
      'predicate.result',
      `"${violations.length > 0 ? 'fail' : 'pass'}" given its violations`,
    );
  }
  return `licence evaluation: ${result}, ${components} components, ${violations.length} violations`;
}

const CHECKS: Readonly<Record<string, (p: Json, source: string) => string>> = {
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
  return check(obj(predicate, source, 'predicate'), source);
}

/**
 * Reads a predicate file for `attest`: either the predicate itself, or a whole in-toto Statement (what
 * `vouch provenance` writes), whose predicate is taken once its type matches and one of its subjects is the
 * artifact being attested — re-signing a statement about other files would misattribute it.
 */
export function predicateFromFile(
  bytes: Uint8Array,
  source: string,
  o: { predicateType: string; sha256: string },
): unknown {
  const json = parseJson(bytes, source);
  if (!isRecord(json) || (json['_type'] !== STATEMENT_V1 && json['_type'] !== STATEMENT_V01)) return json;
  const st: Statement = parseStatement(bytes);
  if (st.predicateType !== o.predicateType) {
    throw new VouchError(
      'ERR_INTOTO_PREDICATE_TYPE',
      `${source} is a statement of type ${st.predicateType}, not ${o.predicateType}`,
    );
  }
  if (!st.subject.some((sub) => sub.digest['sha256'] === o.sha256)) {
    throw new VouchError(
      'ERR_INTOTO_SUBJECT_MISMATCH',
      `${source} is a statement about other artifacts: none of its subjects has sha256 ${o.sha256}`,
    );
  }
  return st.predicate;
}
