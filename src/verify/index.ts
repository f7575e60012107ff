export {
  decideOver,
  type Evidence,
  type PolicyVerifyRequest,
  type VerifiedEvidence,
  verifyEvidence,
  verifyWithPolicy,
} from './engine.js';
export {
  createPolicyGate,
  type GateVerifyRequest,
  imageArtifact,
  loadPolicyTrustedRoot,
  type PolicyGate,
  type PolicyGateOptions,
} from './gate.js';
export {
  type CertificateIdentity,
  certificateIdentity,
  type FulcioExtensions,
  type IdentityPolicy,
  type SubjectAlternativeName,
} from './identity.js';
export { decisionsToSarif, type SarifLog } from './sarif.js';
export {
  type Check,
  type VerificationResult,
  type VerifiedSigner,
  type VerifiedTimestamp,
  type VerifyOptions,
  verifyBundle,
} from './sigstore.js';
export {
  type AuthoritySpec,
  buildTrustedRoot,
  type CertificateAuthority,
  type HashAlgorithmName,
  type LogSpec,
  parseTrustedRoot,
  type TimeRange,
  TRUSTED_ROOT_MEDIA_TYPE,
  type TransparencyLogInstance,
  type TrustedRoot,
  type TrustedRootSpec,
  trustedRootToJson,
} from './trusted-root.js';
