import { digestBytes, isVouchError, readInput, toHex, VouchError } from '../core/index.js';
import {
  createRegistryClient,
  discoverEvidence,
  parseReference,
  type Reference,
  type RegistryClientOptions,
} from '../oci/index.js';
import {
  type ArtifactRef,
  type CompiledPolicy,
  type Decision,
  selectPolicy,
  type Tier,
} from '../policy/index.js';
import { decideOver, type Evidence, type VerifiedEvidence, verifyEvidence } from './engine.js';
import { parseTrustedRoot, type TrustedRoot } from './trusted-root.js';

/**
 * A gate: the policies, trust and registry access of one server (or one CLI run), answering "may this
 * artifact / image pass?" with a Decision. The HTTP API and the admission webhook call it; it never throws
 * for a bad artifact — an image it cannot resolve or that no policy covers is a denial with the reason.
 */
export interface PolicyGate {
  readonly policies: readonly { readonly name: string; readonly digest: string }[];
  verify(req: GateVerifyRequest): Promise<Decision>;
  verifyImage(
    image: string,
    ctx?: { readonly namespace?: string; readonly kind?: string; readonly name?: string },
  ): Promise<Decision>;
}

export interface GateVerifyRequest {
  readonly artifact: ArtifactRef;
  readonly evidence: readonly Evidence[];
  readonly tier?: Tier;
  /** A policy by name; default: the first whose `match` covers the artifact. */
  readonly policy?: string;
}

export interface PolicyGateOptions {
  readonly policies: readonly CompiledPolicy[];
  readonly tier: Tier;
  /** Overrides the trusted roots policies name (a CLI `--trusted-root`). */
  readonly trustedRoot?: TrustedRoot;
  readonly registry?: RegistryClientOptions;
  readonly timeLimitMs?: number;
  /** How long a tag's digest and an image's evidence are reused (default 30 s): admission bursts for one
   * rollout ask about the same images, and a registry round trip costs more than the whole decision. */
  readonly cacheTtlMs?: number;
  readonly now?: () => Date;
}

const MAX_TRUST_ROOT = 16 * 1024 * 1024;

/**
 * The trusted root a policy names, read again and held to the digest the policy was compiled with (its digest
 * covers the root's content), so the file cannot be swapped between compiling the policy and using it.
 */
export async function loadPolicyTrustedRoot(policy: CompiledPolicy): Promise<TrustedRoot | undefined> {
  const path = policy.trust.trustedRoot;
  if (path === undefined) return undefined;
  const bytes = await readInput(path, MAX_TRUST_ROOT);
  const digest = `sha256:${toHex(digestBytes('sha256', bytes))}`;
  if (digest !== policy.trust.trustedRootDigest) {
    throw new VouchError(
      'ERR_TRUST_ROOT_MALFORMED',
      `${path} changed since policy ${policy.name} was compiled (${digest}, compiled with ${policy.trust.trustedRootDigest ?? 'none'})`,
    );
  }
  return parseTrustedRoot(bytes);
}

export async function createPolicyGate(opts: PolicyGateOptions): Promise<PolicyGate> {
  const roots = new Map<string, TrustedRoot>();
  for (const p of opts.policies) {
    const path = p.trust.trustedRoot;
    if (path !== undefined && opts.trustedRoot === undefined && !roots.has(path)) {
      const root = await loadPolicyTrustedRoot(p);
      if (root !== undefined) roots.set(path, root);
    }
  }
  const rootFor = (p: CompiledPolicy): TrustedRoot | undefined =>
    opts.trustedRoot ?? (p.trust.trustedRoot === undefined ? undefined : roots.get(p.trust.trustedRoot));
  const now = opts.now ?? (() => new Date());
  const ttl = opts.cacheTtlMs ?? 30_000;
  const client = createRegistryClient(opts.registry ?? {});
  const digests = new TtlCache<string, string>(ttl, now);
  // An image's evidence verified against one policy's trust: verification does not depend on the time or the
  // tier, so it is kept as long as the evidence is, and each request only re-runs the policy (freshness and
  // exception expiry are judged at the request's time).
  const verified = new TtlCache<string, VerifiedEvidence>(ttl, now);

  const trustOf = (policy: CompiledPolicy, artifact: ArtifactRef, ev: readonly Evidence[]) => {
    const trustedRoot = rootFor(policy);
    return { artifact, evidence: ev, policy, ...(trustedRoot === undefined ? {} : { trustedRoot }) };
  };
  const decide = (policy: CompiledPolicy, artifact: ArtifactRef, ev: VerifiedEvidence, tier: Tier) =>
    decideOver(policy, artifact, ev, {
      tier,
      now: now(),
      ...(opts.timeLimitMs === undefined ? {} : { timeLimitMs: opts.timeLimitMs }),
    });

  return {
    policies: opts.policies.map((p) => ({ name: p.name, digest: p.digest })),

    async verify(req) {
      const tier = req.tier ?? opts.tier;
      const policy =
        req.policy === undefined
          ? selectPolicy(opts.policies, req.artifact)
          : opts.policies.find((p) => p.name === req.policy);
      if (policy === undefined) {
        if (req.policy !== undefined)
          throw new VouchError('ERR_USAGE', `no policy named "${req.policy}" is loaded`);
        return denial(
          req.artifact,
          tier,
          now(),
          'policy.match',
          'ERR_POLICY_NO_MATCH',
          'no loaded policy matches this artifact',
        );
      }
      return decide(
        policy,
        req.artifact,
        await verifyEvidence(trustOf(policy, req.artifact, req.evidence)),
        tier,
      );
    },

    async verifyImage(image) {
      const tier = opts.tier;
      let ref: Reference;
      try {
        ref = parseReference(image);
      } catch (e) {
        if (!isVouchError(e)) throw e;
        return denial({ digest: '', name: image }, tier, now(), 'input.image', e.code, e.message);
      }
      const named = imageArtifact(image, ref);
      const policy = selectPolicy(opts.policies, named);
      if (policy === undefined) {
        return denial(
          named,
          tier,
          now(),
          'policy.match',
          'ERR_POLICY_NO_MATCH',
          `no loaded policy matches image ${image}`,
        );
      }
      try {
        const digest =
          ref.digest ?? (await digests.get(image, async () => (await client.resolve(ref)).digest));
        const artifact: ArtifactRef = { ...named, digest };
        const pinned = { ...ref, digest };
        const ev = await verified.get(
          `${ref.registry}/${ref.repository}@${digest}#${policy.digest}`,
          async () => verifyEvidence(trustOf(policy, artifact, await discoverEvidence(client, pinned))),
        );
        return decide(policy, artifact, ev, tier);
      } catch (e) {
        if (!isVouchError(e)) throw e;
        return denial(named, tier, now(), 'input.image', e.code, `${image}: ${e.message}`, policy);
      }
    },
  };
}

/** What a policy's `match` sees of an image: the reference as written, its registry/repository/tag, and the
 * digest when the reference pins one (else empty until the tag is resolved). */
export function imageArtifact(image: string, ref: Reference): ArtifactRef {
  return {
    digest: ref.digest ?? '',
    name: image,
    oci: {
      registry: ref.registry,
      repository: ref.repository,
      ...(ref.tag === undefined ? {} : { tag: ref.tag }),
    },
  };
}

/** A denial that no policy evaluation produced (no policy matches, the image cannot be resolved). */
function denial(
  artifact: ArtifactRef,
  tier: Tier,
  at: Date,
  id: string,
  code: VouchError['code'],
  message: string,
  policy?: CompiledPolicy,
): Decision {
  return {
    allow: false,
    tier,
    policy: policy === undefined ? { name: '', digest: '' } : { name: policy.name, digest: policy.digest },
    artifact,
    checks: [{ id, tier: 'fast', mode: 'enforce', outcome: 'fail', message, code }],
    time: at.toISOString(),
  };
}

/** A small TTL cache that also shares one in-flight load per key (a burst asks once). */
class TtlCache<K, V> {
  readonly #entries = new Map<K, { at: number; value: Promise<V> }>();
  readonly #ttlMs: number;
  readonly #now: () => Date;
  constructor(ttlMs: number, now: () => Date) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get(key: K, load: () => Promise<V>): Promise<V> {
    const t = this.#now().getTime();
    const hit = this.#entries.get(key);
    if (hit !== undefined && t - hit.at < this.#ttlMs) return hit.value;
    const value = load();
    this.#entries.set(key, { at: t, value });
    // A failed load is not cached: the next request asks the registry again.
    value.catch(() => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
    if (this.#entries.size > 10_000) this.#entries.delete(this.#entries.keys().next().value as K);
    return value;
  }
}
