import type { KeyObject } from 'node:crypto';
import type { JsonValue, VouchErrorCode } from '../core/index.js';

/**
 * The shapes shared by the policy layer, the verification engine (verify), the server and the CLI.
 * A policy document is YAML (`apiVersion: vouch.dev/v1`, `kind: Policy`) validated against
 * `schemas/policy-v1.schema.json`; docs/policy.md is the user's reference.
 */

/** Which checks run: `fast` = signatures, identity, freshness, required attestation types present;
 * `deep` = everything the policy says (fast plus CEL conditions, baselines, rules marked deep). */
export type Tier = 'fast' | 'deep';

/** enforce: a failure denies. warn: a failure is reported, allows. dry-run: evaluated and reported only. */
export type RuleMode = 'enforce' | 'warn' | 'dry-run';

/** What the artifact under decision is. At least `digest`; the rest lets a policy's `match` select it. */
export interface ArtifactRef {
  /** `sha256:<hex>` of the artifact bytes (for an OCI image: of its manifest). */
  readonly digest: string;
  /** File name or path as given (matched by `match[].name` globs). */
  readonly name?: string;
  readonly purl?: string;
  readonly oci?: {
    /** `registry[:port]` as written in the reference, e.g. `127.0.0.1:5000`, `ghcr.io`. */
    readonly registry: string;
    /** Path inside the registry, e.g. `acme/app`. */
    readonly repository: string;
    readonly tag?: string;
  };
}

/** Who a verified signature or attestation is from. */
export type SignerInfo =
  | {
      readonly kind: 'key';
      readonly keyId: string /** The policy's name for that key. */;
      readonly name?: string;
    }
  | {
      readonly kind: 'certificate';
      readonly subject: string;
      readonly issuer?: string;
      /** Fulcio extensions by name (`sourceRepositoryURI`, ...). */
      readonly extensions: Readonly<Record<string, string>>;
    };

export interface VerifiedSignature {
  readonly signer: SignerInfo;
  /** Verified signing time (tlog integrated time or RFC 3161), when the bundle carried one. */
  readonly time?: Date;
  /** Where it came from: a file path, `oci-referrer:<digest>`, `oci-tag:<tag>`. */
  readonly source: string;
}

export interface VerifiedAttestation extends VerifiedSignature {
  readonly predicateType: string;
  /** The predicate as signed (attacker-influenced shape; checked by attest's checkPredicate before use). */
  readonly predicate: JsonValue;
}

/**
 * What the policy's CEL sees. Built by the engine from evidence that already verified (signature, subject
 * binding, predicate shape); policy test fixtures give it directly as JSON.
 * docs/policy.md documents each field as CEL sees it (timestamps are CEL timestamps).
 */
export interface PolicyInput {
  readonly artifact: ArtifactRef;
  readonly signatures: readonly VerifiedSignature[];
  readonly attestations: readonly VerifiedAttestation[];
  /** Evaluation time: freshness and exception expiry are judged against it. */
  readonly now: Date;
}

/** One check of a decision. Ids are stable and documented: `signatures.threshold`,
 * `attestations.<id>.present`, `attestations.<id>.fresh`, `attestations.<id>.<condition id>`,
 * `baseline.<field>`, `rules.<id>`, `input.<what>` (evidence that could not be used). */
export interface CheckResult {
  readonly id: string;
  readonly tier: Tier;
  readonly mode: RuleMode;
  /** `skipped` only for a deep check under the fast tier; missing or unusable evidence is `fail`. */
  readonly outcome: 'pass' | 'fail' | 'skipped';
  /** One line a person can act on, e.g. `builder "https://evil" is not the baseline "https://github.com/…"`. */
  readonly message: string;
  /** The code of the error behind a failure (bad signature, CEL error, timeout ...). */
  readonly code?: VouchErrorCode;
  /** Values that decided the outcome (expected/actual, the matched key id, the CEL result ...). */
  readonly evidence?: Readonly<Record<string, JsonValue>>;
  /** Set when an exception waived this failure (or had expired and did not). */
  readonly exception?: {
    readonly owner: string;
    readonly expires: string;
    readonly reason?: string;
    readonly active: boolean;
  };
}

/** The answer of every gate (CLI, API, admission webhook). Deny by default: `allow` only when every
 * enforce-mode check of the tier passed (or is waived by an active exception) and there is at least one. */
export interface Decision {
  readonly allow: boolean;
  readonly tier: Tier;
  /** The policy that decided; `digest` is `sha256:<hex>` of its canonical form, recorded for audit. */
  readonly policy: { readonly name: string; readonly digest: string };
  readonly artifact: ArtifactRef;
  readonly checks: readonly CheckResult[];
  /** RFC 3339 evaluation time. */
  readonly time: string;
}

/** A trusted key of a policy (`spec.signatures.keys[]`), its file already read. */
export interface PolicyKey {
  /** The policy's name for it, used in messages. */
  readonly name: string;
  /** Vouch key id: hex SHA-256 of the SPKI DER (crypto's keyIdOf), as bundles hint it. */
  readonly keyId: string;
  readonly publicKey: KeyObject;
  /** Signatures made after this time do not count. */
  readonly notAfter?: Date;
  /** A revoked key's signature is a denial (`signatures.revoked`), never just ignored. */
  readonly revoked: boolean;
}

/** A trusted keyless identity (`spec.signatures.identities[]`); the same shape as verify's IdentityPolicy. */
export interface IdentityRule {
  readonly subject?: string;
  readonly subjectRegExp?: string;
  readonly issuer?: string;
  readonly issuerRegExp?: string;
}

/** The trust a policy carries, for the engine to verify evidence with before the policy sees it. */
export interface PolicyTrust {
  readonly keys: readonly PolicyKey[];
  readonly identities: readonly IdentityRule[];
  /** Distinct trusted signers required (k of n), default 1. */
  readonly threshold: number;
  /** Absolute path of the trusted_root.json the policy names, if any (keyless needs one). */
  readonly trustedRoot?: string;
  /** `sha256:<hex>` of that file as compiled (the policy digest covers it); a later read can be compared. */
  readonly trustedRootDigest?: string;
}

/** `spec.match[]`: the entry matches when every field it gives matches (picomatch globs). */
export interface MatchEntry {
  /** Artifact name or path (`dist/*.tgz`; a pattern without `/` matches the base name). */
  readonly name?: string;
  /** Package URL (`pkg:npm/@acme/*`), compared with and without its version, percent-decoded. */
  readonly purl?: string;
  /** `registry/repository` of an OCI image (`127.0.0.1:5000/acme/*`). */
  readonly oci?: string;
}

/** `spec.signatures[].keys[]` as written (the file of `path` is read into PolicyTrust). */
export interface PolicyKeySpec {
  readonly name: string;
  readonly path?: string;
  readonly publicKey?: string;
  /** RFC 3339 date-time as written. */
  readonly notAfter?: string;
  readonly revoked: boolean;
}

export interface SignatureRequirements {
  readonly threshold: number;
  readonly keys: readonly PolicyKeySpec[];
  readonly identities: readonly IdentityRule[];
  /** As written (relative to the policy file); PolicyTrust holds the absolute path. */
  readonly trustedRoot?: string;
  /** `<n>d|h|m|s`: the newest trusted signature must be at most this old. */
  readonly maxAge?: string;
}

/** A CEL condition (`spec.attestations[].conditions[]`) or rule (`spec.rules[]`). */
export interface PolicyCondition {
  readonly id: string;
  readonly expr: string;
  readonly message?: string;
  readonly mode: RuleMode;
}

export interface PolicyRule extends PolicyCondition {
  readonly tier: Tier;
}

export interface AttestationRequirement {
  readonly id: string;
  /** As written: a URI, or a short name (slsa, cyclonedx, spdx, licenses, vulns, openvex). */
  readonly predicateType: string;
  readonly maxAge?: string;
  readonly conditions: readonly PolicyCondition[];
}

/** `spec.baseline`: what provenance of this artifact family must say (deep tier). */
export interface Baseline {
  readonly builder?: string;
  readonly sourceRepository?: string;
  /** RE2 regexp over the source ref (`refs/heads/main`). */
  readonly branch?: string;
  readonly buildType?: string;
  /** Tool name → semver range over the toolchain versions the provenance records. */
  readonly toolchain?: Readonly<Record<string, string>>;
  readonly mode: RuleMode;
}

export interface PolicyException {
  /** The check id it waives (`rules.no-high-vulns`, `baseline.builder`, `attestations.sbom.complete`). */
  readonly rule: string;
  readonly owner: string;
  /** RFC 3339 date or date-time as written; a date runs to the end of that day (UTC). */
  readonly expires: string;
  readonly reason?: string;
}

/** The validated policy document (`kind: Policy`); optional lists are empty, defaults filled in. */
export interface PolicyDocument {
  readonly apiVersion: 'vouch.dev/v1';
  readonly kind: 'Policy';
  readonly metadata: { readonly name: string; readonly description?: string };
  readonly spec: {
    readonly match: readonly MatchEntry[];
    readonly signatures: SignatureRequirements;
    readonly attestations: readonly AttestationRequirement[];
    readonly baseline?: Baseline;
    readonly rules: readonly PolicyRule[];
    readonly exceptions: readonly PolicyException[];
  };
}

/** A compiled policy: validated, keys read, every CEL expression parsed, type-checked, costed and planned. */
export interface CompiledPolicy {
  /** `metadata.name`. */
  readonly name: string;
  /** `sha256:<hex>` of the RFC 8785 canonical JSON of the document with every key given as its canonical PEM:
   * the same policy in YAML or JSON, with a key inline or in a file, has the same digest. */
  readonly digest: string;
  /** The file it came from. */
  readonly source?: string;
  readonly document: PolicyDocument;
  readonly trust: PolicyTrust;
}

/** One problem `vouch policy check` reports. `line`/`column` are 1-based positions in the policy file. */
export interface PolicyDiagnostic {
  /** Where in the document, e.g. `spec.rules[2].expr`; `''` is the document itself. */
  readonly path: string;
  readonly line?: number;
  readonly column?: number;
  /** For a CEL problem: where it is inside the expression (1-based). */
  readonly expression?: { readonly line: number; readonly column: number };
  readonly code: VouchErrorCode;
  /** Starts with the path: `spec.rules[2].expr: undeclared reference to 'sbomm'`. */
  readonly message: string;
}
