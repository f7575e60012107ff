import type { CheckResult, Decision } from '../policy/index.js';

/**
 * Decisions as a SARIF 2.1.0 log (OASIS SARIF v2.1.0 §3), for CI code-scanning uploads: one run, one rule per
 * check id, one result per failed check. Enforce failures are `error`, warn failures `warning`, dry-run
 * failures `note`; a failure waived by an active exception is `note` and says so. Passing and skipped checks
 * are not results (code scanning shows what needs attention), but every decision's verdict and policy digest
 * are in the run's properties.
 */
export interface SarifLog {
  readonly $schema: string;
  readonly version: '2.1.0';
  readonly runs: readonly SarifRun[];
}

interface SarifRun {
  readonly tool: { readonly driver: SarifDriver };
  readonly results: readonly SarifResult[];
  readonly properties: { readonly decisions: readonly DecisionSummary[] };
}

interface SarifDriver {
  readonly name: 'vouch';
  readonly version: string;
  readonly informationUri: string;
  readonly rules: readonly { readonly id: string; readonly shortDescription: { readonly text: string } }[];
}

interface SarifResult {
  readonly ruleId: string;
  readonly ruleIndex: number;
  readonly level: 'error' | 'warning' | 'note';
  readonly kind: 'fail';
  readonly message: { readonly text: string };
  readonly locations: readonly {
    readonly physicalLocation: { readonly artifactLocation: { readonly uri: string } };
  }[];
  readonly partialFingerprints: { readonly vouchCheck: string };
  readonly properties: { readonly artifactDigest: string; readonly policy: string; readonly tier: string };
}

interface DecisionSummary {
  readonly artifact: string;
  readonly allow: boolean;
  readonly tier: string;
  readonly policy: string;
  readonly policyDigest: string;
}

const SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

export function decisionsToSarif(decisions: readonly Decision[], version: string): SarifLog {
  const ruleIds: string[] = [];
  const results: SarifResult[] = [];
  for (const d of decisions) {
    // Code scanning needs a location; the artifact's name is the closest thing a gate has to a file.
    const uri = d.artifact.name ?? d.artifact.digest;
    for (const c of d.checks) {
      if (c.outcome !== 'fail') continue;
      let ruleIndex = ruleIds.indexOf(c.id);
      if (ruleIndex < 0) ruleIndex = ruleIds.push(c.id) - 1;
      results.push({
        ruleId: c.id,
        ruleIndex,
        level: levelOf(c),
        kind: 'fail',
        message: { text: messageOf(c) },
        locations: [{ physicalLocation: { artifactLocation: { uri } } }],
        partialFingerprints: { vouchCheck: `${d.artifact.digest}/${c.id}` },
        properties: { artifactDigest: d.artifact.digest, policy: d.policy.name, tier: d.tier },
      });
    }
  }
  return {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'vouch',
            version,
            informationUri: 'https://vouch.dev/docs/policy',
            rules: ruleIds.map((id) => ({ id, shortDescription: { text: `Vouch policy check ${id}` } })),
          },
        },
        results,
        properties: {
          decisions: decisions.map((d) => ({
            artifact: d.artifact.name ?? d.artifact.digest,
            allow: d.allow,
            tier: d.tier,
            policy: d.policy.name,
            policyDigest: d.policy.digest,
          })),
        },
      },
    ],
  };
}

function levelOf(c: CheckResult): SarifResult['level'] {
  if (c.exception?.active === true) return 'note';
  return c.mode === 'enforce' ? 'error' : c.mode === 'warn' ? 'warning' : 'note';
}

function messageOf(c: CheckResult): string {
  const waived =
    c.exception === undefined
      ? ''
      : c.exception.active
        ? ` (waived until ${c.exception.expires} by ${c.exception.owner})`
        : ` (the exception by ${c.exception.owner} expired ${c.exception.expires})`;
  return `${c.message}${c.mode === 'enforce' ? '' : ` [${c.mode}]`}${waived}${c.code === undefined ? '' : ` [${c.code}]`}`;
}
