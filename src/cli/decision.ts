import { readInput, VouchError, writeFileAtomic } from '../core/index.js';
import { type Decision, explainDecision, type Tier } from '../policy/index.js';
import {
  decisionsToSarif,
  loadPolicyTrustedRoot,
  type PolicyVerifyRequest,
  parseTrustedRoot,
  verifyWithPolicy,
} from '../verify/index.js';
import { usage } from './context.js';
import type { CliIO } from './io.js';
import { emit } from './output.js';
import { VERSION } from './version.js';

export interface DecisionOutput {
  readonly json?: boolean;
  /** Every check with its outcome; without it only the verdict line (and on a denial the failures). */
  readonly explain?: boolean;
  /** Also write the decision as SARIF 2.1.0 to this file (CI code scanning), allowed or denied. */
  readonly sarif?: string;
}

export function tierOf(value: string | undefined, fallback: Tier = 'deep'): Tier {
  if (value === undefined) return fallback;
  if (value !== 'fast' && value !== 'deep') throw usage(`--tier must be fast or deep, not "${value}"`);
  return value;
}

/**
 * Prints a decision the same way for `policy eval`, `verify --policy` and `oci verify --policy`: the verdict
 * (and with --explain every check) on stdout, or the decision as JSON; a denial then fails the command with
 * ERR_POLICY_DENIED (exit 1) naming the first deciding check, and carries the decision for `--json`.
 */
export async function emitDecision(io: CliIO, decision: Decision, o: DecisionOutput): Promise<void> {
  if (o.sarif !== undefined) {
    await writeFileAtomic(o.sarif, `${JSON.stringify(decisionsToSarif([decision], VERSION), null, 2)}\n`, {
      overwrite: true,
    });
  }
  const lines = explainDecision(decision).split('\n');
  const deciding = (c: Decision['checks'][number]) =>
    c.outcome === 'fail' && c.mode === 'enforce' && c.exception?.active !== true;
  // Without --explain: the verdict, the policy, and what failed (deciding first, then warnings).
  const text =
    o.explain === true
      ? lines
      : [
          ...lines.slice(0, 2),
          ...lines.slice(2).filter((l) => !/^ {2}(pass|skip) /.test(l) && !/^ {2}waived /.test(l)),
        ];
  if (decision.allow) {
    emit(io, o.json === true, { decision }, text);
    return;
  }
  if (o.json !== true) io.stdout(`${text.join('\n')}\n`);
  const reason = decision.checks.find(deciding);
  const what = decision.artifact.name ?? decision.artifact.digest;
  throw new VouchError(
    'ERR_POLICY_DENIED',
    `policy ${decision.policy.name || '(none)'} denies ${what}${reason === undefined ? '' : `: ${reason.message}`}`,
    { details: { ...(reason === undefined ? {} : { check: reason.id }), report: { decision } } },
  );
}

/** Flags the commands that decide with a policy share. */
export interface PolicyFlags extends DecisionOutput {
  readonly trustedRoot?: string;
}

const MAX_TRUST_ROOT = 16 * 1024 * 1024;

/**
 * `verify --policy` and `oci verify --policy`: the trusted root (`--trusted-root`, else the policy's, held to
 * the digest the policy was compiled with), the engine's decision, and its output.
 */
export async function decideAndEmit(
  io: CliIO,
  req: Omit<PolicyVerifyRequest, 'trustedRoot'>,
  o: PolicyFlags,
): Promise<void> {
  const trustedRoot =
    o.trustedRoot === undefined
      ? await loadPolicyTrustedRoot(req.policy)
      : parseTrustedRoot(await readInput(o.trustedRoot, MAX_TRUST_ROOT));
  const decision = await verifyWithPolicy({ ...req, ...(trustedRoot === undefined ? {} : { trustedRoot }) });
  await emitDecision(io, decision, {
    json: o.json === true,
    explain: o.explain === true,
    ...(o.sarif === undefined ? {} : { sarif: o.sarif }),
  });
}
