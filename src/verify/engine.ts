import { checkPredicate } from '../attest/index.js';
import { fromHex, isVouchError, type JsonValue, VouchError, type VouchErrorCode } from '../core/index.js';
import type { Artifact } from '../crypto/index.js';
import {
  assertSubjectMatches,
  type Bundle,
  INTOTO_PAYLOAD_TYPE,
  parseBundle,
  parseDsseEnvelope,
  parseStatement,
  type Statement,
  verifyDsse,
} from '../envelope/index.js';
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  type CosignAttestationEvidence,
  type CosignSignatureEvidence,
  verifyCosignSignature,
} from '../oci/index.js';
import {
  type ArtifactRef,
  type CheckResult,
  type CompiledPolicy,
  type Decision,
  evaluatePolicy,
  type PolicyKey,
  type SignerInfo,
  type Tier,
  type VerifiedAttestation,
  type VerifiedSignature,
} from '../policy/index.js';
import { type VerificationResult, verifyBundle } from './sigstore.js';
import type { TrustedRoot } from './trusted-root.js';

/**
 * The verification engine under `vouch verify --policy`, `vouch oci verify --policy`, the HTTP API and the
 * admission webhook (decision 018). Evidence is verified cryptographically against the trust the policy
 * carries (keys, keyless identities, trusted root) before the policy sees any of it; the policy then decides.
 * Deny by default: evidence that cannot be parsed or does not verify is a failing check, never a skip.
 */

/** One piece of evidence: a Sigstore bundle (a file, the HTTP API, an OCI referrer) or one of cosign's legacy
 * formats found under its `.sig` / `.att` tags. `source` names it in checks. */
export type Evidence =
  | { readonly kind: 'bundle'; readonly bytes: Uint8Array; readonly source: string }
  | CosignSignatureEvidence
  | CosignAttestationEvidence;

export interface PolicyVerifyRequest {
  readonly artifact: ArtifactRef;
  /** The artifact itself when at hand: a message signature by a key that cannot sign a digest (Ed25519,
   * RSA-PSS over the whole message) can only be checked against the bytes. */
  readonly content?: Artifact;
  readonly evidence: readonly Evidence[];
  readonly policy: CompiledPolicy;
  readonly tier: Tier;
  /** Needed for keyless (certificate) evidence, and to verify the log entries and timestamps of key bundles. */
  readonly trustedRoot?: TrustedRoot;
  readonly now?: Date;
  /** Wall-clock bound on the policy's CEL evaluation for this decision. */
  readonly timeLimitMs?: number;
}

type TrustRequest = Omit<PolicyVerifyRequest, 'tier' | 'now' | 'timeLimitMs'>;

type Outcome =
  | { readonly kind: 'signature'; readonly value: VerifiedSignature }
  | { readonly kind: 'attestation'; readonly value: VerifiedAttestation }
  | { readonly kind: 'untrusted'; readonly message: string }
  | { readonly kind: 'invalid'; readonly message: string; readonly code: VouchErrorCode };

/** Evidence after verification against a policy's trust: what the policy may see, and the checks for items it
 * may not (untrusted: warn; unreadable or failing: enforce). Independent of time and tier, so a gate can reuse
 * it for the same artifact, evidence and policy. */
export interface VerifiedEvidence {
  readonly signatures: readonly VerifiedSignature[];
  readonly attestations: readonly VerifiedAttestation[];
  readonly checks: readonly CheckResult[];
}

/** Verifies each evidence item against the policy's keys, identities and trusted root. Never throws for bad
 * evidence: each bad item becomes a check. */
export async function verifyEvidence(req: TrustRequest): Promise<VerifiedEvidence> {
  const digest = sha256Of(req.artifact);
  const signatures: VerifiedSignature[] = [];
  const attestations: VerifiedAttestation[] = [];
  const checks: CheckResult[] = [];
  for (const [i, item] of req.evidence.entries()) {
    const r = await judge(item, digest, req);
    if (r.kind === 'signature') signatures.push(r.value);
    else if (r.kind === 'attestation') attestations.push(r.value);
    else checks.push(evidenceCheck(i, item.source, r));
  }
  return { signatures, attestations, checks };
}

/** The policy's decision over evidence already verified against its trust. */
export function decideOver(
  policy: CompiledPolicy,
  artifact: ArtifactRef,
  ev: VerifiedEvidence,
  opts: { readonly tier: Tier; readonly now?: Date; readonly timeLimitMs?: number },
): Decision {
  return evaluatePolicy(
    policy,
    { artifact, signatures: ev.signatures, attestations: ev.attestations, now: opts.now ?? new Date() },
    {
      tier: opts.tier,
      checks: ev.checks,
      ...(opts.timeLimitMs === undefined ? {} : { timeLimitMs: opts.timeLimitMs }),
    },
  );
}

/** Verifies the evidence against the policy's trust, then lets the policy decide. Never throws for bad
 * evidence: each bad item is a failing check in the decision. */
export async function verifyWithPolicy(req: PolicyVerifyRequest): Promise<Decision> {
  return decideOver(req.policy, req.artifact, await verifyEvidence(req), req);
}

/** `sha256:<hex>` → bytes; the engine only binds evidence to SHA-256 digests (what bundles and OCI use). */
function sha256Of(artifact: ArtifactRef): Uint8Array {
  const m = /^sha256:([0-9a-f]{64})$/.exec(artifact.digest);
  if (m === null) {
    throw new VouchError(
      'ERR_DIGEST_UNSUPPORTED',
      `artifact digest must be sha256:<64 hex>, got "${artifact.digest}"`,
    );
  }
  return fromHex(m[1] as string);
}

function evidenceCheck(
  i: number,
  source: string,
  r: Extract<Outcome, { kind: 'untrusted' | 'invalid' }>,
): CheckResult {
  // An untrusted signer is someone else's signature (anyone may push one to a registry): reported, not
  // counted, and not a denial. Evidence that claims our trust and does not hold is.
  return r.kind === 'untrusted'
    ? {
        id: `input.evidence.${i}`,
        tier: 'fast',
        mode: 'warn',
        outcome: 'fail',
        message: `${source}: ${r.message}`,
        evidence: { source },
      }
    : {
        id: `input.evidence.${i}`,
        tier: 'fast',
        mode: 'enforce',
        outcome: 'fail',
        message: `${source}: ${r.message}`,
        code: r.code,
        evidence: { source },
      };
}

async function judge(item: Evidence, digest: Uint8Array, req: TrustRequest): Promise<Outcome> {
  try {
    switch (item.kind) {
      case 'bundle':
        return await judgeBundle(parseBundle(item.bytes), item.source, digest, req);
      case 'cosign-signature':
        return judgeCosignSignature(item, digest, req.policy.trust.keys);
      case 'cosign-attestation':
        return judgeCosignAttestation(item.envelope, item.source, digest, req.policy.trust.keys);
    }
  } catch (e) {
    if (!isVouchError(e)) throw e;
    return { kind: 'invalid', message: e.message, code: e.code };
  }
}

const IDENTITY_MISMATCH: ReadonlySet<string> = new Set(['ERR_CERT_IDENTITY', 'ERR_CERT_ISSUER']);

async function judgeBundle(
  bundle: Bundle,
  source: string,
  digest: Uint8Array,
  req: TrustRequest,
): Promise<Outcome> {
  const artifact: Artifact =
    bundle.content.kind === 'messageSignature' && req.content !== undefined
      ? req.content
      : { kind: 'digest', algorithm: 'sha256', digest };
  const vk = bundle.verificationMaterial.key;
  if (vk.kind === 'publicKey') {
    const keys = candidateKeys(req.policy.trust.keys, vk.hint);
    if (keys.length === 0)
      return {
        kind: 'untrusted',
        message: `signed by key ${vk.hint || '(no hint)'}, which the policy does not trust`,
      };
    // With a trusted root and log entries, their times are verified too (and then required).
    const withLog = req.trustedRoot !== undefined && bundle.verificationMaterial.tlogEntries.length > 0;
    let last: VouchError | undefined;
    for (const key of keys) {
      try {
        const r = await verifyBundle(bundle, artifact, {
          key: key.publicKey,
          ...(withLog && req.trustedRoot !== undefined ? { trustedRoot: req.trustedRoot } : {}),
        });
        return outcomeOf(r, { kind: 'key', keyId: key.keyId, name: key.name }, source, digest);
      } catch (e) {
        if (!isVouchError(e)) throw e;
        last = e;
      }
    }
    throw last as VouchError;
  }
  const identities = req.policy.trust.identities;
  if (identities.length === 0)
    return { kind: 'untrusted', message: 'a keyless signature, and the policy trusts no identity' };
  if (req.trustedRoot === undefined) {
    throw new VouchError(
      'ERR_VERIFY_NO_TRUST',
      'a keyless signature needs a trusted root (spec.signatures.trustedRoot or --trusted-root)',
    );
  }
  let mismatch: VouchError | undefined;
  for (const identity of identities) {
    try {
      const r = await verifyBundle(bundle, artifact, { trustedRoot: req.trustedRoot, identity });
      if (r.signer.kind !== 'certificate')
        throw new TypeError('a certificate bundle verified as a key bundle');
      const signer: SignerInfo = {
        kind: 'certificate',
        subject: r.signer.subject,
        ...(r.signer.issuer === undefined ? {} : { issuer: r.signer.issuer }),
        extensions: { ...r.signer.extensions },
      };
      return outcomeOf(r, signer, source, digest);
    } catch (e) {
      if (!isVouchError(e) || !IDENTITY_MISMATCH.has(e.code)) throw e;
      mismatch = e;
    }
  }
  return {
    kind: 'untrusted',
    message: `signed by an identity the policy does not trust (${mismatch?.message ?? ''})`,
  };
}

/** The policy keys a bundle may be from: the one its hint names, or every key when it names none. A hint
 * naming a key the policy does not have is someone else's signature. */
function candidateKeys(keys: readonly PolicyKey[], hint: string): readonly PolicyKey[] {
  return hint === '' ? keys : keys.filter((k) => k.keyId === hint);
}

function outcomeOf(r: VerificationResult, signer: SignerInfo, source: string, digest: Uint8Array): Outcome {
  const time = earliest(r.timestamps.map((t) => t.time));
  const base = { signer, source, ...(time === undefined ? {} : { time }) };
  if (r.statement === undefined) return { kind: 'signature', value: base };
  return fromStatement(r.statement, base, source, digest);
}

function fromStatement(st: Statement, base: VerifiedSignature, source: string, digest: Uint8Array): Outcome {
  // verifyBundle bound DSSE bundles to the digest already; legacy .att envelopes come here unbound.
  assertSubjectMatches(st, { algorithm: 'sha256', digest });
  if (st.predicateType === COSIGN_SIGN_PREDICATE_TYPE) return { kind: 'signature', value: base };
  checkPredicate(st.predicateType, st.predicate ?? {}, source);
  return {
    kind: 'attestation',
    value: { ...base, predicateType: st.predicateType, predicate: (st.predicate ?? {}) as JsonValue },
  };
}

function earliest(times: readonly Date[]): Date | undefined {
  let first: Date | undefined;
  for (const t of times) if (first === undefined || t < first) first = t;
  return first;
}

function judgeCosignSignature(
  item: Extract<Evidence, { kind: 'cosign-signature' }>,
  digest: Uint8Array,
  keys: readonly PolicyKey[],
): Outcome {
  if (item.certificate !== undefined && keys.length === 0) {
    return {
      kind: 'untrusted',
      message: 'a keyless cosign legacy signature (not supported; use Sigstore bundles)',
    };
  }
  const hex = Buffer.from(digest).toString('hex');
  for (const key of keys) {
    try {
      verifyCosignSignature(item, `sha256:${hex}`, key.publicKey);
      return {
        kind: 'signature',
        value: { signer: { kind: 'key', keyId: key.keyId, name: key.name }, source: item.source },
      };
    } catch (e) {
      if (!isVouchError(e)) throw e;
      // The payload names another image: not a matter of which key.
      if (e.code === 'ERR_DIGEST_MISMATCH') throw e;
    }
  }
  return { kind: 'untrusted', message: 'a cosign signature by none of the policy keys' };
}

function judgeCosignAttestation(
  bytes: Uint8Array,
  source: string,
  digest: Uint8Array,
  keys: readonly PolicyKey[],
): Outcome {
  const env = parseDsseEnvelope(bytes);
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE) {
    throw new VouchError(
      'ERR_DSSE_PAYLOAD_TYPE',
      `payload type ${env.payloadType} is not an in-toto statement`,
    );
  }
  for (const key of keys) {
    try {
      verifyDsse(env, [{ key: key.publicKey }]);
    } catch (e) {
      if (!isVouchError(e) || e.code !== 'ERR_DSSE_SIGNATURE') throw e;
      continue;
    }
    return fromStatement(
      parseStatement(env.payload),
      { signer: { kind: 'key', keyId: key.keyId, name: key.name }, source },
      source,
      digest,
    );
  }
  return { kind: 'untrusted', message: 'a cosign attestation by none of the policy keys' };
}
