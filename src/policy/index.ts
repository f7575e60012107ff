export type {
  ArtifactRef,
  CheckResult,
  Decision,
  IdentityRule,
  PolicyInput,
  PolicyKey,
  PolicyTrust,
  RuleMode,
  SignerInfo,
  Tier,
  VerifiedAttestation,
  VerifiedSignature,
} from './types.js';
