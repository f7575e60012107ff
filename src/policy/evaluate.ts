import type * as Semver from 'semver';
import { checkPredicate } from '../attest/index.js';
import { type JsonValue, lazyRequire, VouchError, type VouchErrorCode } from '../core/index.js';
import type { CompiledExpression } from './cel.js';
import { MAX_EVIDENCE, VIEW_NAMES, type ViewName } from './cel-types.js';
import { type PlannedAttestation, type PlannedCheck, type PolicyPlan, planOf } from './compile.js';
import { withinDeadline } from './deadline.js';
import { expiryInstant, formatAge } from './time.js';
import type { SignerVerdict } from './trust.js';
import type {
  CheckResult,
  CompiledPolicy,
  Decision,
  PolicyException,
  PolicyInput,
  RuleMode,
  SignerInfo,
  Tier,
  VerifiedAttestation,
  VerifiedSignature,
} from './types.js';
import { buildView, normaliseRepository, type Tools, type ViewResult, viewOf } from './views.js';

const semver = lazyRequire<typeof Semver>('semver');

/** Default wall-clock bound of one decision's CEL work (conditions, baseline, rules). */
export const DEFAULT_TIME_LIMIT_MS = 250;
/** Signing times this far ahead of `now` are clock skew; further is a time that cannot be trusted. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** Combinations of several attestations of one kind that a rule is evaluated over. */
const MAX_COMBINATIONS = 64;
export interface EvaluateOptions {
  readonly tier: Tier;
  /** Wall-clock bound on the CEL work of this decision; default 250 ms. */
  readonly timeLimitMs?: number;
  /** The engine's own checks (evidence that failed to verify); they count like the policy's. */
  readonly checks?: readonly CheckResult[];
}

interface Judged<E> {
  readonly e: E;
  readonly verdict: SignerVerdict;
}

type Draft = Omit<CheckResult, 'id' | 'tier' | 'mode'>;

const pass = (message: string, evidence?: Record<string, JsonValue>): Draft => ({
  outcome: 'pass',
  message,
  ...(evidence === undefined ? {} : { evidence }),
});
const fail = (message: string, code?: VouchErrorCode, evidence?: Record<string, JsonValue>): Draft => ({
  outcome: 'fail',
  message,
  ...(code === undefined ? {} : { code }),
  ...(evidence === undefined ? {} : { evidence }),
});

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One decision: the input judged against a compiled plan. */
class Evaluation {
  readonly checks: CheckResult[] = [];
  readonly signatures: readonly Judged<VerifiedSignature>[];
  readonly attestations: readonly Judged<VerifiedAttestation>[];
  readonly #views = new Map<VerifiedAttestation, ViewResult>();
  readonly #values = new Map<Judged<VerifiedAttestation>, Record<string, unknown>>();
  #base: Record<string, unknown> | undefined;

  constructor(
    readonly plan: PolicyPlan,
    readonly input: PolicyInput,
    readonly tier: Tier,
  ) {
    const judge = <E extends VerifiedSignature>(e: E): Judged<E> => ({
      e,
      verdict: plan.trust.judge(e.signer, e.time),
    });
    this.signatures = input.signatures.slice(0, MAX_EVIDENCE).map(judge);
    this.attestations = input.attestations.slice(0, MAX_EVIDENCE).map(judge);
  }

  add(id: string, tier: Tier, mode: RuleMode, d: Draft): void {
    if (tier === 'deep' && this.tier === 'fast') {
      this.checks.push({
        id,
        tier,
        mode,
        outcome: 'skipped',
        message: 'deep check, not run in the fast tier',
      });
      return;
    }
    this.checks.push(this.withException({ id, tier, mode, ...d }));
  }

  withException(c: CheckResult): CheckResult {
    const list = this.plan.exceptions.get(c.id);
    if (c.outcome !== 'fail' || list === undefined) return c;
    const now = this.input.now.getTime();
    const active = list.find((e) => (expiryInstant(e.expires)?.getTime() ?? 0) > now);
    const chosen: PolicyException | undefined =
      active ??
      [...list].sort(
        (a, b) => (expiryInstant(b.expires)?.getTime() ?? 0) - (expiryInstant(a.expires)?.getTime() ?? 0),
      )[0];
    if (chosen === undefined) return c;
    const exception = {
      owner: chosen.owner,
      expires: chosen.expires,
      active: active !== undefined,
      ...(chosen.reason === undefined ? {} : { reason: chosen.reason }),
    };
    const note =
      active !== undefined
        ? `waived by the exception of ${chosen.owner} until ${chosen.expires}`
        : `the exception of ${chosen.owner} expired ${chosen.expires}, so this is enforced again`;
    return { ...c, message: `${c.message} (${note})`, exception };
  }

  // --- fast tier: trust, presence, freshness ----------------------------------------------------------

  signatureChecks(): void {
    const plan = this.plan;
    if (this.input.signatures.length > MAX_EVIDENCE || this.input.attestations.length > MAX_EVIDENCE) {
      this.add(
        'input.evidence',
        'fast',
        'enforce',
        fail(
          `more than ${MAX_EVIDENCE} signatures or attestations; only the first ${MAX_EVIDENCE} of each were read`,
          'ERR_POLICY_COST',
        ),
      );
    }
    const signers = new Map<string, string>();
    const untrusted: string[] = [];
    for (const { e, verdict } of this.signatures) {
      if (verdict.trusted) signers.set(verdict.id, verdict.label);
      else untrusted.push(`${verdict.reason} (${e.source})`);
    }
    const k = plan.threshold;
    const names = [...signers.values()];
    const evidence = { signers: names, required: k, untrusted };
    const detail =
      untrusted.length === 0
        ? ''
        : `; not trusted: ${untrusted.slice(0, 3).join('; ')}${untrusted.length > 3 ? '; …' : ''}`;
    this.add(
      'signatures.threshold',
      'fast',
      'enforce',
      signers.size >= k
        ? pass(`${plural(signers.size, 'trusted signer')} (${names.join(', ')}), ${k} required`, evidence)
        : fail(
            `${plural(signers.size, 'trusted signer')} of the ${k} required${detail}`,
            'ERR_VERIFY_THRESHOLD',
            evidence,
          ),
    );

    if (plan.trust.trust.keys.length > 0) {
      const revoked = [...this.signatures, ...this.attestations].filter(
        (j) => !j.verdict.trusted && j.verdict.revoked,
      );
      this.add(
        'signatures.revoked',
        'fast',
        'enforce',
        revoked.length === 0
          ? pass('no signature or attestation by a revoked key')
          : fail(
              `signed by a revoked key: ${revoked.map((j) => `${j.verdict.label} (${j.e.source})`).join(', ')}`,
              'ERR_KEY_MISMATCH',
              { sources: revoked.map((j) => j.e.source) },
            ),
      );
    }

    if (plan.signaturesMaxAge !== undefined) {
      const trusted = this.signatures.filter((j) => j.verdict.trusted).map((j) => j.e);
      this.add(
        'signatures.fresh',
        'fast',
        'enforce',
        this.freshness(trusted, plan.signaturesMaxAge, 'signature'),
      );
    }
  }

  /** Fresh when the newest trusted item's verified time is within maxAge of now (and not in the future). */
  freshness(items: readonly VerifiedSignature[], maxAge: { ms: number; text: string }, what: string): Draft {
    const times = items.map((i) => i.time?.getTime()).filter((t): t is number => t !== undefined);
    if (items.length === 0) return fail(`no trusted ${what} to judge the age of`);
    if (times.length === 0) return fail(`no trusted ${what} carries a verified time`);
    const newest = new Date(Math.max(...times));
    const now = this.input.now.getTime();
    const age = now - newest.getTime();
    const evidence = { newest: newest.toISOString(), maxAge: maxAge.text };
    if (age < -CLOCK_SKEW_MS)
      return fail(
        `the newest trusted ${what} is dated ${newest.toISOString()}, in the future`,
        undefined,
        evidence,
      );
    if (age > maxAge.ms) {
      return fail(
        `the newest trusted ${what} is ${formatAge(age)} old; the policy allows ${maxAge.text}`,
        undefined,
        evidence,
      );
    }
    return pass(
      `the newest trusted ${what} is ${formatAge(Math.max(0, age))} old (at most ${maxAge.text})`,
      evidence,
    );
  }

  matching(req: PlannedAttestation): {
    trusted: VerifiedAttestation[];
    untrusted: Judged<VerifiedAttestation>[];
  } {
    const trusted: VerifiedAttestation[] = [];
    const untrusted: Judged<VerifiedAttestation>[] = [];
    for (const j of this.attestations) {
      if (!req.matches(j.e.predicateType)) continue;
      if (j.verdict.trusted) trusted.push(j.e);
      else untrusted.push(j);
    }
    return { trusted, untrusted };
  }

  attestationChecks(): void {
    for (const req of this.plan.attestations) {
      const { trusted, untrusted } = this.matching(req);
      const prefix = `attestations.${req.id}`;
      const others =
        untrusted.length === 0
          ? ''
          : `; ${untrusted.length} more not trusted (${untrusted[0]?.verdict.trusted === false ? untrusted[0].verdict.reason : ''})`;
      let malformed: string | undefined;
      for (const a of trusted) {
        try {
          checkPredicate(a.predicateType, a.predicate, `${a.predicateType} attestation from ${a.source}`);
        } catch (e) {
          malformed = (e as Error).message;
          break;
        }
      }
      this.add(
        `${prefix}.present`,
        'fast',
        'enforce',
        trusted.length === 0
          ? fail(`no trusted attestation of type ${req.predicateType}${others}`)
          : malformed !== undefined
            ? fail(malformed, 'ERR_PREDICATE_MALFORMED')
            : pass(
                `${plural(trusted.length, 'trusted attestation')} of type ${req.predicateType} (${trusted.map((a) => a.source).join(', ')})${others}`,
              ),
      );
      if (req.maxAge !== undefined)
        this.add(
          `${prefix}.fresh`,
          'fast',
          'enforce',
          this.freshness(trusted, req.maxAge, `${req.id} attestation`),
        );
    }
  }

  // --- deep tier: CEL conditions, baseline, rules -------------------------------------------------------

  view(a: VerifiedAttestation, name: ViewName): ViewResult {
    let v = this.#views.get(a);
    if (v === undefined) {
      v = buildView(name, a, this.plan.mods);
      this.#views.set(a, v);
    }
    return v;
  }

  /** Views of every trusted attestation that feeds `name`. */
  candidates(name: ViewName): { a: VerifiedAttestation; v: ViewResult }[] {
    return this.attestations
      .filter((j) => j.verdict.trusted && viewOf(j.e.predicateType) === name)
      .map((j) => ({ a: j.e, v: this.view(j.e, name) }));
  }

  signerValue(s: SignerInfo, verdict: SignerVerdict): Record<string, unknown> {
    return {
      kind: s.kind,
      keyId: s.kind === 'key' ? s.keyId : '',
      name:
        verdict.trusted && verdict.key !== undefined
          ? verdict.key.name
          : s.kind === 'key'
            ? (s.name ?? '')
            : '',
      subject: s.kind === 'certificate' ? s.subject : '',
      issuer: s.kind === 'certificate' ? (s.issuer ?? '') : '',
      extensions: s.kind === 'certificate' ? { ...s.extensions } : {},
    };
  }

  evidenceValue(j: Judged<VerifiedSignature>): Record<string, unknown> {
    const ts = this.plan.mods.wkt.timestampFromDate;
    return {
      signer: this.signerValue(j.e.signer, j.verdict),
      ...(j.e.time === undefined ? {} : { time: ts(j.e.time) }),
      source: j.e.source,
      trusted: j.verdict.trusted,
    };
  }

  attestationValue(j: Judged<VerifiedAttestation>): Record<string, unknown> {
    let v = this.#values.get(j);
    if (v === undefined) {
      v = { ...this.evidenceValue(j), predicateType: j.e.predicateType, predicate: j.e.predicate };
      this.#values.set(j, v);
    }
    return v;
  }

  /** Bindings every expression shares, built once per decision. */
  base(): Record<string, unknown> {
    if (this.#base === undefined) {
      const a = this.input.artifact;
      this.#base = {
        artifact: {
          digest: a.digest,
          ...(a.name === undefined ? {} : { name: a.name }),
          ...(a.purl === undefined ? {} : { purl: a.purl }),
          ...(a.oci === undefined ? {} : { oci: { ...a.oci } }),
        },
        signatures: this.signatures.map((j) => this.evidenceValue(j)),
        attestations: this.attestations.map((j) => this.attestationValue(j)),
        now: this.plan.mods.wkt.timestampFromDate(this.input.now),
      };
    }
    return this.#base;
  }

  /**
   * Evaluates `expr` over every combination of the trusted views it reads (null when there is none): it
   * passes only when it is true for all of them, so one bad attestation among good ones is a denial.
   */
  evaluate(
    check: PlannedCheck,
    fixed: Record<string, unknown>,
    fixedViews: ReadonlySet<string>,
    about: string,
  ): Draft {
    const expr = check.expr;
    const needed = VIEW_NAMES.filter((v) => expr.variables.has(v) && !fixedViews.has(v));
    const choices: { name: ViewName; options: { a?: VerifiedAttestation; v?: ViewResult }[] }[] = needed.map(
      (name) => {
        const c = this.candidates(name);
        return { name, options: c.length === 0 ? [{}] : c };
      },
    );
    const total = choices.reduce((n, c) => n * c.options.length, 1);
    if (total > MAX_COMBINATIONS) {
      return fail(
        `reads ${needed.join(', ')} from ${total} combinations of attestations; at most ${MAX_COMBINATIONS} are evaluated`,
        'ERR_POLICY_COST',
      );
    }
    const base = { ...this.base(), ...fixed };
    for (let i = 0; i < total; i++) {
      const bindings: Record<string, unknown> = { ...base };
      const from: string[] = [];
      let rest = i;
      for (const c of choices) {
        const o = c.options[rest % c.options.length] ?? {};
        rest = Math.floor(rest / c.options.length);
        if (o.v === undefined) bindings[c.name] = null;
        else if (!o.v.ok) return fail(o.v.error.message, o.v.error.code);
        else bindings[c.name] = o.v.value;
        if (o.a !== undefined) from.push(o.a.source);
      }
      const r = runExpression(expr, bindings);
      const where = [about, ...from].filter((s) => s !== '').join(', ');
      if (r.error !== undefined)
        return fail(`${r.error}${where === '' ? '' : ` (${where})`}`, 'ERR_POLICY_CEL', { expr: expr.text });
      if (!r.value) {
        const why = check.message ?? `expression is false: ${expr.text.trim()}`;
        return fail(`${why}${where === '' ? '' : ` (${where})`}`, undefined, { expr: expr.text });
      }
    }
    return pass(`holds${total > 1 ? ` for all ${total} combinations of attestations` : ''}`, {
      expr: expr.text,
    });
  }

  conditionTasks(): Task[] {
    const tasks: Task[] = [];
    for (const req of this.plan.attestations) {
      for (const cond of req.conditions) {
        tasks.push({
          id: cond.id,
          tier: 'deep',
          mode: cond.mode,
          cel: true,
          run: () => {
            const matching = this.attestations.filter(
              (j) => j.verdict.trusted && req.matches(j.e.predicateType),
            );
            if (matching.length === 0)
              return fail(`no trusted attestation of type ${req.predicateType} to check`);
            for (const j of matching) {
              const fixed: Record<string, unknown> = {
                predicate: j.e.predicate,
                attestation: this.attestationValue(j),
              };
              const fixedViews = new Set<string>();
              if (req.view !== undefined && cond.expr.variables.has(req.view)) {
                const v = this.view(j.e, req.view);
                if (!v.ok) return fail(v.error.message, v.error.code);
                fixed[req.view] = v.value;
                fixedViews.add(req.view);
              }
              const d = this.evaluate(cond, fixed, fixedViews, j.e.source);
              if (d.outcome !== 'pass') return d;
            }
            return pass(
              `holds for ${plural(matching.length, 'trusted attestation')} of type ${req.predicateType}`,
              {
                expr: cond.expr.text,
              },
            );
          },
        });
      }
    }
    return tasks;
  }

  baselineTasks(): Task[] {
    const b = this.plan.baseline;
    if (b === undefined) return [];
    const tasks: Task[] = [];
    const each = (
      field: string,
      judge: (view: Record<string, unknown>, tools: Tools) => string | undefined,
      expected: string,
    ) => {
      tasks.push({
        id: `baseline.${field}`,
        tier: 'deep',
        mode: b.mode,
        cel: false,
        run: () => {
          const provenances = this.candidates('provenance');
          if (provenances.length === 0)
            return fail('no trusted SLSA provenance to compare with the baseline');
          for (const { a, v } of provenances) {
            if (!v.ok) return fail(v.error.message, v.error.code);
            const deviation = judge(v.value, v.tools ?? []);
            if (deviation !== undefined) return fail(`${deviation} (${a.source})`, undefined, { expected });
          }
          return pass(
            `${plural(provenances.length, 'provenance')} match${provenances.length === 1 ? 'es' : ''} the baseline ${field} ${expected}`,
            { expected },
          );
        },
      });
    };
    const source = (v: Record<string, unknown>) =>
      (v['source'] ?? {}) as { repository?: string; ref?: string };
    if (b.builder !== undefined) {
      const want = b.builder;
      each(
        'builder',
        (v) =>
          v['builderId'] === want
            ? undefined
            : `builder "${String(v['builderId'])}" is not the baseline "${want}"`,
        want,
      );
    }
    if (b.buildType !== undefined) {
      const want = b.buildType;
      each(
        'buildType',
        (v) =>
          v['buildType'] === want
            ? undefined
            : `build type "${String(v['buildType'])}" is not the baseline "${want}"`,
        want,
      );
    }
    if (b.sourceRepository !== undefined) {
      const want = b.sourceRepository;
      each(
        'sourceRepository',
        (v) => {
          const got = source(v).repository ?? '';
          return normaliseRepository(got) === want.normalised
            ? undefined
            : `source repository "${got}" is not the baseline "${want.text}"`;
        },
        want.text,
      );
    }
    if (b.branch !== undefined) {
      const want = b.branch;
      each(
        'branch',
        (v) => {
          const ref = source(v).ref ?? '';
          return ref !== '' && want.re.test(ref)
            ? undefined
            : `source ref "${ref}" does not match the baseline branch pattern ${want.text}`;
        },
        want.text,
      );
    }
    for (const { name, range } of b.toolchain) {
      each(
        `toolchain.${name}`,
        (_v, tools) => {
          const versions = tools.filter(([n]) => n === name).map(([, ver]) => ver);
          if (versions.length === 0)
            return `the provenance records no ${name} version (baseline ${range.raw})`;
          for (const ver of versions) {
            const clean = semver().clean(ver, { loose: false });
            if (clean === null)
              return `${name} version "${ver}" is not a semver version (baseline ${range.raw})`;
            if (!range.test(clean)) return `${name} ${ver} is outside the baseline range ${range.raw}`;
          }
          return undefined;
        },
        range.raw,
      );
    }
    return tasks;
  }

  ruleTasks(): Task[] {
    return this.plan.rules.map((rule) => ({
      id: rule.id,
      tier: rule.tier,
      mode: rule.mode,
      cel: true,
      run: () => this.evaluate(rule, {}, new Set(), ''),
    }));
  }

  /** Runs the deep work of the tier under one wall-clock bound; what the bound cut off fails. */
  runTasks(tasks: readonly Task[], timeLimitMs: number): void {
    const active = tasks.filter((t) => !(t.tier === 'deep' && this.tier === 'fast'));
    const results: (Draft | undefined)[] = new Array(active.length);
    const internal = (e: unknown): Draft =>
      fail(
        e instanceof VouchError ? e.message : 'internal error while evaluating',
        e instanceof VouchError ? e.code : 'ERR_INTERNAL',
      );
    const work = () => {
      for (let i = 0; i < active.length; i++) {
        try {
          results[i] = (active[i] as Task).run();
        } catch (e) {
          results[i] = internal(e);
        }
      }
    };
    // CEL runs under the watchdog, always: no estimate bounds what a policy and an input can make it do (dyn
    // values, lists built at run time). The baseline's comparisons are linear in view fields of bounded size.
    let finished = true;
    if (active.some((t) => t.cel)) finished = withinDeadline(work, timeLimitMs);
    else work();
    let r = 0;
    for (const t of tasks) {
      if (t.tier === 'deep' && this.tier === 'fast') {
        this.add(t.id, t.tier, t.mode, pass('')); // recorded as skipped
        continue;
      }
      const d =
        results[r] ??
        fail(
          `not decided within the policy time limit of ${timeLimitMs} ms${finished ? '' : ' (evaluation was stopped)'}`,
          'ERR_POLICY_TIMEOUT',
        );
      r++;
      this.add(t.id, t.tier, t.mode, d);
    }
  }
}

interface Task {
  readonly id: string;
  readonly tier: Tier;
  readonly mode: RuleMode;
  readonly run: () => Draft;
  /** Whether it evaluates CEL (and so runs under the watchdog). */
  readonly cel: boolean;
}

/** One planned expression over `bindings`: a boolean, or why it has none (a CEL runtime error is no pass). */
function runExpression(
  expr: CompiledExpression,
  bindings: Record<string, unknown>,
): { value: boolean; error?: string } {
  let r: unknown;
  try {
    r = expr.run(bindings);
  } catch (e) {
    return { value: false, error: `CEL evaluation failed: ${(e as Error).message}` };
  }
  if (typeof r === 'boolean') return { value: r };
  if (r instanceof Error) return { value: false, error: `CEL error: ${r.message}` };
  return {
    value: false,
    error: `the expression gave ${typeof r === 'object' ? 'a non-boolean value' : typeof r}, not a bool`,
  };
}

/** Whether an enforce-mode check blocks: it failed (or did not run in its own tier) and no active exception waives it. */
function blocks(c: CheckResult, tier: Tier): boolean {
  if (c.mode !== 'enforce') return false;
  if (c.outcome === 'pass') return false;
  if (c.outcome === 'skipped') return !(c.tier === 'deep' && tier === 'fast');
  return c.exception?.active !== true;
}

/**
 * Decides: allow exactly when at least one check ran and no enforce-mode check of the tier failed without
 * an active exception. Never throws for anything in the input: missing, unparseable or erroring evidence is
 * a failing check. `policy.digest` is recorded in the decision.
 */
export function evaluatePolicy(policy: CompiledPolicy, input: PolicyInput, opts: EvaluateOptions): Decision {
  const plan = planOf(policy);
  if (Number.isNaN(input.now.getTime())) throw new TypeError('evaluatePolicy: input.now is not a valid date');
  const ev = new Evaluation(plan, input, opts.tier);
  ev.checks.push(...(opts.checks ?? []));
  ev.signatureChecks();
  ev.attestationChecks();
  ev.runTasks(
    [...ev.conditionTasks(), ...ev.baselineTasks(), ...ev.ruleTasks()],
    opts.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS,
  );
  const ran = ev.checks.filter((c) => c.outcome !== 'skipped');
  const allow = ran.length > 0 && !ev.checks.some((c) => blocks(c, opts.tier));
  return {
    allow,
    tier: opts.tier,
    policy: { name: policy.name, digest: policy.digest },
    artifact: input.artifact,
    checks: ev.checks,
    time: input.now.toISOString(),
  };
}
