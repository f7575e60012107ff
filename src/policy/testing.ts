import { dirname, resolve } from 'node:path';
import {
  type FieldsContext,
  isRecord,
  isVouchError,
  parseJson,
  readInput,
  VouchError,
} from '../core/index.js';
import { loadPolicy, policyFiles } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { parsePolicyInput } from './input.js';
import { MAX_POLICY_BYTES, type Path, SourceDocument } from './source.js';
import type { CheckResult, CompiledPolicy, Decision, PolicyInput, Tier } from './types.js';

/**
 * `kind: PolicyTest` files (docs/policy.md "Testing policies"), run by `vouch policy test` as `opa test`
 * runs Rego tests: each case gives an input, the tier and the expected verdict, optionally expected
 * outcomes of single checks.
 *
 *   apiVersion: vouch.dev/v1
 *   kind: PolicyTest
 *   metadata: { name: release-gate }
 *   policy: release-gate.yaml            # relative to this file
 *   cases:
 *     - name: signed release
 *       inputFile: fixtures/good.json    # or `input: {...}`
 *       tier: deep                       # default deep
 *       expect: allow                    # allow | deny
 *       checks: { rules.no-high-vulns: pass }
 */

type Outcome = CheckResult['outcome'];

export interface PolicyTestCase {
  readonly name: string;
  readonly input: PolicyInput;
  readonly tier: Tier;
  readonly expect: 'allow' | 'deny';
  /** Check id → expected outcome. */
  readonly checks: Readonly<Record<string, Outcome>>;
}

export interface PolicyTestSuite {
  readonly source: string;
  readonly name: string;
  readonly policy: CompiledPolicy;
  readonly cases: readonly PolicyTestCase[];
}

export interface PolicyTestCaseResult {
  readonly name: string;
  readonly ok: boolean;
  /** Why the case failed, one line each (empty when it passed). */
  readonly failures: readonly string[];
  readonly decision: Decision;
}

export interface PolicyTestReport {
  readonly passed: number;
  readonly failed: number;
  readonly suites: readonly {
    readonly source: string;
    readonly name: string;
    readonly policy: { readonly name: string; readonly digest: string };
    readonly cases: readonly PolicyTestCaseResult[];
  }[];
}

const CASE_KEYS = ['name', 'input', 'inputFile', 'tier', 'expect', 'checks'];
const TOP_KEYS = ['apiVersion', 'kind', 'metadata', 'policy', 'cases'];
const OUTCOMES: readonly Outcome[] = ['pass', 'fail', 'skipped'];
const MAX_CASES = 1000;

function malformed(doc: SourceDocument): VouchError {
  const d = doc.diagnostics[0];
  const where = `${doc.source}${d?.line === undefined ? '' : `:${d.line}:${d.column ?? 1}`}`;
  return new VouchError('ERR_POLICY_TEST_MALFORMED', `${where}: ${d?.message ?? 'is not a policy test'}`, {
    details: {
      source: doc.source,
      path: d?.path ?? '',
      ...(d?.line === undefined ? {} : { line: d.line }),
      diagnostics: doc.diagnostics,
    },
  });
}

function unknownKeys(
  doc: SourceDocument,
  o: Record<string, unknown>,
  path: Path,
  known: readonly string[],
): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k))
      doc.add([...path, k], `unknown field "${k}" (expected one of ${known.join(', ')})`, { key: true });
  }
}

/** Failures carry the bare problem and the JSON path in `details.path`; the caller places them. */
const INPUT_CONTEXT: FieldsContext = {
  code: 'ERR_POLICY_TEST_MALFORMED',
  message: (_path, problem) => problem,
};

/** `signatures[0].signer.kind` → ['signatures', 0, 'signer', 'kind']. */
function splitPath(text: string): (string | number)[] {
  return [...text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) =>
    m[2] === undefined ? (m[1] ?? '') : Number(m[2]),
  );
}

async function readCase(
  doc: SourceDocument,
  raw: unknown,
  i: number,
  dir: string,
): Promise<PolicyTestCase | undefined> {
  const path = ['cases', i];
  if (!isRecord(raw)) {
    doc.add(path, 'must be a mapping (name, input or inputFile, tier, expect, checks)');
    return undefined;
  }
  unknownKeys(doc, raw, path, CASE_KEYS);
  const name = typeof raw['name'] === 'string' && raw['name'] !== '' ? raw['name'] : undefined;
  if (name === undefined) doc.add([...path, 'name'], 'is required (a non-empty string)');
  const tier = raw['tier'] ?? 'deep';
  if (tier !== 'fast' && tier !== 'deep') doc.add([...path, 'tier'], 'must be fast or deep');
  const expect = raw['expect'];
  if (expect !== 'allow' && expect !== 'deny') doc.add([...path, 'expect'], 'is required: allow or deny');
  const checks: Record<string, Outcome> = {};
  const rawChecks = raw['checks'] ?? {};
  if (!isRecord(rawChecks)) doc.add([...path, 'checks'], 'must map check ids to pass, fail or skipped');
  else {
    for (const [id, outcome] of Object.entries(rawChecks)) {
      if (!OUTCOMES.includes(outcome as Outcome))
        doc.add([...path, 'checks', id], 'must be pass, fail or skipped');
      else checks[id] = outcome as Outcome;
    }
  }
  const hasInput = Object.hasOwn(raw, 'input');
  const file = raw['inputFile'];
  if (hasInput === (file !== undefined)) {
    doc.add(path, 'needs exactly one of input or inputFile');
    return undefined;
  }
  if (!hasInput && (typeof file !== 'string' || file === '')) {
    doc.add([...path, 'inputFile'], 'must be a path');
    return undefined;
  }
  let input: PolicyInput;
  try {
    input = parsePolicyInput(
      hasInput ? raw['input'] : parseJson(await readInput(resolve(dir, file as string)), file as string),
      { context: INPUT_CONTEXT },
    );
  } catch (e) {
    if (!isVouchError(e)) throw e;
    const at = typeof e.details?.['path'] === 'string' ? e.details['path'] : '';
    if (hasInput) doc.add([...path, 'input', ...splitPath(at)], e.message);
    else doc.add([...path, 'inputFile'], `${file as string}${at === '' ? '' : `: ${at}`}: ${e.message}`);
    return undefined;
  }
  if (name === undefined || doc.diagnostics.length > 0) return undefined;
  return { name, input, tier: tier as Tier, expect: expect as 'allow' | 'deny', checks };
}

/** Reads one test file and compiles the policy it names. */
export async function loadPolicyTest(path: string): Promise<PolicyTestSuite> {
  const doc = new SourceDocument(await readInput(path, MAX_POLICY_BYTES), path, 'ERR_POLICY_TEST_MALFORMED');
  if (doc.diagnostics.length > 0) throw malformed(doc);
  const v = doc.value;
  if (!isRecord(v)) {
    doc.add([], 'must be a mapping (apiVersion, kind, metadata, policy, cases)');
    throw malformed(doc);
  }
  unknownKeys(doc, v, [], TOP_KEYS);
  if (v['apiVersion'] !== 'vouch.dev/v1') doc.add(['apiVersion'], 'must be "vouch.dev/v1"');
  if (v['kind'] !== 'PolicyTest') doc.add(['kind'], 'must be "PolicyTest"');
  const meta = v['metadata'];
  const name = isRecord(meta) && typeof meta['name'] === 'string' ? meta['name'] : undefined;
  if (isRecord(meta)) unknownKeys(doc, meta, ['metadata'], ['name', 'description']);
  if (name === undefined) doc.add(['metadata', 'name'], 'is required');
  const policyPath = v['policy'];
  if (typeof policyPath !== 'string' || policyPath === '')
    doc.add(['policy'], 'is required: the policy file, relative to this file');
  const cases = v['cases'];
  if (!Array.isArray(cases) || cases.length === 0 || cases.length > MAX_CASES) {
    doc.add(['cases'], `must be a list of 1 to ${MAX_CASES} cases`);
  }
  if (doc.diagnostics.length > 0) throw malformed(doc);
  const dir = dirname(resolve(path));
  const read: PolicyTestCase[] = [];
  for (const [i, c] of (cases as unknown[]).entries()) {
    const one = await readCase(doc, c, i, dir);
    if (one !== undefined) read.push(one);
  }
  if (doc.diagnostics.length > 0) throw malformed(doc);
  const policy = await loadPolicy(resolve(dir, policyPath as string));
  return { source: path, name: name as string, policy, cases: read };
}

/** Test files given, and those in directories given (their *.yaml, *.yml, *.json with kind PolicyTest). */
export async function loadPolicyTests(paths: readonly string[]): Promise<PolicyTestSuite[]> {
  const suites: PolicyTestSuite[] = [];
  for (const p of paths) {
    for (const f of await policyFiles([p], 'PolicyTest')) suites.push(await loadPolicyTest(f));
  }
  if (suites.length === 0) {
    throw new VouchError(
      'ERR_POLICY_TEST_MALFORMED',
      `no policy test (kind: PolicyTest) in ${paths.join(', ')}`,
    );
  }
  return suites;
}

function judge(c: PolicyTestCase, d: Decision): string[] {
  const failures: string[] = [];
  const verdict = d.allow ? 'allow' : 'deny';
  if (verdict !== c.expect) {
    const why = d.checks
      .filter((x) => x.outcome === 'fail' && x.mode === 'enforce' && x.exception?.active !== true)
      .map((x) => `${x.id}: ${x.message}`);
    failures.push(`expected ${c.expect}, got ${verdict}${why.length === 0 ? '' : ` (${why.join('; ')})`}`);
  }
  for (const [id, want] of Object.entries(c.checks)) {
    const got = d.checks.find((x) => x.id === id);
    if (got === undefined) failures.push(`check ${id}: expected ${want}, but the decision has no such check`);
    else if (got.outcome !== want)
      failures.push(`check ${id}: expected ${want}, got ${got.outcome} (${got.message})`);
  }
  return failures;
}

/** Runs every case; never throws for a failing case (the report says which and why). */
export function runPolicyTests(
  suites: readonly PolicyTestSuite[],
  opts: { timeLimitMs?: number } = {},
): PolicyTestReport {
  let passed = 0;
  let failed = 0;
  const out = suites.map((s) => ({
    source: s.source,
    name: s.name,
    policy: { name: s.policy.name, digest: s.policy.digest },
    cases: s.cases.map((c): PolicyTestCaseResult => {
      const decision = evaluatePolicy(s.policy, c.input, {
        tier: c.tier,
        ...(opts.timeLimitMs === undefined ? {} : { timeLimitMs: opts.timeLimitMs }),
      });
      const failures = judge(c, decision);
      if (failures.length === 0) passed++;
      else failed++;
      return { name: c.name, ok: failures.length === 0, failures, decision };
    }),
  }));
  return { passed, failed, suites: out };
}
