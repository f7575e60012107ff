import type { CheckResult, Decision } from './types.js';

const MARK: Readonly<Record<CheckResult['outcome'], string>> = {
  pass: 'pass',
  fail: 'FAIL',
  skipped: 'skip',
};

function line(c: CheckResult): string {
  const waived = c.outcome === 'fail' && c.exception?.active === true;
  const mark = waived ? 'waived' : c.outcome === 'fail' && c.mode !== 'enforce' ? c.mode : MARK[c.outcome];
  const code = c.outcome === 'fail' && c.code !== undefined ? ` [${c.code}]` : '';
  return `  ${mark.padEnd(7)} ${c.id}: ${c.message}${code}`;
}

/**
 * The explanation the CLI prints and the server logs: the verdict with the policy and its digest, then
 * every check with its outcome. Failures that decided a denial come first, so the reason is the first
 * thing a person reads; the order is otherwise the decision's.
 */
export function explainDecision(d: Decision): string {
  const deciding = (c: CheckResult) =>
    c.outcome === 'fail' && c.mode === 'enforce' && c.exception?.active !== true ? 0 : 1;
  const checks = [...d.checks].sort((a, b) => deciding(a) - deciding(b));
  const failed = d.checks.filter((c) => deciding(c) === 0).length;
  const ran = d.checks.filter((c) => c.outcome !== 'skipped').length;
  const what = d.artifact.name ?? d.artifact.purl ?? d.artifact.digest;
  const verdict = d.allow
    ? `ALLOW ${what}: ${ran} check(s) of the ${d.tier} tier passed or do not enforce`
    : `DENY ${what}: ${ran === 0 ? 'no check ran' : `${failed} of ${ran} check(s) of the ${d.tier} tier failed`}`;
  return [
    verdict,
    `  policy ${d.policy.name} ${d.policy.digest}, evaluated at ${d.time}`,
    ...checks.map(line),
  ].join('\n');
}
