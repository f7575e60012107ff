import type { Command } from 'commander';
import {
  type Decision,
  evaluateLicenses,
  LICENSES_PREDICATE_TYPE,
  type LicensePolicy,
  type LicensesPredicate,
  MAX_POLICY_BYTES,
  MAX_SBOM_BYTES,
  parsePolicy,
  parseSbom,
  sbomTimestamp,
} from '../../attest/index.js';
import { digestBytes, readInput, toHex, VouchError, writeFileAtomic } from '../../core/index.js';
import type { CommandContext } from '../context.js';
import type { CliIO } from '../io.js';
import { emit } from '../output.js';

interface LicensesOptions {
  policy?: string;
  output?: string;
  predicate?: boolean;
  timestamp?: string;
  force?: boolean;
  json?: boolean;
}

const DECISION_WORDS: Record<Decision, string> = {
  allow: 'allowed',
  warn: 'warned',
  deny: 'denied',
  skip: 'skipped',
};

type Row = LicensesPredicate['licenses'][number];

function statusText(row: Row): string {
  const flag = row.status === 'spdx' ? '' : `${row.status === 'unknown' ? 'unknown' : 'non-SPDX'}`;
  if (row.decisions === undefined) return flag === '' ? 'SPDX' : flag;
  const parts = (Object.keys(DECISION_WORDS) as Decision[])
    .filter((d) => row.decisions?.[d] !== 0)
    .map((d) =>
      row.decisions?.[d] === row.count ? DECISION_WORDS[d] : `${row.decisions?.[d]} ${DECISION_WORDS[d]}`,
    );
  return [flag, parts.join(', ')].filter((s) => s !== '').join(': ');
}

/** The human table: licence, component count, status; then one summary line. */
function table(p: LicensesPredicate): string[] {
  const rows = p.licenses.map((r) => [r.license ?? '(none)', String(r.count), statusText(r)] as const);
  const head = ['LICENCE', 'COMPONENTS', 'STATUS'] as const;
  const w0 = Math.min(60, Math.max(head[0].length, ...rows.map((r) => r[0].length)));
  const w1 = Math.max(head[1].length, ...rows.map((r) => r[1].length));
  const line = (r: readonly [string, string, string]) => `${r[0].padEnd(w0)}  ${r[1].padStart(w1)}  ${r[2]}`;
  const s = p.summary;
  const total =
    p.policy === undefined
      ? `${s.components} components: ${s.spdx} SPDX, ${s.nonSpdx} non-SPDX, ${s.unknown} without a licence`
      : `${s.components} components: ${s.allowed} allowed, ${s.warned} warned, ${s.denied} denied, ${s.skipped} skipped — ${p.result}`;
  return [line(head), ...rows.map(line), '', total];
}

function who(c: { name: string; version?: string }): string {
  return c.version === undefined ? c.name : `${c.name}@${c.version}`;
}

function reportFindings(io: CliIO, p: LicensesPredicate): void {
  for (const c of p.components) {
    if (c.decision === 'warn') io.stderr(`warning: ${who(c)}: ${c.detail ?? ''}\n`);
  }
  if (p.violations.length === 0) return;
  io.stderr(`licence policy violations (${p.violations.length}):\n`);
  for (const v of p.violations) io.stderr(`  ${who(v)}: ${v.detail}\n`);
}

export function registerLicenses(program: Command, { io }: CommandContext): void {
  program
    .command('licenses')
    .description('Summarise the licences in an SBOM and check them against an allow/deny policy.')
    .argument('<sbom>', 'CycloneDX or SPDX JSON SBOM, or an in-toto statement carrying one')
    .option('--policy <path>', 'licence policy (YAML or JSON; see docs/licenses.md)')
    .option(
      '--output <path>',
      `write the ${LICENSES_PREDICATE_TYPE} predicate to this file (also on violation)`,
    )
    .option('--predicate', 'print the predicate JSON instead of the table')
    .option('--timestamp <rfc3339>', 'evaluation time (default: SOURCE_DATE_EPOCH, else now)')
    .option('--force', 'overwrite an existing output')
    .option('--json', 'print the result (predicate type and predicate) as JSON')
    .addHelpText(
      'after',
      `
Exit code 1 (ERR_LICENSE_POLICY) when a component violates the policy; the violations go to stderr.
Example:
  vouch licenses sbom.cdx.json --policy licenses.yaml --output licenses.json
  vouch attest dist/app.tgz --key release.key --type licenses --predicate licenses.json`,
    )
    .action(async (sbomPath: string, o: LicensesOptions) => {
      const now = sbomTimestamp(o.timestamp, io.env['SOURCE_DATE_EPOCH'], () => new Date());
      const bytes = await readInput(sbomPath, MAX_SBOM_BYTES);
      const doc = parseSbom(bytes, sbomPath);
      let policy: LicensePolicy | undefined;
      if (o.policy !== undefined) policy = parsePolicy(await readInput(o.policy, MAX_POLICY_BYTES), o.policy);
      const predicate = evaluateLicenses(doc, policy, {
        now,
        sbomSha256: toHex(digestBytes('sha256', bytes)),
      });
      const text = `${JSON.stringify(predicate, null, 2)}\n`;
      // The predicate is written before the verdict, so CI can attach the evidence of a failure.
      if (o.output !== undefined) await writeFileAtomic(o.output, text, { overwrite: o.force === true });
      reportFindings(io, predicate);
      const failed = predicate.result === 'fail';
      if (o.predicate === true) io.stdout(text);
      else if (!(failed && o.json === true)) {
        emit(
          io,
          o.json === true,
          {
            predicateType: LICENSES_PREDICATE_TYPE,
            ...(o.output === undefined ? {} : { output: o.output }),
            predicate,
          },
          [...table(predicate), ...(o.output === undefined ? [] : [`predicate written to ${o.output}`])],
        );
      }
      if (failed) {
        throw new VouchError(
          'ERR_LICENSE_POLICY',
          `${predicate.violations.length} component(s) of ${sbomPath} violate the licence policy ${o.policy ?? ''}`.trim(),
          { details: { violations: predicate.violations.length } },
        );
      }
    });
}
