export { parseBundle } from './bundle/read.js';
export {
  BUNDLE_V01,
  BUNDLE_V02,
  BUNDLE_V03,
  BUNDLE_V03_LEGACY,
  type Bundle,
  type BundleContent,
  type BundleVersion,
  type Checkpoint,
  type DsseEnvelope,
  type DsseSignature,
  type HashOutput,
  type InclusionProof,
  type MessageSignature,
  type TransparencyLogEntry,
  type VerificationKey,
  type VerificationMaterial,
} from './bundle/types.js';
export { bundleToJson, serializeBundle } from './bundle/write.js';
export { type DsseKey, dsseToJson, pae, parseDsseEnvelope, signDsse, verifyDsse } from './dsse.js';
export {
  assertPredicateType,
  assertSubjectMatches,
  buildStatement,
  INTOTO_PAYLOAD_TYPE,
  parseStatement,
  type ResourceDescriptor,
  STATEMENT_V1,
  STATEMENT_V01,
  type Statement,
  serializeStatement,
} from './intoto.js';
export {
  type BundleKey,
  type BundleMaterial,
  bundleFromDsse,
  bundleFromMessageSignature,
  signBlobToBundle,
  signStatementToBundle,
} from './sign.js';
