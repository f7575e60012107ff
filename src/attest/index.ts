export {
  type ComponentResult,
  type Decision,
  type DecisionReason,
  type EvaluateOptions,
  evaluateLicenses,
  LICENSES_PREDICATE_TYPE,
  type LicensesPredicate,
  type Violation,
} from './licenses/evaluate.js';
export { type LicenseStatus, MAX_BRANCHES, parseLicense } from './licenses/expression.js';
export {
  type LicenseException,
  type LicensePolicy,
  MAX_POLICY_BYTES,
  type PolicyAction,
  parsePolicy,
} from './licenses/policy.js';
export { type LicenseGroup, summarizeLicenses } from './licenses/summary.js';
export { checkPredicate, PREDICATE_TYPES, readPredicateFile } from './predicates.js';
export type { GitReader, GitState } from './provenance/git.js';
export { GITHUB_BUILD_TYPE, GITLAB_BUILD_TYPE, LOCAL_BUILD_TYPE } from './provenance/platforms.js';
export {
  buildProvenance,
  type ProvenanceOptions,
  type ProvenanceResult,
  SLSA_PROVENANCE_V1,
} from './provenance/provenance.js';
export type { Toolchain, ToolchainProbe } from './provenance/toolchain.js';
export { type CycloneDxBom, toCycloneDx } from './sbom/cyclonedx.js';
export type { BomComponent, SbomDocument, SbomFormat } from './sbom/document.js';
export { MAX_SBOM_BYTES, parseSbom, readSbom, readSbomFile } from './sbom/document-read.js';
export {
  type GeneratedSbom,
  type GenerateSbomOptions,
  generateSbom,
  type SbomOutputFormat,
  type SbomTool,
  type SbomWriteOptions,
  sbomTimestamp,
  serializeSbom,
} from './sbom/generate.js';
export { type ReadLockfileOptions, readLockfile } from './sbom/lockfile.js';
export type {
  HashAlg,
  LicenseSource,
  LockfileType,
  PackageGraph,
  PackageHash,
  PackageNode,
} from './sbom/model.js';
export { type SpdxDocument, toSpdx } from './sbom/spdx.js';
export {
  type ImportOptions,
  type ImportReport,
  importOsv,
  openVulnDb,
  type VulnDb,
  type VulnDbInfo,
} from './vuln/db.js';
export {
  affects,
  type IncompleteScan,
  type ScanOptions,
  type ScanResult,
  scanComponents,
} from './vuln/match.js';
export { parseOsv } from './vuln/osv.js';
export {
  toVulnsPredicate,
  VULNS_PREDICATE_TYPE,
  type VulnsMeta,
  type VulnsPredicate,
  type VulnsResult,
} from './vuln/predicate.js';
export { type OsvPackage, purlToPackage } from './vuln/purl.js';
export { type CvssScore, cvssBaseScore, RATING_ORDER, severityOf } from './vuln/severity.js';
export type {
  CandidateLookup,
  Finding,
  OsvAffected,
  OsvEvent,
  OsvRange,
  OsvRangeType,
  OsvRecord,
  OsvSeverity,
  ScanTarget,
  SeverityRating,
} from './vuln/types.js';
export {
  isPackageUrl,
  parseOpenVex,
  type VexArtifact,
  type VexDocument,
  type VexStatement,
  type VexStatus,
} from './vuln/vex.js';
