// Property tests of the decision (issue 5 §5): random mutations of attestations, identities and policies
// never turn a deny into an allow.
//
// (a) From a denied input, removing or corrupting evidence (drop a signature or attestation, replace a signer
//     with junk, replace a predicate field with junk, age the times) never gives allow. The generated inputs
//     have at most one attestation per type and no revoked key: a revoked signature, or a failing extra
//     attestation beside a good one, is denial evidence by design, and removing it is not a corruption.
// (b) From an allowed input, corrupting any piece the policy requires gives deny.
// (c) Random byte edits of a policy's text compile or fail with a coded error, and a mutant that compiles
//     never allows an input that has no trusted signature.
//
// The policy used writes its conditions as allow lists (severities, version shapes), as docs/policy.md
// recommends, so a value replaced by junk can never read as a good one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { isVouchError } from '../../src/core/index.js';
import {
  type CompiledPolicy,
  compilePolicy,
  evaluatePolicy,
  explainDecision,
  type PolicyInput,
  type VerifiedAttestation,
  type VerifiedSignature,
} from '../../src/policy/index.js';
import {
  attestation,
  BUILDER,
  CDX,
  compile,
  component,
  finding,
  goodInput,
  KEYS,
  NOW,
  provenance,
  releaseGate,
  SLSA,
  sbom,
  signature,
  type TestKey,
  VULNS,
  vulns,
} from './fixtures.js';

const RUNS = Number(process.env['VOUCH_PROPERTY_RUNS'] ?? 150);
const DAY = 86_400_000;

type Json = Record<string, unknown>;

function strictGate(): Json {
  const doc = releaseGate();
  const spec = doc['spec'] as { attestations: { conditions?: Json[] }[]; rules: Json[] };
  const sbomReq = spec.attestations[1];
  if (sbomReq !== undefined) {
    sbomReq.conditions = [
      {
        id: 'complete',
        expr: 'size(sbom.components) > 0 && sbom.components.all(c, c.version.matches("^[0-9]+\\\\.[0-9]+\\\\.[0-9]+$"))',
      },
    ];
  }
  spec.rules = [
    {
      id: 'no-high-vulns',
      expr: 'vulns.findings.all(f, f.suppressed || f.severity in ["NONE", "LOW", "MEDIUM"])',
    },
  ];
  return doc;
}

let gatePromise: Promise<CompiledPolicy> | undefined;
const gate = () => {
  gatePromise ??= compile(strictGate());
  return gatePromise;
};

const KEY_BY_NAME: Readonly<Record<string, TestKey>> = KEYS;

/** Junk: never a URL, a version, a severity or a commit, and never an empty container. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 8 }).map((s) => `junk-${s}`),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constant('junk'), { minLength: 1, maxLength: 3 }),
  fc.dictionary(
    fc.string({ maxLength: 4 }).map((s) => `junk${s}`),
    fc.constant(1),
    { minKeys: 1, maxKeys: 2 },
  ),
);

const junkSigner = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{64}$/).map((keyId) => ({ kind: 'key' as const, keyId })),
  fc
    .string({ maxLength: 12 })
    .map((s) => ({ kind: 'certificate' as const, subject: `junk-${s}`, extensions: {} })),
);

/** Every path inside a JSON value (not the root itself). */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => [[...prefix, i], ...paths(x, [...prefix, i])]);
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).flatMap(([k, x]) => [[...prefix, k], ...paths(x, [...prefix, k])]);
  }
  return [];
}

function replaced(v: unknown, path: readonly (string | number)[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? replaced(x, rest, value) : x));
  const o = v as Json;
  return { ...o, [head]: replaced(o[head as string], rest, value) };
}

const when = (daysAgo: number) => new Date(NOW.getTime() - daysAgo * DAY - 3_600_000);

/** A random input: each attestation kind at most once, from a random signer, content good or bad. */
const inputs: fc.Arbitrary<PolicyInput> = fc
  .record({
    sigs: fc.array(
      fc.record({
        key: fc.constantFrom('release', 'backup', 'other'),
        days: fc.nat(200),
        timed: fc.boolean(),
      }),
      {
        maxLength: 2,
      },
    ),
    prov: fc.option(
      fc.record({
        key: fc.constantFrom('release', 'other'),
        days: fc.nat(120),
        builder: fc.constantFrom(BUILDER, 'https://evil.example/builder'),
        ref: fc.constantFrom('refs/heads/main', 'refs/heads/dev'),
        node: fc.constantFrom('20.11.1', '18.19.0'),
      }),
    ),
    sbom: fc.option(
      fc.record({
        key: fc.constantFrom('release', 'other'),
        days: fc.nat(30),
        kind: fc.constantFrom('good', 'noversion', 'empty'),
      }),
    ),
    vulns: fc.option(
      fc.record({
        key: fc.constantFrom('release', 'other'),
        days: fc.nat(14),
        kind: fc.constantFrom('clean', 'critical', 'vexed', 'unrated'),
      }),
    ),
  })
  .map((g): PolicyInput => {
    const atts: VerifiedAttestation[] = [];
    if (g.prov !== null) {
      const { key, days, ...o } = g.prov;
      atts.push(attestation(SLSA, provenance(o), KEY_BY_NAME[key], when(days)));
    }
    if (g.sbom !== null) {
      const components =
        g.sbom.kind === 'empty' ? [] : [component('left-pad', g.sbom.kind === 'good' ? '1.3.0' : '', 'MIT')];
      atts.push(attestation(CDX, sbom(components), KEY_BY_NAME[g.sbom.key], when(g.sbom.days)));
    }
    if (g.vulns !== null) {
      const results = {
        clean: [],
        critical: [finding('GHSA-1', 'CRITICAL')],
        vexed: [finding('GHSA-1', 'CRITICAL', true)],
        unrated: [{ id: 'GHSA-2' }],
      }[g.vulns.kind];
      atts.push(attestation(VULNS, vulns(results), KEY_BY_NAME[g.vulns.key], when(g.vulns.days)));
    }
    const signatures = g.sigs.map((s): VerifiedSignature => {
      const sig = signature(KEY_BY_NAME[s.key], when(s.days));
      if (s.timed) return sig;
      const { time: _time, ...untimed } = sig;
      return untimed;
    });
    return { ...goodInput(), signatures, attestations: atts };
  });

type Mutation =
  | { kind: 'drop-signature'; at: number }
  | { kind: 'drop-attestation'; at: number }
  | { kind: 'resign-signature' | 'resign-attestation'; at: number; signer: VerifiedSignature['signer'] }
  | { kind: 'corrupt-field'; at: number; path: number; value: unknown }
  | { kind: 'age'; at: number; attestation: boolean; ms: number; drop: boolean };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop-signature' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('drop-attestation' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constantFrom('resign-signature' as const, 'resign-attestation' as const),
    at: fc.nat(),
    signer: junkSigner,
  }),
  fc.record({ kind: fc.constant('corrupt-field' as const), at: fc.nat(), path: fc.nat(), value: junk }),
  fc.record({
    kind: fc.constant('age' as const),
    at: fc.nat(),
    attestation: fc.boolean(),
    ms: fc.integer({ min: 1, max: 400 * DAY }),
    drop: fc.boolean(),
  }),
);

function without<T>(list: readonly T[], at: number): T[] {
  if (list.length === 0) return [...list];
  const i = at % list.length;
  return [...list.slice(0, i), ...list.slice(i + 1)];
}

function change<T>(list: readonly T[], at: number, f: (x: T) => T): T[] {
  if (list.length === 0) return [...list];
  const i = at % list.length;
  return list.map((x, j) => (j === i ? f(x) : x));
}

function aged<T extends VerifiedSignature>(e: T, m: { ms: number; drop: boolean }): T {
  if (m.drop || e.time === undefined) {
    const { time: _time, ...rest } = e;
    return rest as T;
  }
  return { ...e, time: new Date(e.time.getTime() - m.ms) };
}

function mutate(input: PolicyInput, m: Mutation): PolicyInput {
  switch (m.kind) {
    case 'drop-signature':
      return { ...input, signatures: without(input.signatures, m.at) };
    case 'drop-attestation':
      return { ...input, attestations: without(input.attestations, m.at) };
    case 'resign-signature':
      return { ...input, signatures: change(input.signatures, m.at, (s) => ({ ...s, signer: m.signer })) };
    case 'resign-attestation':
      return {
        ...input,
        attestations: change(input.attestations, m.at, (a) => ({ ...a, signer: m.signer })),
      };
    case 'corrupt-field':
      return {
        ...input,
        attestations: change(input.attestations, m.at, (a) => {
          const all = paths(a.predicate);
          const path = all[m.path % Math.max(1, all.length)];
          return path === undefined
            ? a
            : { ...a, predicate: replaced(a.predicate, path, m.value) as VerifiedAttestation['predicate'] };
        }),
      };
    case 'age':
      return m.attestation
        ? { ...input, attestations: change(input.attestations, m.at, (a) => aged(a, m)) }
        : { ...input, signatures: change(input.signatures, m.at, (s) => aged(s, m)) };
  }
}

describe('policy decision properties', () => {
  it('(a) removing or corrupting evidence of a denied input never gives allow', async () => {
    const p = await gate();
    let denied = 0;
    await fc.assert(
      fc.property(inputs, fc.array(mutation, { minLength: 1, maxLength: 3 }), (input, ms) => {
        const before = evaluatePolicy(p, input, { tier: 'deep' });
        fc.pre(!before.allow);
        denied++;
        let cur = input;
        for (const m of ms) {
          cur = mutate(cur, m);
          for (const tier of ['fast', 'deep'] as const) {
            if (tier === 'fast' && evaluatePolicy(p, input, { tier: 'fast' }).allow) continue;
            const after = evaluatePolicy(p, cur, { tier });
            assert.equal(after.allow, false, `${tier}: ${JSON.stringify(m)}\n${explainDecision(after)}`);
          }
        }
      }),
      { numRuns: RUNS },
    );
    assert.ok(denied > RUNS / 2, `only ${denied} denied inputs were generated`);
  });

  it('(b) corrupting any piece the policy requires turns an allowed input into a denial', async () => {
    const p = await gate();
    const good = goodInput();
    assert.equal(evaluatePolicy(p, good, { tier: 'deep' }).allow, true);
    // The pieces: each signature and attestation, who signed it, when, and the predicate fields the
    // conditions, baseline and rules read.
    const required: [number, (string | number)[]][] = [
      [0, ['runDetails', 'builder', 'id']],
      [0, ['buildDefinition', 'buildType']],
      [0, ['buildDefinition', 'resolvedDependencies', 0, 'uri']],
      [0, ['buildDefinition', 'resolvedDependencies', 0, 'digest', 'gitCommit']],
      [0, ['buildDefinition', 'resolvedDependencies', 1, 'uri']],
      [1, ['components', 0, 'version']],
      [1, ['components']],
      [1, ['bomFormat']],
      [2, ['scanner', 'result']],
      [2, ['scanner']],
      [2, ['metadata', 'scanStartedOn']],
    ];
    const corruption = fc.oneof(
      fc.constant((i: PolicyInput): PolicyInput => ({ ...i, signatures: [] })),
      fc.nat(2).map(
        (at) =>
          (i: PolicyInput): PolicyInput =>
            mutate(i, { kind: 'drop-attestation', at }),
      ),
      junkSigner.map(
        (signer) =>
          (i: PolicyInput): PolicyInput =>
            mutate(i, { kind: 'resign-signature', at: 0, signer }),
      ),
      fc.tuple(fc.nat(2), junkSigner).map(
        ([at, signer]) =>
          (i: PolicyInput): PolicyInput =>
            mutate(i, { kind: 'resign-attestation', at, signer }),
      ),
      fc.constant(
        (i: PolicyInput): PolicyInput =>
          mutate(i, { kind: 'age', at: 0, attestation: false, ms: 91 * DAY, drop: false }),
      ),
      fc.constant(
        (i: PolicyInput): PolicyInput =>
          mutate(i, { kind: 'age', at: 2, attestation: true, ms: 8 * DAY, drop: false }),
      ),
      // The provenance and the scan have a maxAge: without a verified time they cannot be fresh.
      fc.constantFrom(0, 2).map(
        (at) =>
          (i: PolicyInput): PolicyInput =>
            mutate(i, { kind: 'age', at, attestation: true, ms: 0, drop: true }),
      ),
      fc.tuple(fc.constantFrom(...required), junk).map(
        ([[at, path], value]) =>
          (i: PolicyInput): PolicyInput => ({
            ...i,
            attestations: change(i.attestations, at, (a) => ({
              ...a,
              predicate: replaced(a.predicate, path, value) as VerifiedAttestation['predicate'],
            })),
          }),
      ),
    );
    await fc.assert(
      fc.property(corruption, (corrupt) => {
        const d = evaluatePolicy(p, corrupt(good), { tier: 'deep' });
        assert.equal(d.allow, false, explainDecision(d));
      }),
      { numRuns: RUNS },
    );
  });

  it('(c) byte edits of a policy compile or fail with a code, and never trust a stranger', async () => {
    const text = Buffer.from(stringify(strictGate()));
    // Signed and attested by a key the policy does not hold: no trusted signature anywhere.
    const stranger: PolicyInput = {
      ...goodInput(),
      signatures: [signature(KEYS.other)],
      attestations: goodInput().attestations.map((a) => ({
        ...a,
        signer: { kind: 'key', keyId: KEYS.other.keyId },
      })),
    };
    let compiled = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            kind: fc.constantFrom('replace', 'insert', 'delete'),
            at: fc.nat(),
            byte: fc.integer({ min: 0, max: 255 }),
          }),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        async (edits) => {
          let b = text;
          for (const e of edits) {
            const at = e.at % (b.length + (e.kind === 'insert' ? 1 : 0));
            if (e.kind === 'replace')
              b = Buffer.concat([
                b.subarray(0, at),
                Buffer.from([e.byte === b[at] ? (e.byte + 1) & 0xff : e.byte]),
                b.subarray(at + 1),
              ]);
            else if (e.kind === 'insert')
              b = Buffer.concat([b.subarray(0, at), Buffer.from([e.byte]), b.subarray(at)]);
            else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
          }
          let mutant: CompiledPolicy;
          try {
            mutant = await compilePolicy(b);
          } catch (e) {
            assert.ok(isVouchError(e), `uncoded: ${String(e)}`);
            return;
          }
          compiled++;
          for (const tier of ['fast', 'deep'] as const) {
            const d = evaluatePolicy(mutant, stranger, { tier });
            assert.equal(d.allow, false, explainDecision(d));
          }
        },
      ),
      { numRuns: RUNS },
    );
    assert.ok(compiled > 0, 'no mutant compiled');
  });
});
