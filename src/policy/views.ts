import {
  checkPredicate,
  cvssBaseScore,
  LICENSES_PREDICATE_TYPE,
  parseLicense,
  readSbom,
  SLSA_PROVENANCE_V1,
  VULNS_PREDICATE_TYPE,
} from '../attest/index.js';
import {
  type FieldsContext,
  failAt,
  isRecord,
  JsonFields,
  type JsonValue,
  VouchError,
} from '../core/index.js';
import type { CelModules } from './cel.js';
import { MAX_COMPONENTS, MAX_NAME, MAX_SMALL_LIST, MAX_URI, type ViewName } from './cel-types.js';
import { parseDateTime } from './time.js';
import type { VerifiedAttestation } from './types.js';

/**
 * Normalised views of trusted attestations, as CEL sees them (`provenance`, `sbom`, `vulns`, `licenses`;
 * docs/policy.md lists every field). Predicates are attacker-influenced even when signed by a trusted key
 * (a compromised build, a buggy scanner): they are read field by field, sizes are held to the maxima the
 * cost estimate declared (cel-types.ts), and anything unreadable is an error that fails the check using it.
 */

const CYCLONEDX = /^https:\/\/cyclonedx\.org\/bom(?:\/v1\.[0-9]+)?$/;
const SPDX = /^https:\/\/spdx\.dev\/Document(?:\/v2\.[0-9]+)?$/;

/** Which view a predicate type feeds, if any. */
export function viewOf(predicateType: string): ViewName | undefined {
  if (predicateType === SLSA_PROVENANCE_V1) return 'provenance';
  if (CYCLONEDX.test(predicateType) || SPDX.test(predicateType)) return 'sbom';
  if (predicateType === VULNS_PREDICATE_TYPE) return 'vulns';
  if (predicateType === LICENSES_PREDICATE_TYPE) return 'licenses';
  return undefined;
}

function context(source: string): FieldsContext {
  return {
    code: 'ERR_PREDICATE_MALFORMED',
    message: (path, problem) => `${source}: ${path === '' ? 'predicate' : path} ${problem}`,
    details: { source },
  };
}

/** Reader with the view's size limits. */
class Fields extends JsonFields {
  str(key: string, max = MAX_URI): string {
    return this.optString(key, { max }) ?? '';
  }

  time(key: string, ts: Timestamps): object | undefined {
    const v = this.optString(key, { max: 64 });
    if (v === undefined) return undefined;
    const d = parseDateTime(v);
    if (d === undefined) this.fail(key, `"${v}" is not an RFC 3339 date-time`);
    return ts(d);
  }

  obj(key: string): Fields | undefined {
    const v = this.raw(key);
    return v === undefined || v === null ? undefined : this.child(v, this.at(key));
  }
}

type Timestamps = (d: Date) => object;

/** `git+https://host/o/r@refs/heads/main` → repository and ref (SLSA v1 resolvedDependencies, GitHub form). */
export function splitSourceUri(uri: string): { repository: string; ref: string } {
  const bare = uri.startsWith('git+') ? uri.slice(4) : uri;
  const at = bare.indexOf('@refs/');
  if (at >= 0) return { repository: bare.slice(0, at), ref: bare.slice(at + 1) };
  const slash = bare.indexOf('/', bare.indexOf('://') + 3);
  const last = bare.lastIndexOf('@');
  if (last > slash && slash > 0) return { repository: bare.slice(0, last), ref: bare.slice(last + 1) };
  return { repository: bare, ref: '' };
}

/**
 * The comparable form of a repository URL: no `git+`, no credentials, scheme and host in lower case, no
 * trailing `/` or `.git`. Paths keep their case (not every host folds it).
 */
export function normaliseRepository(uri: string): string {
  const bare = uri.trim().startsWith('git+') ? uri.trim().slice(4) : uri.trim();
  const strip = (p: string) => p.replace(/\/+$/, '').replace(/\.git$/, '');
  try {
    const u = new URL(bare);
    return `${u.protocol.toLowerCase()}//${u.host.toLowerCase()}${strip(u.pathname)}`;
  } catch {
    return strip(bare);
  }
}

/** `pkg:generic/node@20.11.1` → ['node', '20.11.1']; package managers under their purl type too. */
function toolOf(uri: string): [string, string] | undefined {
  const m = /^pkg:(?:generic\/([A-Za-z0-9._-]+)|npm\/(npm|pnpm|yarn))@([^?#]+)$/.exec(uri);
  const name = m?.[1] ?? m?.[2];
  const version = m?.[3];
  return name === undefined || version === undefined ? undefined : [name, decodeURIComponent(version)];
}

export interface ProvenanceView {
  readonly builderId: string;
  readonly buildType: string;
  readonly invocationId: string;
  readonly source: { readonly repository: string; readonly ref: string; readonly commit: string };
  readonly startedOn?: object;
  readonly finishedOn?: object;
  readonly toolchain: Readonly<Record<string, string>>;
  readonly predicate: JsonValue;
}

/** Every toolchain entry of a provenance, duplicates included (the view's map keeps the first of a name). */
export type Tools = readonly (readonly [string, string])[];

function provenance(
  predicate: JsonValue,
  source: string,
  ts: Timestamps,
): { view: ProvenanceView; tools: Tools } {
  checkPredicate(SLSA_PROVENANCE_V1, predicate, source);
  const p = new Fields(predicate, '', context(source));
  const def = p.obj('buildDefinition') ?? p.fail('buildDefinition', 'is required');
  const run = p.obj('runDetails') ?? p.fail('runDetails', 'is required');
  const builder = run.obj('builder') ?? run.fail('builder', 'is required');
  const meta = run.obj('metadata');
  const deps = def.objects('resolvedDependencies', 100_000);
  let src = { repository: '', ref: '', commit: '' };
  for (const d of deps) {
    const digest = d.obj('digest');
    const commit =
      digest?.optString('gitCommit', { max: MAX_NAME }) ?? digest?.optString('sha1', { max: MAX_NAME });
    if (commit === undefined) continue;
    src = { ...splitSourceUri(d.str('uri')), commit };
    break;
  }
  if (src.repository === '') {
    // GitHub's build types name the workflow's repository and ref in externalParameters.
    const wf = def.obj('externalParameters')?.obj('workflow');
    if (wf !== undefined) src = { repository: wf.str('repository'), ref: wf.str('ref'), commit: src.commit };
  }
  const tools: [string, string][] = [];
  for (const d of deps) {
    const tool = toolOf(d.str('uri'));
    if (tool !== undefined) tools.push(tool);
  }
  if (tools.length > MAX_SMALL_LIST)
    p.fail('buildDefinition.resolvedDependencies', `names more than ${MAX_SMALL_LIST} tools`);
  const toolchain: Record<string, string> = {};
  for (const [name, version] of tools) if (!Object.hasOwn(toolchain, name)) toolchain[name] = version;
  const startedOn = meta?.time('startedOn', ts);
  const finishedOn = meta?.time('finishedOn', ts);
  const view = {
    builderId: builder.str('id'),
    buildType: def.str('buildType'),
    invocationId: meta?.str('invocationId') ?? '',
    source: src,
    ...(startedOn === undefined ? {} : { startedOn }),
    ...(finishedOn === undefined ? {} : { finishedOn }),
    toolchain,
    predicate,
  };
  return { view, tools };
}

/**
 * The licence ids an expression names (`MIT OR (Apache-2.0 WITH LLVM-exception)` → MIT, Apache-2.0), which
 * allow lists test one by one, so none may go missing. A valid SPDX expression is read by the SPDX parser (the
 * word after WITH must be an SPDX licence exception); anything else word by word, keeping the word after WITH
 * as an id: `MIT WITH GPL-3.0-only` names GPL-3.0-only. More ids than the view holds fail it (attacker input:
 * truncating would hide the ids past the limit).
 */
function licenseIds(expression: string, owner: string, source: string): string[] {
  const out = new Set<string>();
  const parsed = parseLicense(expression);
  if (parsed.status === 'spdx') {
    for (const branch of parsed.branches) for (const t of branch) out.add(`${t.license}${t.plus ? '+' : ''}`);
  } else {
    for (const t of expression.split(/[\s()]+/))
      if (t !== '' && t !== 'AND' && t !== 'OR' && t !== 'WITH') out.add(t);
  }
  if (out.size > MAX_SMALL_LIST) {
    throw new VouchError(
      'ERR_POLICY_COST',
      `${source}: the licence of ${owner} names ${out.size} licence ids; policies read at most ${MAX_SMALL_LIST}`,
    );
  }
  return [...out];
}

function sbom(predicate: JsonValue, source: string) {
  const doc = readSbom(predicate, source);
  if (doc.components.length > MAX_COMPONENTS) {
    throw new VouchError(
      'ERR_POLICY_COST',
      `${source}: the SBOM has ${doc.components.length} components; policies accept at most ${MAX_COMPONENTS}`,
    );
  }
  // Components share a few licence expressions; each is parsed once.
  const ids = new Map<string, readonly string[]>();
  const idsOf = (expression: string, owner: string): readonly string[] => {
    let known = ids.get(expression);
    if (known === undefined) {
      known = licenseIds(expression, owner, source);
      ids.set(expression, known);
    }
    return known;
  };
  const component = (c: (typeof doc.components)[number]) => {
    if (c.name.length > MAX_NAME || (c.version?.length ?? 0) > MAX_NAME) {
      throw new VouchError(
        'ERR_POLICY_COST',
        `${source}: a component name or version is over ${MAX_NAME} characters`,
      );
    }
    if ((c.license?.length ?? 0) > MAX_URI) {
      throw new VouchError(
        'ERR_PREDICATE_MALFORMED',
        `${source}: the licence of ${c.name} is over ${MAX_URI} characters`,
      );
    }
    return {
      name: c.name,
      version: c.version ?? '',
      purl: c.purl ?? '',
      license: c.license ?? '',
      licenses: c.license === undefined ? [] : idsOf(c.license, c.name),
      scope: c.scope,
    };
  };
  return {
    format: doc.format,
    specVersion: doc.specVersion,
    ...(doc.root === undefined ? {} : { root: component(doc.root) }),
    components: doc.components.map(component),
    predicate,
  };
}

/** CVSS v3.1 §5 qualitative rating of a base score. */
function ratingOfScore(score: number): string {
  if (score === 0) return 'NONE';
  return score >= 9 ? 'CRITICAL' : score >= 7 ? 'HIGH' : score >= 4 ? 'MEDIUM' : 'LOW';
}

const RATINGS = new Set(['NONE', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'UNKNOWN']);

function vulns(predicate: JsonValue, source: string, ts: Timestamps) {
  checkPredicate(VULNS_PREDICATE_TYPE, predicate, source);
  const p = new Fields(predicate, '', context(source));
  const scanner = p.obj('scanner') ?? p.fail('scanner', 'is required');
  const meta = p.obj('metadata');
  const results = scanner.objects('result', MAX_COMPONENTS);
  const findings = results.map((r) => {
    let rating: string | undefined;
    let score: number | undefined;
    for (const s of r.objects('severity', MAX_SMALL_LIST)) {
      const method = s.str('method', MAX_NAME);
      const value = s.str('score', MAX_URI);
      if (method === 'rating') {
        const upper = value.toUpperCase();
        if (!RATINGS.has(upper)) s.fail('score', `"${value}" is not a severity rating`);
        rating = upper;
        continue;
      }
      const n = /^\d+(?:\.\d+)?$/.test(value) ? Number(value) : cvssBaseScore(value)?.value;
      if (n !== undefined && n >= 0 && n <= 10 && (score === undefined || n > score)) score = n;
    }
    const notes: Record<string, unknown> = {};
    for (const { value, path } of r.array('annotations', MAX_SMALL_LIST)) {
      if (!isRecord(value)) failAt(r.ctx, path, 'must be an object');
      Object.assign(notes, value);
    }
    const n = new Fields(notes, r.at('annotations'), r.ctx);
    const aliases = n.strings('aliases', MAX_SMALL_LIST, MAX_NAME);
    const suppressed = n.raw('suppressed');
    if (suppressed !== undefined && typeof suppressed !== 'boolean')
      n.fail('suppressed', 'must be a boolean');
    const fixed = n.raw('fixedIn');
    return {
      id: r.string('id', { max: MAX_NAME, nonEmpty: true }),
      aliases,
      purl: n.str('purl'),
      severity: rating ?? (score === undefined ? 'UNKNOWN' : ratingOfScore(score)),
      ...(score === undefined ? {} : { score }),
      suppressed: suppressed === true,
      fixedIn: typeof fixed === 'string' ? fixed.slice(0, MAX_NAME) : '',
    };
  });
  const incomplete = meta?.objects('notFullyScanned', MAX_COMPONENTS) ?? [];
  const scanStartedOn = meta?.time('scanStartedOn', ts);
  const scanFinishedOn = meta?.time('scanFinishedOn', ts);
  return {
    scanner: { uri: scanner.str('uri'), version: scanner.str('version', MAX_NAME) },
    ...(scanStartedOn === undefined ? {} : { scanStartedOn }),
    ...(scanFinishedOn === undefined ? {} : { scanFinishedOn }),
    findings,
    notFullyScanned: incomplete.map((i) => i.str('purl')),
    predicate,
  };
}

function licenses(predicate: JsonValue, source: string, ts: Timestamps) {
  checkPredicate(LICENSES_PREDICATE_TYPE, predicate, source);
  const p = new Fields(predicate, '', context(source));
  const evaluatedAt = p.time('evaluatedAt', ts);
  const list = (key: string, max: number) => p.array(key, max).map((e) => e.value);
  return {
    result: p.str('result', MAX_NAME),
    ...(evaluatedAt === undefined ? {} : { evaluatedAt }),
    summary: p.raw('summary') ?? null,
    licenses: list('licenses', MAX_COMPONENTS),
    components: list('components', MAX_COMPONENTS),
    violations: list('violations', MAX_COMPONENTS),
    predicate,
  };
}

/** A view, or the coded reason the attestation cannot give one (which fails every check that uses it). */
export type ViewResult =
  | { readonly ok: true; readonly value: Readonly<Record<string, unknown>>; readonly tools?: Tools }
  | { readonly ok: false; readonly error: VouchError };

export function buildView(view: ViewName, att: VerifiedAttestation, mods: CelModules): ViewResult {
  const ts: Timestamps = (d) => mods.wkt.timestampFromDate(d);
  const source = `${att.predicateType} attestation from ${att.source}`;
  try {
    switch (view) {
      case 'provenance': {
        const { view: value, tools } = provenance(att.predicate, source, ts);
        return { ok: true, value: value as unknown as Record<string, unknown>, tools };
      }
      case 'sbom':
        return { ok: true, value: sbom(att.predicate, source) };
      case 'vulns':
        return { ok: true, value: vulns(att.predicate, source, ts) };
      case 'licenses':
        return { ok: true, value: licenses(att.predicate, source, ts) };
    }
  } catch (e) {
    if (e instanceof VouchError) return { ok: false, error: e };
    return {
      ok: false,
      error: new VouchError('ERR_PREDICATE_MALFORMED', `${source} cannot be read`, { cause: e }),
    };
  }
}
