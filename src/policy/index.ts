export {
  type CompileOptions,
  checkPolicy,
  compilePolicy,
  loadPolicies,
  loadPolicy,
} from './compile.js';
export { DEFAULT_TIME_LIMIT_MS, type EvaluateOptions, evaluatePolicy } from './evaluate.js';
export { explainDecision } from './explain.js';
export { parsePolicyInput } from './input.js';
export { policyMatches, selectPolicy } from './match.js';
export { MAX_POLICY_BYTES } from './source.js';
export {
  loadPolicyTest,
  loadPolicyTests,
  type PolicyTestCase,
  type PolicyTestCaseResult,
  type PolicyTestReport,
  type PolicyTestSuite,
  runPolicyTests,
} from './testing.js';
export type {
  ArtifactRef,
  AttestationRequirement,
  Baseline,
  CheckResult,
  CompiledPolicy,
  Decision,
  IdentityRule,
  MatchEntry,
  PolicyCondition,
  PolicyDiagnostic,
  PolicyDocument,
  PolicyException,
  PolicyInput,
  PolicyKey,
  PolicyKeySpec,
  PolicyRule,
  PolicyTrust,
  RuleMode,
  SignatureRequirements,
  SignerInfo,
  Tier,
  VerifiedAttestation,
  VerifiedSignature,
} from './types.js';
