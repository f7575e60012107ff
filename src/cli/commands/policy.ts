import type { Command } from 'commander';
import { parseJson, readInput, VouchError } from '../../core/index.js';
import {
  checkPolicy,
  evaluatePolicy,
  loadPolicy,
  loadPolicyTests,
  MAX_POLICY_BYTES,
  type PolicyDiagnostic,
  parsePolicyInput,
  runPolicyTests,
} from '../../policy/index.js';
import type { CommandContext } from '../context.js';
import { usage } from '../context.js';
import { emitDecision, tierOf } from '../decision.js';
import type { CliIO } from '../io.js';
import { emit } from '../output.js';

interface JsonOption {
  json?: boolean;
}

interface EvalOptions extends JsonOption {
  input?: string;
  tier?: string;
  explain?: boolean;
  timeLimit?: string;
}

interface TestOptions extends JsonOption {
  verbose?: boolean;
}

function timeLimitOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 60_000)
    throw usage('--time-limit must be 1 to 60000 milliseconds');
  return n;
}

/** `file:line:col: message [CODE]`, the form editors and CI annotate from. */
function diagnosticLine(file: string, d: PolicyDiagnostic): string {
  const at = d.line === undefined ? '' : `:${d.line}:${d.column ?? 1}`;
  return `${file}${at}: ${d.message} [${d.code}]`;
}

async function check(io: CliIO, files: readonly string[], o: JsonOption): Promise<void> {
  const results: { file: string; diagnostics: PolicyDiagnostic[] }[] = [];
  for (const file of files) {
    results.push({
      file,
      diagnostics: await checkPolicy(await readInput(file, MAX_POLICY_BYTES), { source: file }),
    });
  }
  const bad = results.filter((r) => r.diagnostics.length > 0);
  const lines = results.flatMap((r) =>
    r.diagnostics.length === 0 ? [`${r.file}: ok`] : r.diagnostics.map((d) => diagnosticLine(r.file, d)),
  );
  const first = bad[0]?.diagnostics[0];
  if (first === undefined) {
    emit(io, o.json === true, { files: results }, lines);
    return;
  }
  if (o.json !== true) io.stdout(`${lines.join('\n')}\n`);
  const count = bad.reduce((n, r) => n + r.diagnostics.length, 0);
  throw new VouchError(first.code, `${count} problem(s) in ${bad.length} of ${files.length} policy file(s)`, {
    details: { report: { files: results } },
  });
}

async function test(io: CliIO, paths: readonly string[], o: TestOptions): Promise<void> {
  const report = runPolicyTests(await loadPolicyTests(paths));
  const lines: string[] = [];
  for (const s of report.suites) {
    for (const c of s.cases) {
      if (c.ok && o.verbose !== true) continue;
      lines.push(`${c.ok ? 'PASS' : 'FAIL'} ${s.source}: ${c.name}`);
      for (const f of c.failures) lines.push(`    ${f}`);
    }
  }
  const summary = `${report.passed} passed, ${report.failed} failed (${report.suites.length} test file(s))`;
  const json = {
    passed: report.passed,
    failed: report.failed,
    suites: report.suites.map((s) => ({
      ...s,
      cases: s.cases.map((c) => ({ name: c.name, ok: c.ok, failures: c.failures, allow: c.decision.allow })),
    })),
  };
  if (report.failed === 0) {
    emit(io, o.json === true, json, [...lines, summary]);
    return;
  }
  if (o.json !== true) io.stdout(`${[...lines, summary].join('\n')}\n`);
  throw new VouchError('ERR_POLICY_TEST_FAILED', `${report.failed} policy test case(s) failed`, {
    details: { report: json },
  });
}

async function evaluate(io: CliIO, file: string, o: EvalOptions): Promise<void> {
  if (o.input === undefined) throw usage('--input <json> is required (docs/policy.md "Input")');
  const tier = tierOf(o.tier);
  const timeLimitMs = timeLimitOf(o.timeLimit);
  const policy = await loadPolicy(file);
  const input = parsePolicyInput(parseJson(await readInput(o.input), o.input), { source: o.input });
  const decision = evaluatePolicy(policy, input, {
    tier,
    ...(timeLimitMs === undefined ? {} : { timeLimitMs }),
  });
  await emitDecision(io, decision, { json: o.json === true, explain: o.explain === true });
}

export function registerPolicy(program: Command, { io }: CommandContext): void {
  const policy = program
    .command('policy')
    .description('Check, test and evaluate Vouch policies (CEL; docs/policy.md).');
  policy
    .command('check')
    .description('Compile policies and type-check their CEL; print every problem as file:line:col.')
    .argument('<files...>', 'policy files (YAML or JSON)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExit code 3 when any file has a problem (ERR_POLICY_MALFORMED, ERR_POLICY_CEL, ERR_POLICY_COST).',
    )
    .action((files: string[], o: JsonOption) => check(io, files, o));
  policy
    .command('test')
    .description('Run policy tests (kind: PolicyTest): inputs with expected allow/deny, like opa test.')
    .argument('<paths...>', 'test files, or directories holding them')
    .option('--verbose', 'list passing cases too')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExit code 1 (ERR_POLICY_TEST_FAILED) when a case fails; each failure says why.')
    .action((paths: string[], o: TestOptions) => test(io, paths, o));
  policy
    .command('eval')
    .description(
      'Evaluate a policy against an input (the evidence as verified, in JSON) and print the decision.',
    )
    .argument('<policy>', 'policy file')
    .option('--input <json>', 'the input: artifact, signatures, attestations, now (docs/policy.md "Input")')
    .option('--tier <tier>', 'fast or deep', 'deep')
    .option('--explain', 'explain every check')
    .option('--time-limit <ms>', 'wall-clock bound of the CEL work (default 250)')
    .option('--json', 'print the decision as JSON')
    .addHelpText(
      'after',
      `
Exit code 0 when the policy allows, 1 (ERR_POLICY_DENIED) when it denies.
Example:
  vouch policy eval release-gate.yaml --input evidence.json --explain`,
    )
    .action((file: string, o: EvalOptions) => evaluate(io, file, o));
  for (const c of [policy, ...policy.commands]) c.exitOverride().configureOutput(program.configureOutput());
}
