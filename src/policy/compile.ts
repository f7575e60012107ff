import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import type Picomatch from 'picomatch';
import type * as Semver from 'semver';
import { PREDICATE_TYPES } from '../attest/index.js';
import {
  canonicalJson,
  digestBytes,
  isRecord,
  isVouchError,
  lazyRequire,
  readInput,
  toHex,
  unreadable,
  VouchError,
} from '../core/index.js';
import { exportPublicKeyPem, keyIdOf, loadPublicKey } from '../crypto/index.js';
import { type CelModules, type CompiledExpression, compileExpression, loadCel, re2Problem } from './cel.js';
import { type CelT, CONDITION_VARIABLES, RULE_VARIABLES, type ViewName } from './cel-types.js';
import { validateSchema } from './schema.js';
import { MAX_POLICY_BYTES, type Path, SourceDocument } from './source.js';
import { expiryInstant, parseDateTime, parseDuration } from './time.js';
import { TrustMatcher } from './trust.js';
import type {
  CompiledPolicy,
  PolicyDiagnostic,
  PolicyDocument,
  PolicyException,
  PolicyKey,
  RuleMode,
  Tier,
} from './types.js';
import { normaliseRepository, viewOf } from './views.js';

const picomatch = lazyRequire<typeof Picomatch>('picomatch');
const semver = lazyRequire<typeof Semver>('semver');

/** Public key files are a few hundred bytes; a larger one is not a key. */
const MAX_KEY_BYTES = 64 * 1024;
/** The public-good trusted_root.json is ~15 KiB; as verify's gate reads it. */
const MAX_TRUST_ROOT_BYTES = 4 * 1024 * 1024;

/** One CEL check of the plan: a condition of an attestation or a rule. */
export interface PlannedCheck {
  readonly id: string;
  readonly tier: Tier;
  readonly mode: RuleMode;
  readonly expr: CompiledExpression;
  readonly message?: string;
}

export interface PlannedAttestation {
  readonly id: string;
  readonly predicateType: string;
  readonly matches: (predicateType: string) => boolean;
  readonly maxAge?: { readonly ms: number; readonly text: string };
  /** The view its predicates feed (bound to the attestation under check inside its conditions). */
  readonly view?: ViewName;
  readonly conditions: readonly PlannedCheck[];
}

interface Matcher {
  matches(input: string): boolean;
  test(input: string): boolean;
}

export interface PlannedBaseline {
  readonly mode: RuleMode;
  readonly builder?: string;
  readonly sourceRepository?: { readonly text: string; readonly normalised: string };
  readonly branch?: { readonly text: string; readonly re: Matcher };
  readonly buildType?: string;
  readonly toolchain: readonly { readonly name: string; readonly range: Semver.Range }[];
}

/** What a decision runs: everything resolved at compile time. */
export interface PolicyPlan {
  readonly mods: CelModules;
  readonly trust: TrustMatcher;
  readonly threshold: number;
  readonly signaturesMaxAge?: { readonly ms: number; readonly text: string };
  readonly attestations: readonly PlannedAttestation[];
  readonly baseline?: PlannedBaseline;
  readonly rules: readonly PlannedCheck[];
  /** Exceptions by the check id they waive. */
  readonly exceptions: ReadonlyMap<string, readonly PolicyException[]>;
  readonly match: readonly ((a: { name?: string; purl?: string; oci?: string }) => boolean)[];
}

const PLANS = new WeakMap<CompiledPolicy, PolicyPlan>();

/** The plan behind a compiled policy; a hand-made object has none (programmer misuse). */
export function planOf(policy: CompiledPolicy): PolicyPlan {
  const plan = PLANS.get(policy);
  if (plan === undefined) throw new TypeError('not a policy returned by compilePolicy/loadPolicy');
  return plan;
}

const CYCLONEDX = /^https:\/\/cyclonedx\.org\/bom(?:\/v1\.[0-9]+)?$/;
const SPDX = /^https:\/\/spdx\.dev\/Document(?:\/v2\.[0-9]+)?$/;

/** Short names → predicate types; SBOM short names accept the versioned forms as well. */
function predicateMatcher(written: string): ((t: string) => boolean) | undefined {
  switch (written) {
    case 'cyclonedx':
      return (t) => CYCLONEDX.test(t);
    case 'spdx':
      return (t) => SPDX.test(t);
    case 'slsa':
    case 'licenses':
    case 'vulns':
    case 'openvex': {
      const full = PREDICATE_TYPES[written];
      return (t) => t === full;
    }
    default:
      return written.includes(':') ? (t) => t === written : undefined;
  }
}

interface Raw {
  [k: string]: unknown;
}

const get = (o: unknown, k: string): unknown => (isRecord(o) && Object.hasOwn(o, k) ? o[k] : undefined);
const list = (o: unknown, k: string): Raw[] => {
  const v = get(o, k);
  return Array.isArray(v) ? (v as Raw[]) : [];
};
const str = (o: unknown, k: string): string | undefined => {
  const v = get(o, k);
  return typeof v === 'string' ? v : undefined;
};

/** Adds `{ [k]: v }` only when `v` is defined (exactOptionalPropertyTypes). */
function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

class Compiler {
  readonly keys: PolicyKey[] = [];
  /** Key index → canonical PEM, for the digest. */
  readonly pems = new Map<number, string>();
  /** `sha256:<hex>` of the trusted root file, for the digest. */
  trustedRootDigest: string | undefined;

  constructor(
    readonly doc: SourceDocument,
    readonly mods: CelModules,
    readonly baseDir: string,
  ) {}

  expression(
    path: Path,
    text: string,
    variables: Readonly<Record<string, CelT>>,
  ): CompiledExpression | undefined {
    const { expr, problems } = compileExpression(this.mods, text, variables);
    for (const p of problems) {
      const before = text.slice(0, p.offset);
      const line = before.split('\n').length;
      const column = p.offset - (before.lastIndexOf('\n') + 1) + 1;
      const at = this.doc.locateInString(path, p.offset, text);
      this.doc.add(path, p.message, {
        code: p.code,
        expression: { line, column },
        ...(at === undefined ? {} : { at }),
      });
    }
    return expr;
  }

  unique(items: readonly Raw[], path: Path, key: string, what: string): void {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const id = str(item, key);
      if (id === undefined) return;
      if (seen.has(id)) this.doc.add([...path, i, key], `${what} "${id}" is used twice`);
      seen.add(id);
    });
  }

  async key(raw: Raw, i: number): Promise<PolicyKey | undefined> {
    const path = ['spec', 'signatures', 'keys', i];
    const name = str(raw, 'name') ?? `#${i}`;
    let data: string | Uint8Array;
    const file = str(raw, 'path');
    if (file !== undefined) {
      try {
        data = await readInput(resolve(this.baseDir, file), MAX_KEY_BYTES);
      } catch (e) {
        this.doc.add([...path, 'path'], isVouchError(e) ? e.message : unreadable(file, e).message);
        return undefined;
      }
    } else data = str(raw, 'publicKey') ?? '';
    try {
      const publicKey = loadPublicKey(data, `key ${name}`);
      const notAfterText = str(raw, 'notAfter');
      const notAfter = notAfterText === undefined ? undefined : parseDateTime(notAfterText);
      if (notAfterText !== undefined && notAfter === undefined) {
        this.doc.add([...path, 'notAfter'], `"${notAfterText}" is not a date-time that exists`);
      }
      this.pems.set(i, exportPublicKeyPem(publicKey));
      return {
        name,
        keyId: keyIdOf(publicKey),
        publicKey,
        revoked: get(raw, 'revoked') === true,
        ...opt('notAfter', notAfter),
      };
    } catch (e) {
      this.doc.add(
        [...path, file === undefined ? 'publicKey' : 'path'],
        isVouchError(e) ? e.message : 'is not a public key',
      );
      return undefined;
    }
  }

  regexp(path: Path, pattern: string | undefined): Matcher | undefined {
    if (pattern === undefined) return undefined;
    const problem = re2Problem(this.mods, pattern);
    if (problem !== undefined) {
      this.doc.add(path, `is not an RE2 regexp: ${problem}`);
      return undefined;
    }
    return this.mods.re2.RE2JS.compile(pattern);
  }

  duration(text: string | undefined): { ms: number; text: string } | undefined {
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    return ms === undefined ? undefined : { ms, text };
  }

  checks(
    raw: Raw[],
    path: Path,
    tier: Tier | undefined,
    variables: Readonly<Record<string, CelT>>,
    prefix: string,
  ) {
    const out: PlannedCheck[] = [];
    raw.forEach((c, i) => {
      const text = str(c, 'expr') ?? '';
      const expr = this.expression([...path, i, 'expr'], text, variables);
      if (expr === undefined) return;
      const t = (str(c, 'tier') as Tier | undefined) ?? tier ?? 'deep';
      out.push({
        id: `${prefix}.${str(c, 'id') ?? ''}`,
        tier: t,
        mode: (str(c, 'mode') as RuleMode | undefined) ?? 'enforce',
        expr,
        ...opt('message', str(c, 'message')),
      });
    });
    return out;
  }

  async plan(value: Raw): Promise<PolicyPlan> {
    const spec = get(value, 'spec');
    const sig = get(spec, 'signatures');
    const keysRaw = list(sig, 'keys');
    this.unique(keysRaw, ['spec', 'signatures', 'keys'], 'name', 'key name');
    const loaded = await Promise.all(keysRaw.map((k, i) => this.key(k, i)));
    // One key listed twice would have its revocation or notAfter decided by whichever entry came last.
    const first = new Map<string, number>();
    loaded.forEach((k, i) => {
      if (k === undefined) return;
      const j = first.get(k.keyId);
      if (j === undefined) first.set(k.keyId, i);
      else {
        const where = str(keysRaw[i], 'path') === undefined ? 'publicKey' : 'path';
        this.doc.add(
          ['spec', 'signatures', 'keys', i, where],
          `key "${k.name}" is the same key as "${loaded[j]?.name}" (spec.signatures.keys[${j}]); list each key once`,
        );
      }
    });
    this.keys.push(...loaded.filter((k): k is PolicyKey => k !== undefined));
    const identities = list(sig, 'identities').map((r, i) => {
      const path = ['spec', 'signatures', 'identities', i];
      this.regexp([...path, 'subjectRegExp'], str(r, 'subjectRegExp'));
      this.regexp([...path, 'issuerRegExp'], str(r, 'issuerRegExp'));
      return {
        ...opt('subject', str(r, 'subject')),
        ...opt('subjectRegExp', str(r, 'subjectRegExp')),
        ...opt('issuer', str(r, 'issuer')),
        ...opt('issuerRegExp', str(r, 'issuerRegExp')),
      };
    });
    const trustedRoot = str(sig, 'trustedRoot');
    if (trustedRoot !== undefined) {
      // The digest names what the policy trusts, so it covers the root's content, as it covers the keys'.
      try {
        const bytes = await readInput(resolve(this.baseDir, trustedRoot), MAX_TRUST_ROOT_BYTES);
        this.trustedRootDigest = `sha256:${toHex(digestBytes('sha256', bytes))}`;
      } catch (e) {
        this.doc.add(
          ['spec', 'signatures', 'trustedRoot'],
          isVouchError(e) ? e.message : unreadable(trustedRoot, e).message,
        );
      }
    }
    const threshold = (get(sig, 'threshold') as number | undefined) ?? 1;
    const distinct = this.keys.filter((k) => !k.revoked).length + identities.length;
    if (distinct < threshold && identities.length === 0 && this.keys.length === keysRaw.length) {
      this.doc.add(
        ['spec', 'signatures', 'threshold'],
        `is ${threshold}, but the policy has only ${distinct} usable key(s): no artifact could ever pass`,
      );
    }
    const trust = {
      keys: this.keys,
      identities,
      threshold,
      ...opt('trustedRoot', trustedRoot === undefined ? undefined : resolve(this.baseDir, trustedRoot)),
      ...opt('trustedRootDigest', this.trustedRootDigest),
    };

    const attRaw = list(spec, 'attestations');
    this.unique(attRaw, ['spec', 'attestations'], 'id', 'attestation id');
    const attestations = attRaw.map((a, i): PlannedAttestation | undefined => {
      const path = ['spec', 'attestations', i];
      const written = str(a, 'predicateType') ?? '';
      const matches = predicateMatcher(written);
      if (matches === undefined) {
        this.doc.add(
          [...path, 'predicateType'],
          `"${written}" is neither a predicate type URI nor one of ${Object.keys(PREDICATE_TYPES).join(', ')}`,
        );
      }
      const conditions = list(a, 'conditions');
      this.unique(conditions, [...path, 'conditions'], 'id', 'condition id');
      conditions.forEach((c, j) => {
        const id = str(c, 'id');
        if (id === 'present' || id === 'fresh') {
          this.doc.add(
            [...path, 'conditions', j, 'id'],
            `"${id}" is the id of a built-in check of the attestation; choose another`,
          );
        }
      });
      const id = str(a, 'id') ?? '';
      const short = Object.hasOwn(PREDICATE_TYPES, written)
        ? (PREDICATE_TYPES as Record<string, string>)[written]
        : undefined;
      const view = viewOf(short ?? written);
      const planned = this.checks(
        conditions,
        [...path, 'conditions'],
        'deep',
        CONDITION_VARIABLES,
        `attestations.${id}`,
      );
      if (matches === undefined) return undefined;
      return {
        id,
        predicateType: written,
        matches,
        ...opt('maxAge', this.duration(str(a, 'maxAge'))),
        ...opt('view', view),
        conditions: planned.map((c) => ({ ...c, tier: 'deep' as const })),
      };
    });

    const rulesRaw = list(spec, 'rules');
    this.unique(rulesRaw, ['spec', 'rules'], 'id', 'rule id');
    const rules = this.checks(rulesRaw, ['spec', 'rules'], undefined, RULE_VARIABLES, 'rules');

    const baseline = this.baseline(get(spec, 'baseline'));
    const deepIds = new Set([
      ...rulesRaw.map((r) => `rules.${str(r, 'id')}`),
      ...attRaw.flatMap((a) =>
        list(a, 'conditions').map((c) => `attestations.${str(a, 'id')}.${str(c, 'id')}`),
      ),
      ...baselineIds(get(spec, 'baseline')),
    ]);
    const exceptions = new Map<string, PolicyException[]>();
    list(spec, 'exceptions').forEach((e, i) => {
      const path = ['spec', 'exceptions', i];
      const rule = str(e, 'rule') ?? '';
      const expires = str(e, 'expires') ?? '';
      if (!deepIds.has(rule)) {
        // Trust (signatures, presence, freshness) is never waivable: an exception names a condition,
        // baseline check or rule of this policy.
        this.doc.add(
          [...path, 'rule'],
          `"${rule}" is not a condition, baseline check or rule of this policy (exceptions cannot waive signatures or required attestations)`,
        );
      }
      if (expiryInstant(expires) === undefined)
        this.doc.add([...path, 'expires'], `"${expires}" is not a date that exists`);
      const entry: PolicyException = {
        rule,
        owner: str(e, 'owner') ?? '',
        expires,
        ...opt('reason', str(e, 'reason')),
      };
      exceptions.set(rule, [...(exceptions.get(rule) ?? []), entry]);
    });

    const match = list(spec, 'match').map((m, i) => this.matcher(m, ['spec', 'match', i]));
    const planned = attestations.filter((a): a is PlannedAttestation => a !== undefined);
    return {
      mods: this.mods,
      trust: new TrustMatcher(trust, this.mods),
      threshold,
      ...opt('signaturesMaxAge', this.duration(str(sig, 'maxAge'))),
      attestations: planned,
      ...opt('baseline', baseline),
      rules,
      exceptions,
      match,
    };
  }

  baseline(raw: unknown): PlannedBaseline | undefined {
    if (!isRecord(raw)) return undefined;
    const path = ['spec', 'baseline'];
    const toolchain = Object.entries(isRecord(raw['toolchain']) ? raw['toolchain'] : {}).flatMap(
      ([name, range]) => {
        const r = String(range);
        try {
          return [{ name, range: new (semver().Range)(r) }];
        } catch {
          this.doc.add([...path, 'toolchain', name], `"${r}" is not a semver range`);
          return [];
        }
      },
    );
    const repo = str(raw, 'sourceRepository');
    const branchText = str(raw, 'branch');
    const branch = this.regexp([...path, 'branch'], branchText);
    return {
      mode: (str(raw, 'mode') as RuleMode | undefined) ?? 'enforce',
      ...opt('builder', str(raw, 'builder')),
      ...opt(
        'sourceRepository',
        repo === undefined ? undefined : { text: repo, normalised: normaliseRepository(repo) },
      ),
      ...opt(
        'branch',
        branch === undefined || branchText === undefined ? undefined : { text: branchText, re: branch },
      ),
      ...opt('buildType', str(raw, 'buildType')),
      toolchain,
    };
  }

  matcher(m: Raw, path: Path): (a: { name?: string; purl?: string; oci?: string }) => boolean {
    const glob = (key: 'name' | 'purl' | 'oci'): ((s: string) => boolean) | undefined => {
      const written = str(m, key);
      if (written === undefined) return undefined;
      const pattern = key === 'oci' ? canonicalOciPattern(written) : written;
      try {
        // A name pattern without `/` matches the base name (`*.tgz` covers dist/app.tgz).
        return picomatch()(pattern, {
          dot: true,
          ...(key === 'name' && !pattern.includes('/') ? { basename: true } : {}),
        });
      } catch (e) {
        this.doc.add([...path, key], `is not a glob: ${(e as Error).message}`);
        return undefined;
      }
    };
    const name = glob('name');
    const purl = glob('purl');
    const oci = glob('oci');
    return (a) =>
      (name === undefined || (a.name !== undefined && name(a.name))) &&
      (purl === undefined || (a.purl !== undefined && purlCandidates(a.purl).some((p) => purl(p)))) &&
      (oci === undefined || (a.oci !== undefined && oci(a.oci)));
  }
}

function baselineIds(raw: unknown): string[] {
  if (!isRecord(raw)) return [];
  const fields = ['builder', 'sourceRepository', 'branch', 'buildType'].filter((f) => raw[f] !== undefined);
  const tools = isRecord(raw['toolchain']) ? Object.keys(raw['toolchain']).map((t) => `toolchain.${t}`) : [];
  return [...fields, ...tools].map((f) => `baseline.${f}`);
}

/**
 * The forms a purl glob is tried against: as given, percent-decoded (`%40acme` → `@acme`), and both without
 * the version, qualifiers and subpath, so `pkg:npm/@acme/*` covers `pkg:npm/%40acme/app@1.2.3`.
 */
export function purlCandidates(purl: string): string[] {
  let decoded = purl;
  try {
    decoded = decodeURIComponent(purl);
  } catch {
    // Not valid percent-encoding: only the given form can match.
  }
  const bare = (p: string) => {
    const noQualifiers = p.split(/[?#]/)[0] ?? p;
    const at = noQualifiers.lastIndexOf('@');
    return at > noQualifiers.lastIndexOf('/') ? noQualifiers.slice(0, at) : noQualifiers;
  };
  return [...new Set([purl, decoded, bare(purl), bare(decoded)])];
}

/** Docker Hub's names for itself; parseReference (oci) writes `docker.io`. */
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * A registry as `match` compares it, whatever way the reference wrote it: host in lower case, no `:443`
 * (the HTTPS default), Docker Hub's aliases as `docker.io`. Attacker-chosen spelling must not select a
 * more lenient policy than the registry's own.
 */
export function canonicalRegistry(registry: string): string {
  const host = registry.toLowerCase().replace(/:443$/, '');
  return DOCKER_HUB.has(host) ? 'docker.io' : host;
}

/** An `oci` pattern with its registry in canonical form when the registry is written out (no glob in it). */
function canonicalOciPattern(pattern: string): string {
  const slash = pattern.indexOf('/');
  if (slash < 0) return pattern;
  const registry = pattern.slice(0, slash);
  return /[*?[\]{}()!+@\\]/.test(registry)
    ? pattern
    : `${canonicalRegistry(registry)}${pattern.slice(slash)}`;
}

/** The digest form: every key as its canonical PEM and the trusted root as its SHA-256, wherever they were read from. */
function canonicalDocument(value: Raw, compiler: Compiler): unknown {
  const spec = get(value, 'spec') as Raw;
  const sig = get(spec, 'signatures') as Raw;
  const keys = list(sig, 'keys').map((k, i) => {
    const { path: _path, publicKey: _inline, ...rest } = k;
    return { ...rest, publicKey: compiler.pems.get(i) };
  });
  return {
    ...value,
    spec: {
      ...spec,
      signatures: {
        ...sig,
        ...(get(sig, 'keys') === undefined ? {} : { keys }),
        ...opt('trustedRoot', compiler.trustedRootDigest),
      },
    },
  };
}

/** The model with defaults filled in, from a document that passed the schema. */
function toDocument(value: Raw): PolicyDocument {
  const spec = get(value, 'spec');
  const sig = get(spec, 'signatures');
  const meta = get(value, 'metadata');
  const mode = (o: unknown): RuleMode => (str(o, 'mode') as RuleMode | undefined) ?? 'enforce';
  const condition = (c: Raw) => ({
    id: str(c, 'id') ?? '',
    expr: str(c, 'expr') ?? '',
    mode: mode(c),
    ...opt('message', str(c, 'message')),
  });
  const baseline = get(spec, 'baseline');
  return {
    apiVersion: 'vouch.dev/v1',
    kind: 'Policy',
    metadata: { name: str(meta, 'name') ?? '', ...opt('description', str(meta, 'description')) },
    spec: {
      match: list(spec, 'match').map((m) => ({
        ...opt('name', str(m, 'name')),
        ...opt('purl', str(m, 'purl')),
        ...opt('oci', str(m, 'oci')),
      })),
      signatures: {
        threshold: (get(sig, 'threshold') as number | undefined) ?? 1,
        keys: list(sig, 'keys').map((k) => ({
          name: str(k, 'name') ?? '',
          ...opt('path', str(k, 'path')),
          ...opt('publicKey', str(k, 'publicKey')),
          ...opt('notAfter', str(k, 'notAfter')),
          revoked: get(k, 'revoked') === true,
        })),
        identities: list(sig, 'identities').map((r) => ({
          ...opt('subject', str(r, 'subject')),
          ...opt('subjectRegExp', str(r, 'subjectRegExp')),
          ...opt('issuer', str(r, 'issuer')),
          ...opt('issuerRegExp', str(r, 'issuerRegExp')),
        })),
        ...opt('trustedRoot', str(sig, 'trustedRoot')),
        ...opt('maxAge', str(sig, 'maxAge')),
      },
      attestations: list(spec, 'attestations').map((a) => ({
        id: str(a, 'id') ?? '',
        predicateType: str(a, 'predicateType') ?? '',
        ...opt('maxAge', str(a, 'maxAge')),
        conditions: list(a, 'conditions').map(condition),
      })),
      ...opt(
        'baseline',
        isRecord(baseline)
          ? {
              ...opt('builder', str(baseline, 'builder')),
              ...opt('sourceRepository', str(baseline, 'sourceRepository')),
              ...opt('branch', str(baseline, 'branch')),
              ...opt('buildType', str(baseline, 'buildType')),
              ...opt(
                'toolchain',
                isRecord(baseline['toolchain'])
                  ? (baseline['toolchain'] as Record<string, string>)
                  : undefined,
              ),
              mode: mode(baseline),
            }
          : undefined,
      ),
      rules: list(spec, 'rules').map((r) => ({
        ...condition(r),
        tier: (str(r, 'tier') as Tier | undefined) ?? 'deep',
      })),
      exceptions: list(spec, 'exceptions').map((e) => ({
        rule: str(e, 'rule') ?? '',
        owner: str(e, 'owner') ?? '',
        expires: str(e, 'expires') ?? '',
        ...opt('reason', str(e, 'reason')),
      })),
    },
  };
}

export interface CompileOptions {
  /** The file the text came from (messages, `CompiledPolicy.source`, default base directory). */
  readonly source?: string;
  /** Where relative key and trusted-root paths start; default the source's directory, else the cwd. */
  readonly baseDir?: string;
}

async function analyse(
  text: string | Uint8Array,
  opts: CompileOptions,
): Promise<{ diagnostics: PolicyDiagnostic[]; policy?: CompiledPolicy }> {
  const source = opts.source ?? '<policy>';
  const size = typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength;
  if (size > MAX_POLICY_BYTES) {
    return {
      diagnostics: [
        {
          path: '',
          code: 'ERR_POLICY_MALFORMED',
          message: `is ${size} bytes; policies are at most ${MAX_POLICY_BYTES}`,
        },
      ],
    };
  }
  const doc = new SourceDocument(text, source, 'ERR_POLICY_MALFORMED');
  if (doc.diagnostics.length > 0 || !validateSchema(doc)) return { diagnostics: doc.diagnostics };
  const value = doc.value as Raw;
  const mods = await loadCel();
  const baseDir = opts.baseDir ?? (opts.source === undefined ? process.cwd() : dirname(resolve(opts.source)));
  const compiler = new Compiler(doc, mods, baseDir);
  const plan = await compiler.plan(value);
  if (doc.diagnostics.length > 0) return { diagnostics: doc.diagnostics };
  const document = toDocument(value);
  const digest = `sha256:${toHex(digestBytes('sha256', Buffer.from(canonicalJson(canonicalDocument(value, compiler)))))}`;
  const policy: CompiledPolicy = {
    name: document.metadata.name,
    digest,
    ...opt('source', opts.source),
    document,
    trust: {
      keys: compiler.keys,
      identities: document.spec.signatures.identities,
      threshold: plan.threshold,
      ...opt('trustedRoot', plan.trust.trust.trustedRoot),
      ...opt('trustedRootDigest', plan.trust.trust.trustedRootDigest),
    },
  };
  PLANS.set(policy, plan);
  return { diagnostics: [], policy };
}

/** Positions sorted as a reader meets them; problems without a line go first (whole-document ones). */
function byPosition(a: PolicyDiagnostic, b: PolicyDiagnostic): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/** Every problem of a policy text (empty when it compiles): YAML, schema, keys, regexps, CEL types, cost. */
export async function checkPolicy(
  text: string | Uint8Array,
  opts: CompileOptions = {},
): Promise<PolicyDiagnostic[]> {
  return (await analyse(text, opts)).diagnostics.sort(byPosition);
}

/** Compiles a policy; the first problem (in file order) is thrown with all of them in `details.diagnostics`. */
export async function compilePolicy(
  text: string | Uint8Array,
  opts: CompileOptions = {},
): Promise<CompiledPolicy> {
  const { diagnostics, policy } = await analyse(text, opts);
  const [first] = diagnostics.sort(byPosition);
  if (first !== undefined || policy === undefined) {
    const d = first ?? { path: '', code: 'ERR_POLICY_MALFORMED' as const, message: 'cannot be compiled' };
    const where = `${opts.source ?? 'policy'}${d.line === undefined ? '' : `:${d.line}:${d.column ?? 1}`}`;
    throw new VouchError(d.code, `${where}: ${d.message}`, {
      details: {
        ...opt('source', opts.source),
        path: d.path,
        ...opt('line', d.line),
        ...opt('column', d.column),
        ...opt('expression', d.expression),
        diagnostics,
      },
    });
  }
  return policy;
}

export async function loadPolicy(path: string): Promise<CompiledPolicy> {
  return compilePolicy(await readInput(path, MAX_POLICY_BYTES), { source: path });
}

const POLICY_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

const VOUCH_API = /["']?apiVersion["']?\s*:\s*["']?vouch\.dev\//;
const TEST_KIND = /["']?kind["']?\s*:\s*["']?PolicyTest\b/;

/** What a file in a directory is, from a look at its text: a Vouch policy, a policy test, or neither. */
async function fileKind(path: string): Promise<'Policy' | 'PolicyTest' | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  if (TEST_KIND.test(text)) return 'PolicyTest';
  return VOUCH_API.test(text) ? 'Policy' : undefined;
}

/**
 * Files given, and the files of directories given (their *.yaml, *.yml and *.json of the wanted kind, in name
 * order, not recursive). A directory may hold policies, their tests and other JSON (a trusted_root.json):
 * only files that declare `apiVersion: vouch.dev/…` are policies, and tests declare `kind: PolicyTest`; a
 * policy with a misspelt kind is still loaded (and refused), never silently left out.
 */
export async function policyFiles(
  paths: readonly string[],
  want: 'Policy' | 'PolicyTest',
): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch (e) {
      throw unreadable(p, e);
    }
    if (!isDir) {
      out.push(p);
      continue;
    }
    const names = (await readdir(p)).filter((n) => POLICY_EXTENSIONS.has(extname(n).toLowerCase())).sort();
    for (const n of names) if ((await fileKind(join(p, n))) === want) out.push(join(p, n));
  }
  return out;
}

/** Loads policies from files and directories; two policies with one name are an error (selection is by name). */
export async function loadPolicies(paths: readonly string[]): Promise<CompiledPolicy[]> {
  const files = await policyFiles(paths, 'Policy');
  const policies: CompiledPolicy[] = [];
  for (const f of files) policies.push(await loadPolicy(f));
  const seen = new Map<string, string>();
  for (const p of policies) {
    const other = seen.get(p.name);
    if (other !== undefined) {
      throw new VouchError(
        'ERR_POLICY_MALFORMED',
        `${p.source}: policy name "${p.name}" is also used by ${other}`,
        {
          details: { source: p.source, path: 'metadata.name' },
        },
      );
    }
    seen.set(p.name, p.source ?? '');
  }
  return policies;
}
