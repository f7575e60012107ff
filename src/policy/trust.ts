import type { CelModules } from './cel.js';
import type { IdentityRule, PolicyKey, PolicyTrust, SignerInfo } from './types.js';

/**
 * Who the policy trusts, prepared once: keys by id, identity regexps compiled with RE2 (linear time; the
 * subject and issuer come from certificates, attacker-chosen). Signer ids in a PolicyInput are only
 * claims until they match here: a fixture or an engine bug naming an unknown key gains nothing.
 */

interface Matcher {
  matches(input: string): boolean;
}

interface PreparedIdentity {
  readonly rule: IdentityRule;
  readonly subject?: Matcher;
  readonly issuer?: Matcher;
}

export type SignerVerdict =
  | { readonly trusted: true; readonly id: string; readonly label: string; readonly key?: PolicyKey }
  | { readonly trusted: false; readonly revoked: boolean; readonly reason: string; readonly label: string };

export class TrustMatcher {
  readonly #keys: ReadonlyMap<string, PolicyKey>;
  readonly #identities: readonly PreparedIdentity[];

  constructor(
    readonly trust: PolicyTrust,
    mods: CelModules,
  ) {
    this.#keys = new Map(trust.keys.map((k) => [k.keyId, k]));
    // Anchored like verify's identity policy: a regexp must match the whole subject or issuer. One RE2
    // refuses never matches (the compiler has reported it; a plan with it is never handed out).
    const compile = (re: string | undefined): Matcher | undefined => {
      if (re === undefined) return undefined;
      try {
        return mods.re2.RE2JS.compile(re);
      } catch {
        return { matches: () => false };
      }
    };
    this.#identities = trust.identities.map((rule) => {
      const subject = compile(rule.subjectRegExp);
      const issuer = compile(rule.issuerRegExp);
      return {
        rule,
        ...(subject === undefined ? {} : { subject }),
        ...(issuer === undefined ? {} : { issuer }),
      };
    });
  }

  /** Whether the signer is one the policy trusts at signing time `time`. */
  judge(signer: SignerInfo, time: Date | undefined): SignerVerdict {
    if (signer.kind === 'key') {
      const key = this.#keys.get(signer.keyId);
      const label = `key ${key?.name ?? signer.keyId.slice(0, 16)}`;
      if (key === undefined) {
        return {
          trusted: false,
          revoked: false,
          label,
          reason: `key ${signer.keyId} is not a key of this policy`,
        };
      }
      if (key.revoked) return { trusted: false, revoked: true, label, reason: `key ${key.name} is revoked` };
      if (key.notAfter !== undefined) {
        if (time === undefined) {
          return {
            trusted: false,
            revoked: false,
            label,
            reason: `key ${key.name} is valid until ${key.notAfter.toISOString()}, and the signature has no verified time`,
          };
        }
        if (time > key.notAfter) {
          return {
            trusted: false,
            revoked: false,
            label,
            reason: `key ${key.name} signed at ${time.toISOString()}, after its notAfter ${key.notAfter.toISOString()}`,
          };
        }
      }
      return { trusted: true, id: `key:${key.keyId}`, label, key };
    }
    const label = `${signer.subject}${signer.issuer === undefined ? '' : ` (${signer.issuer})`}`;
    for (const id of this.#identities) {
      if (this.#identityMatches(id, signer.subject, signer.issuer)) {
        return { trusted: true, id: `identity:${signer.issuer ?? ''}\n${signer.subject}`, label };
      }
    }
    return {
      trusted: false,
      revoked: false,
      label,
      reason: `identity ${label} matches no identity of this policy`,
    };
  }

  #identityMatches(id: PreparedIdentity, subject: string, issuer: string | undefined): boolean {
    const r = id.rule;
    if (r.subject !== undefined && r.subject !== subject) return false;
    if (id.subject !== undefined && !id.subject.matches(subject)) return false;
    if (r.issuer !== undefined && r.issuer !== issuer) return false;
    if (id.issuer !== undefined && (issuer === undefined || !id.issuer.matches(issuer))) return false;
    return true;
  }
}
