import type { BomComponent, SbomDocument } from '../sbom/document.js';
import { type LicenseStatus, type LicenseTerm, termMatches, termString } from './expression.js';
import { exceptionApplies, expiryTime, type LicenseException, type LicensePolicy } from './policy.js';
import { type ClassifiedComponent, classify, groupByLicense } from './summary.js';

// Policy evaluation, deny by default: with an allow list a component passes only when one OR-branch of its
// expression (SPDX 2.3 Annex D: the licensee may choose any alternative) is entirely allowed and touches no
// denied licence; it is denied outright when every branch requires a denied licence.

/** The predicate type Vouch writes for licence results (docs/licenses.md, schemas/licenses-v1.schema.json). */
export const LICENSES_PREDICATE_TYPE = 'https://vouch.dev/licenses/v1';

export type Decision = 'allow' | 'warn' | 'deny' | 'skip';
export type DecisionReason =
  | 'allowed'
  | 'not-denied'
  | 'exception'
  | 'denied'
  | 'not-allowed'
  | 'unknown-license'
  | 'non-spdx-license'
  | 'scope';

export interface ComponentResult {
  readonly ref: string;
  readonly name: string;
  readonly version?: string;
  readonly purl?: string;
  readonly scope: BomComponent['scope'];
  readonly license?: string;
  readonly licenseStatus: LicenseStatus;
  /** Present when a policy was evaluated. */
  readonly decision?: Decision;
  readonly reason?: DecisionReason;
  /** One sentence for humans: which licence was allowed or denied, which exception applied or expired. */
  readonly detail?: string;
  readonly exception?: { readonly package: string; readonly reason: string; readonly expires?: string };
}

export interface Violation {
  readonly ref: string;
  readonly name: string;
  readonly version?: string;
  readonly purl?: string;
  readonly license?: string;
  readonly reason: DecisionReason;
  readonly detail: string;
}

export interface LicensesPredicate {
  readonly sbom: {
    readonly format: SbomDocument['format'];
    readonly specVersion: string;
    readonly digest?: { readonly sha256: string };
    readonly root?: { readonly name: string; readonly version?: string; readonly purl?: string };
  };
  readonly policy?: { readonly digest: { readonly sha256: string } };
  /** RFC 3339; exception expiry is judged at this time. */
  readonly evaluatedAt: string;
  /** `fail` when there is at least one violation (a `deny` decision). */
  readonly result: 'pass' | 'fail';
  readonly summary: {
    readonly components: number;
    readonly spdx: number;
    readonly nonSpdx: number;
    readonly unknown: number;
    readonly allowed: number;
    readonly warned: number;
    readonly denied: number;
    readonly skipped: number;
  };
  readonly licenses: readonly {
    readonly license?: string;
    readonly status: LicenseStatus;
    readonly count: number;
    readonly decisions?: Readonly<Record<Decision, number>>;
  }[];
  readonly components: readonly ComponentResult[];
  readonly violations: readonly Violation[];
}

export interface EvaluateOptions {
  /** Evaluation time (exception expiry, `evaluatedAt`); defaults to now. */
  readonly now?: Date;
  /** SHA-256 hex of the SBOM file, recorded in the predicate. */
  readonly sbomSha256?: string;
}

interface Outcome {
  readonly decision: Decision;
  readonly reason: DecisionReason;
  readonly detail: string;
  readonly exception?: LicenseException;
}

function terms(list: readonly LicenseTerm[]): string {
  return list.map(termString).join(', ');
}

function evaluateExpression(it: ClassifiedComponent, policy: LicensePolicy): Outcome {
  const { parsed } = it;
  switch (parsed.status) {
    case 'unknown':
      return {
        decision: policy.unknown,
        reason: 'unknown-license',
        detail: 'the SBOM gives no licence',
      };
    case 'non-spdx':
      return {
        decision: policy.nonSpdx,
        reason: 'non-spdx-license',
        detail: `"${it.key ?? ''}" is not an SPDX expression (${parsed.why})`,
      };
    case 'spdx':
      break;
  }
  let denied: LicenseTerm[] | undefined;
  let missing: LicenseTerm[] | undefined;
  let allDenied = true;
  for (const branch of parsed.branches) {
    // A denied id also denies its WITH variants; an allowed id allows only the exact exception named.
    const hit = branch.filter((t) => termMatches(t, policy.deny, true));
    const notAllowed =
      policy.allow === undefined ? [] : branch.filter((t) => !termMatches(t, policy.allow ?? []));
    if (hit.length === 0 && notAllowed.length === 0) {
      return policy.allow === undefined
        ? { decision: 'allow', reason: 'not-denied', detail: `${parsed.canonical}: no licence is denied` }
        : { decision: 'allow', reason: 'allowed', detail: `allowed through ${terms(branch)}` };
    }
    if (hit.length === 0) {
      allDenied = false;
      if (missing === undefined || notAllowed.length < missing.length) missing = notAllowed;
    } else if (denied === undefined) {
      denied = hit;
    }
  }
  if (allDenied) {
    return {
      decision: 'deny',
      reason: 'denied',
      detail: `${parsed.canonical} requires denied ${terms(denied ?? [])}`,
    };
  }
  return {
    decision: 'deny',
    reason: 'not-allowed',
    detail: `${parsed.canonical}: ${terms(missing ?? [])} not in the allow list`,
  };
}

function evaluateComponent(it: ClassifiedComponent, policy: LicensePolicy, now: number): Outcome {
  const c = it.component;
  if (!policy.scopes.includes(c.scope)) {
    return { decision: 'skip', reason: 'scope', detail: `${c.scope} components are not evaluated` };
  }
  let expired: LicenseException | undefined;
  for (const e of policy.exceptions) {
    if (!exceptionApplies(e, c)) continue;
    const until = e.expires === undefined ? undefined : expiryTime(e.expires);
    if (until !== undefined && now >= until) {
      expired = e;
      continue;
    }
    return {
      decision: 'allow',
      reason: 'exception',
      detail: `exception for ${e.package}: ${e.reason}`,
      exception: e,
    };
  }
  const outcome = evaluateExpression(it, policy);
  if (expired === undefined || outcome.decision === 'allow') return outcome;
  return {
    ...outcome,
    detail: `${outcome.detail}; the exception for ${expired.package} expired ${expired.expires}`,
  };
}

/**
 * Summarises an SBOM's licences and, with a policy, decides each component. The result is the
 * `https://vouch.dev/licenses/v1` predicate; `result` is `fail` exactly when `violations` is not empty.
 */
export function evaluateLicenses(
  doc: SbomDocument,
  policy: LicensePolicy | undefined,
  opts: EvaluateOptions = {},
): LicensesPredicate {
  const now = opts.now ?? new Date();
  const items = doc.components.map(classify);
  const outcomes = new Map<BomComponent, Outcome>();
  if (policy !== undefined) {
    for (const it of items) outcomes.set(it.component, evaluateComponent(it, policy, now.getTime()));
  }
  const components = items.map((it): ComponentResult => {
    const c = it.component;
    const o = outcomes.get(c);
    return {
      ref: c.ref,
      name: c.name,
      ...(c.version === undefined ? {} : { version: c.version }),
      ...(c.purl === undefined ? {} : { purl: c.purl }),
      scope: c.scope,
      ...(it.key === undefined ? {} : { license: it.key }),
      licenseStatus: it.parsed.status,
      ...(o === undefined
        ? {}
        : {
            decision: o.decision,
            reason: o.reason,
            detail: o.detail,
            ...(o.exception === undefined
              ? {}
              : {
                  exception: {
                    package: o.exception.package,
                    reason: o.exception.reason,
                    ...(o.exception.expires === undefined ? {} : { expires: o.exception.expires }),
                  },
                }),
          }),
    };
  });
  const violations = components.flatMap((c): Violation[] =>
    c.decision === 'deny' && c.reason !== undefined
      ? [
          {
            ref: c.ref,
            name: c.name,
            ...(c.version === undefined ? {} : { version: c.version }),
            ...(c.purl === undefined ? {} : { purl: c.purl }),
            ...(c.license === undefined ? {} : { license: c.license }),
            reason: c.reason,
            detail: c.detail ?? '',
          },
        ]
      : [],
  );
  const countOf = (f: (c: ComponentResult) => boolean) => components.filter(f).length;
  const root = doc.root;
  return {
    sbom: {
      format: doc.format,
      specVersion: doc.specVersion,
      ...(opts.sbomSha256 === undefined ? {} : { digest: { sha256: opts.sbomSha256 } }),
      ...(root === undefined
        ? {}
        : {
            root: {
              name: root.name,
              ...(root.version === undefined ? {} : { version: root.version }),
              ...(root.purl === undefined ? {} : { purl: root.purl }),
            },
          }),
    },
    ...(policy === undefined ? {} : { policy: { digest: { sha256: policy.sha256 } } }),
    evaluatedAt: now.toISOString(),
    result: violations.length === 0 ? 'pass' : 'fail',
    summary: {
      components: components.length,
      spdx: countOf((c) => c.licenseStatus === 'spdx'),
      nonSpdx: countOf((c) => c.licenseStatus === 'non-spdx'),
      unknown: countOf((c) => c.licenseStatus === 'unknown'),
      allowed: countOf((c) => c.decision === 'allow'),
      warned: countOf((c) => c.decision === 'warn'),
      denied: countOf((c) => c.decision === 'deny'),
      skipped: countOf((c) => c.decision === 'skip'),
    },
    licenses: groupByLicense(items).map((g) => {
      const decisions = { allow: 0, warn: 0, deny: 0, skip: 0 };
      for (const c of g.components) {
        const o = outcomes.get(c);
        if (o !== undefined) decisions[o.decision]++;
      }
      return {
        ...(g.license === undefined ? {} : { license: g.license }),
        status: g.status,
        count: g.count,
        ...(policy === undefined ? {} : { decisions }),
      };
    }),
    components,
    violations,
  };
}
