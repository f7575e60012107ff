import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  type CheckResult,
  type CompiledPolicy,
  type Decision,
  evaluatePolicy,
  explainDecision,
  type PolicyInput,
  type Tier,
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
  VULNS,
  vulns,
} from './fixtures.js';

type Json = Record<string, unknown>;

function check(d: Decision, id: string): CheckResult {
  const c = d.checks.find((x) => x.id === id);
  assert.ok(c !== undefined, `no check ${id} in ${d.checks.map((x) => x.id).join(', ')}`);
  return c;
}

function outcome(d: Decision, id: string): CheckResult['outcome'] {
  return check(d, id).outcome;
}

function decide(p: CompiledPolicy, input: PolicyInput, tier: Tier = 'deep', timeLimitMs?: number): Decision {
  return evaluatePolicy(p, input, { tier, ...(timeLimitMs === undefined ? {} : { timeLimitMs }) });
}

/** The good input with its attestations replaced by predicate type. */
function withAttestations(...atts: PolicyInput['attestations'][number][]): PolicyInput {
  return { ...goodInput(), attestations: atts };
}

function edit(mutate: (spec: Json) => void): Json {
  const doc = releaseGate();
  mutate(doc['spec'] as Json);
  return doc;
}

let gate: CompiledPolicy;
before(async () => {
  gate = await compile(releaseGate());
});

describe('evaluatePolicy: the whole decision', () => {
  it('allows the good input, runs every check of the policy and records the policy digest', () => {
    const d = decide(gate, goodInput());
    assert.equal(d.allow, true, explainDecision(d));
    assert.deepEqual(d.policy, { name: 'release-gate', digest: gate.digest });
    assert.equal(d.time, NOW.toISOString());
    assert.equal(d.tier, 'deep');
    assert.deepEqual(
      d.checks.map((c) => [c.id, c.outcome]),
      [
        ['signatures.threshold', 'pass'],
        ['signatures.revoked', 'pass'],
        ['signatures.fresh', 'pass'],
        ['attestations.provenance.present', 'pass'],
        ['attestations.provenance.fresh', 'pass'],
        ['attestations.sbom.present', 'pass'],
        ['attestations.vulns.present', 'pass'],
        ['attestations.vulns.fresh', 'pass'],
        ['attestations.provenance.commit', 'pass'],
        ['attestations.sbom.complete', 'pass'],
        ['attestations.sbom.licenses', 'pass'],
        ['baseline.builder', 'pass'],
        ['baseline.buildType', 'pass'],
        ['baseline.sourceRepository', 'pass'],
        ['baseline.branch', 'pass'],
        ['baseline.toolchain.node', 'pass'],
        ['rules.no-high-vulns', 'pass'],
      ],
    );
    assert.deepEqual(check(d, 'signatures.threshold').evidence, {
      signers: ['key release'],
      required: 1,
      untrusted: [],
    });
  });

  it('fast tier: trust, presence and freshness run; conditions, baseline and deep rules are skipped', () => {
    const bad = withAttestations(
      attestation(SLSA, provenance({ builder: 'https://evil.example/builder' })),
      attestation(CDX, sbom()),
      attestation(VULNS, vulns([finding('GHSA-1', 'CRITICAL')])),
    );
    const fast = decide(gate, bad, 'fast');
    assert.equal(fast.allow, true, explainDecision(fast));
    for (const id of ['baseline.builder', 'rules.no-high-vulns', 'attestations.sbom.complete']) {
      assert.equal(outcome(fast, id), 'skipped');
      assert.equal(check(fast, id).tier, 'deep');
    }
    assert.equal(outcome(fast, 'attestations.vulns.present'), 'pass');
    const deep = decide(gate, bad, 'deep');
    assert.equal(deep.allow, false);
    assert.equal(outcome(deep, 'baseline.builder'), 'fail');
    assert.equal(outcome(deep, 'rules.no-high-vulns'), 'fail');
  });

  it('a rule marked tier: fast runs in the fast tier', async () => {
    const p = await compile(
      edit((s) => (s['rules'] as Json[]).push({ id: 'named', expr: 'has(artifact.name)', tier: 'fast' })),
    );
    const input = goodInput();
    const d = decide(p, { ...input, artifact: { digest: input.artifact.digest } }, 'fast');
    assert.equal(check(d, 'rules.named').tier, 'fast');
    assert.equal(outcome(d, 'rules.named'), 'fail');
    assert.equal(d.allow, false);
  });

  it("the engine's checks are merged in and count like the policy's", () => {
    const failed: CheckResult = {
      id: 'input.bundle',
      tier: 'fast',
      mode: 'enforce',
      outcome: 'fail',
      message: 'app.tgz.sigstore.json: the signature does not verify',
      code: 'ERR_SIGNATURE_INVALID',
    };
    const d = evaluatePolicy(gate, goodInput(), { tier: 'deep', checks: [failed] });
    assert.equal(d.allow, false);
    assert.deepEqual(d.checks[0], failed);
    const warned = evaluatePolicy(gate, goodInput(), { tier: 'deep', checks: [{ ...failed, mode: 'warn' }] });
    assert.equal(warned.allow, true);
    // A skipped check of the tier is no pass.
    const skipped = evaluatePolicy(gate, goodInput(), {
      tier: 'fast',
      checks: [{ ...failed, outcome: 'skipped' }],
    });
    assert.equal(skipped.allow, false);
  });

  it('never throws for hostile input: a predicate of the wrong shape is a failing check', () => {
    const d = decide(
      gate,
      withAttestations(
        attestation(SLSA, { nonsense: true }),
        attestation(CDX, sbom()),
        attestation(VULNS, vulns()),
      ),
    );
    assert.equal(d.allow, false);
    assert.equal(outcome(d, 'attestations.provenance.present'), 'fail');
    assert.equal(check(d, 'attestations.provenance.present').code, 'ERR_PREDICATE_MALFORMED');
    assert.equal(outcome(d, 'baseline.builder'), 'fail');
    assert.equal(check(d, 'baseline.builder').code, 'ERR_PREDICATE_MALFORMED');
  });
});

describe('signatures.*', () => {
  it('threshold: no signature, an unknown key, or one key twice is not enough', async () => {
    assert.equal(outcome(decide(gate, { ...goodInput(), signatures: [] }), 'signatures.threshold'), 'fail');
    const unknown = decide(gate, { ...goodInput(), signatures: [signature(KEYS.other)] });
    assert.equal(outcome(unknown, 'signatures.threshold'), 'fail');
    assert.match(
      check(unknown, 'signatures.threshold').message,
      /0 trusted signers of the 1 required; not trusted: key [0-9a-f]{64} is not a key of this policy/,
    );
    const two = await compile(edit((s) => ((s['signatures'] as Json)['threshold'] = 2)));
    assert.equal(
      outcome(
        decide(two, { ...goodInput(), signatures: [signature(), signature()] }),
        'signatures.threshold',
      ),
      'fail',
    );
    const both = decide(two, { ...goodInput(), signatures: [signature(), signature(KEYS.backup)] });
    assert.equal(outcome(both, 'signatures.threshold'), 'pass');
    assert.deepEqual(check(both, 'signatures.threshold').evidence?.['signers'], [
      'key release',
      'key backup',
    ]);
  });

  it('revoked: a signature by a revoked key denies and does not count', async () => {
    const p = await compile(
      edit((s) => {
        const keys = (s['signatures'] as { keys: Json[] }).keys;
        keys[1] = { ...keys[1], revoked: true };
      }),
    );
    const d = decide(p, { ...goodInput(), signatures: [signature(), signature(KEYS.backup)] });
    assert.equal(outcome(d, 'signatures.threshold'), 'pass');
    assert.equal(outcome(d, 'signatures.revoked'), 'fail');
    assert.match(check(d, 'signatures.revoked').message, /revoked key: key backup/);
    assert.equal(d.allow, false);
    // Attestations by a revoked key count too.
    const att = decide(p, {
      ...goodInput(),
      attestations: [...goodInput().attestations, attestation(VULNS, vulns(), KEYS.backup)],
    });
    assert.equal(outcome(att, 'signatures.revoked'), 'fail');
  });

  it('notAfter: a signature after it, or without a verified time, does not count', async () => {
    const p = await compile(
      edit((s) => {
        const keys = (s['signatures'] as { keys: Json[] }).keys;
        keys[0] = { ...keys[0], notAfter: '2026-02-01T00:00:00Z' };
      }),
    );
    const late = decide(p, goodInput());
    assert.equal(outcome(late, 'signatures.threshold'), 'fail');
    assert.match(check(late, 'signatures.threshold').message, /after its notAfter 2026-02-01/);
    const { time: _time, ...untimed } = signature();
    assert.equal(
      outcome(decide(p, { ...goodInput(), signatures: [untimed] }), 'signatures.threshold'),
      'fail',
    );
    const early = decide(p, {
      ...goodInput(),
      signatures: [signature(KEYS.release, new Date('2026-01-31T00:00:00Z'))],
    });
    assert.equal(outcome(early, 'signatures.threshold'), 'pass');
  });

  it('identities: subject and issuer, exact or RE2 over the whole value', async () => {
    const p = await compile(
      edit((s) => {
        s['signatures'] = {
          identities: [
            {
              subjectRegExp: '^https://github\\.com/acme/app/\\.github/workflows/.+$',
              issuer: 'https://token.actions.githubusercontent.com',
            },
          ],
        };
      }),
    );
    const cert = (subject: string, issuer?: string) => ({
      ...goodInput(),
      signatures: [
        {
          signer: {
            kind: 'certificate' as const,
            subject,
            ...(issuer === undefined ? {} : { issuer }),
            extensions: {},
          },
          time: NOW,
          source: 'bundle',
        },
      ],
    });
    const ok = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
    assert.equal(
      outcome(decide(p, cert(ok, 'https://token.actions.githubusercontent.com')), 'signatures.threshold'),
      'pass',
    );
    assert.equal(outcome(decide(p, cert(ok, 'https://evil.example')), 'signatures.threshold'), 'fail');
    assert.equal(outcome(decide(p, cert(ok)), 'signatures.threshold'), 'fail');
    assert.equal(
      outcome(
        decide(p, cert(`x${ok}`, 'https://token.actions.githubusercontent.com')),
        'signatures.threshold',
      ),
      'fail',
    );
  });

  it('fresh: too old, in the future or without a time fails', () => {
    assert.equal(
      outcome(
        decide(gate, {
          ...goodInput(),
          signatures: [signature(KEYS.release, new Date('2025-10-01T00:00:00Z'))],
        }),
        'signatures.fresh',
      ),
      'fail',
    );
    const future = decide(gate, {
      ...goodInput(),
      signatures: [signature(KEYS.release, new Date('2026-03-02T00:00:00Z'))],
    });
    assert.equal(outcome(future, 'signatures.fresh'), 'fail');
    assert.match(check(future, 'signatures.fresh').message, /in the future/);
    const { time: _t, ...untimed } = signature();
    assert.match(
      check(decide(gate, { ...goodInput(), signatures: [untimed] }), 'signatures.fresh').message,
      /no trusted signature/,
    );
    const old = decide(gate, {
      ...goodInput(),
      signatures: [signature(KEYS.release, new Date('2025-10-01T00:00:00Z'))],
    });
    assert.match(check(old, 'signatures.fresh').message, /is 151d \d+h old; the policy allows 90d/);
  });
});

describe('attestations.*', () => {
  it('present: missing, or only from an untrusted signer, fails', () => {
    const missing = decide(
      gate,
      withAttestations(attestation(SLSA, provenance()), attestation(VULNS, vulns())),
    );
    assert.equal(outcome(missing, 'attestations.sbom.present'), 'fail');
    assert.equal(outcome(missing, 'attestations.sbom.complete'), 'fail');
    assert.match(
      check(missing, 'attestations.sbom.complete').message,
      /no trusted attestation of type cyclonedx to check/,
    );
    const untrusted = decide(
      gate,
      withAttestations(
        attestation(SLSA, provenance()),
        attestation(CDX, sbom(), KEYS.other),
        attestation(VULNS, vulns()),
      ),
    );
    assert.equal(outcome(untrusted, 'attestations.sbom.present'), 'fail');
    assert.match(check(untrusted, 'attestations.sbom.present').message, /1 more not trusted/);
  });

  it('present: the short name cyclonedx covers the versioned predicate types', () => {
    const d = decide(
      gate,
      withAttestations(
        attestation(SLSA, provenance()),
        attestation(`${CDX}/v1.6`, sbom()),
        attestation(VULNS, vulns()),
      ),
    );
    assert.equal(outcome(d, 'attestations.sbom.present'), 'pass');
    assert.equal(d.allow, true);
  });

  it('fresh: the newest trusted attestation must be within maxAge', () => {
    const old = new Date('2026-02-20T00:00:00Z');
    const d = decide(
      gate,
      withAttestations(
        attestation(SLSA, provenance()),
        attestation(CDX, sbom()),
        attestation(VULNS, vulns(), KEYS.release, old),
      ),
    );
    assert.equal(outcome(d, 'attestations.vulns.fresh'), 'fail');
    assert.match(check(d, 'attestations.vulns.fresh').message, /is 9d 12h old; the policy allows 7d/);
    const newer = decide(gate, {
      ...goodInput(),
      attestations: [...goodInput().attestations, attestation(VULNS, vulns(), KEYS.release, old)],
    });
    assert.equal(outcome(newer, 'attestations.vulns.fresh'), 'pass');
  });

  it('conditions must hold for every trusted attestation of the type: one bad one denies', () => {
    const bad = sbom([component('left-pad', '', 'MIT')]);
    const d = decide(gate, {
      ...goodInput(),
      attestations: [...goodInput().attestations, attestation(CDX, bad, KEYS.backup)],
    });
    assert.equal(outcome(d, 'attestations.sbom.complete'), 'fail');
    assert.equal(d.allow, false);
    // …but one from an untrusted key is ignored.
    const ignored = decide(gate, {
      ...goodInput(),
      attestations: [...goodInput().attestations, attestation(CDX, bad, KEYS.other)],
    });
    assert.equal(outcome(ignored, 'attestations.sbom.complete'), 'pass');
  });

  it('the SBOM view names every licence id: none after WITH, none past 64, is lost to an allow list', () => {
    const expressed = (name: string, expression: string): Json => ({
      ...component(name, '1.0.0', 'MIT'),
      licenses: [{ expression }],
    });
    const withSbom = (...components: Json[]) =>
      withAttestations(
        attestation(SLSA, provenance()),
        attestation(CDX, sbom(components)),
        attestation(VULNS, vulns()),
      );
    // The release gate's `licenses` condition allows MIT, ISC and Apache-2.0 (warn mode).
    const allowed = decide(gate, withSbom(expressed('llvm', 'MIT OR (Apache-2.0 WITH LLVM-exception)')));
    assert.equal(outcome(allowed, 'attestations.sbom.licenses'), 'pass');
    // GPL-3.0-only is no licence exception: it is an id of the expression.
    const hidden = decide(gate, withSbom(expressed('dep-b', 'MIT WITH GPL-3.0-only')));
    assert.equal(outcome(hidden, 'attestations.sbom.licenses'), 'fail');
    const many = Array.from({ length: 64 }, (_, i) => `LicenseRef-x${i}`).join(' AND ');
    const past = decide(gate, withSbom(expressed('dep-a', `${many} AND GPL-3.0-only`)));
    const c = check(past, 'attestations.sbom.licenses');
    assert.equal(c.outcome, 'fail');
    assert.equal(c.code, 'ERR_POLICY_COST');
    assert.match(c.message, /dep-a names 65 licence ids; policies read at most 64/);
    assert.equal(outcome(past, 'attestations.sbom.complete'), 'fail');
  });

  it('a CEL runtime error is a failing check with ERR_POLICY_CEL, never a pass', async () => {
    const p = await compile(
      edit((s) => {
        const atts = s['attestations'] as { conditions?: Json[] }[];
        atts[0]?.conditions?.push({ id: 'runtime', expr: 'predicate.runDetails.nothere == "x"' });
        (s['rules'] as Json[]).push({ id: 'not-bool', expr: 'dyn(artifact.digest)' });
        (s['rules'] as Json[]).push({
          id: 'bad-regexp',
          expr: 'artifact.name.matches(artifact.digest + "(")',
        });
      }),
    );
    const d = decide(p, goodInput());
    assert.equal(outcome(d, 'attestations.provenance.runtime'), 'fail');
    assert.equal(check(d, 'attestations.provenance.runtime').code, 'ERR_POLICY_CEL');
    assert.match(check(d, 'attestations.provenance.runtime').message, /no such key|not found/);
    assert.equal(outcome(d, 'rules.not-bool'), 'fail');
    assert.match(check(d, 'rules.not-bool').message, /not a bool/);
    // A pattern built from the input is compiled when evaluated; RE2 refusing it is an error, not a pass.
    assert.equal(outcome(d, 'rules.bad-regexp'), 'fail');
    assert.equal(check(d, 'rules.bad-regexp').code, 'ERR_POLICY_CEL');
    assert.equal(d.allow, false);
  });
});

describe('baseline.*: deviations are denied with the deviation named', () => {
  const cases: [string, Json, string, RegExp][] = [
    [
      'builder',
      { builder: 'https://evil.example/builder' },
      'baseline.builder',
      /builder "https:\/\/evil\.example\/builder" is not the baseline "https:\/\/github\.com\/actions\/runner\/github-hosted"/,
    ],
    [
      'source repository',
      { repo: 'https://github.com/evil/app' },
      'baseline.sourceRepository',
      /source repository "https:\/\/github\.com\/evil\/app" is not the baseline/,
    ],
    [
      'branch',
      { ref: 'refs/heads/feature/x' },
      'baseline.branch',
      /source ref "refs\/heads\/feature\/x" does not match the baseline branch pattern/,
    ],
    [
      'toolchain',
      { node: '18.19.0' },
      'baseline.toolchain.node',
      /node 18\.19\.0 is outside the baseline range >=20/,
    ],
    [
      'toolchain version',
      { node: 'latest' },
      'baseline.toolchain.node',
      /node version "latest" is not a semver version/,
    ],
  ];
  for (const [name, o, id, message] of cases) {
    it(`${name}`, () => {
      const d = decide(
        gate,
        withAttestations(
          attestation(SLSA, provenance(o)),
          attestation(CDX, sbom()),
          attestation(VULNS, vulns()),
        ),
      );
      assert.equal(outcome(d, id), 'fail', explainDecision(d));
      assert.match(check(d, id).message, message);
      assert.equal(d.allow, false);
      assert.equal(d.checks.filter((c) => c.outcome === 'fail').length, 1, explainDecision(d));
    });
  }

  it('source repositories compare normalised: git+ prefix, .git suffix, host case', () => {
    const d = decide(
      gate,
      withAttestations(
        attestation(SLSA, provenance({ repo: 'https://GitHub.com/acme/app.git' })),
        attestation(CDX, sbom()),
        attestation(VULNS, vulns()),
      ),
    );
    assert.equal(outcome(d, 'baseline.sourceRepository'), 'pass', explainDecision(d));
  });

  it('without trusted provenance every baseline check fails', () => {
    const d = decide(
      gate,
      withAttestations(
        attestation(SLSA, provenance(), KEYS.other),
        attestation(CDX, sbom()),
        attestation(VULNS, vulns()),
      ),
    );
    for (const id of ['baseline.builder', 'baseline.branch', 'baseline.toolchain.node']) {
      assert.equal(outcome(d, id), 'fail');
      assert.match(check(d, id).message, /no trusted SLSA provenance/);
    }
  });

  it('a provenance without a toolchain entry fails the toolchain baseline', () => {
    const p = provenance() as { buildDefinition: { resolvedDependencies: unknown[] } };
    p.buildDefinition.resolvedDependencies.pop();
    const d = decide(
      gate,
      withAttestations(attestation(SLSA, p), attestation(CDX, sbom()), attestation(VULNS, vulns())),
    );
    assert.match(check(d, 'baseline.toolchain.node').message, /records no node version/);
  });

  it('reads the GitHub provenance of the npm vectors (builder, source from resolvedDependencies)', async () => {
    const p = await compile(
      edit((s) => {
        s['baseline'] = {
          builder: BUILDER,
          sourceRepository: 'https://github.com/ramonpetgrave64/gundam-visor',
          branch: '^refs/tags/v',
        };
      }),
    );
    const github = {
      buildDefinition: {
        buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
        externalParameters: {
          workflow: {
            ref: 'refs/tags/v1.0.1',
            repository: 'https://github.com/ramonpetgrave64/gundam-visor',
            path: '.github/workflows/npm-publish.yml',
          },
        },
        internalParameters: { github: { event_name: 'release' } },
        resolvedDependencies: [
          {
            uri: 'git+https://github.com/ramonpetgrave64/gundam-visor@refs/tags/v1.0.1',
            digest: { gitCommit: '599500821344b070902a7a5666064bfdaba715df' },
          },
        ],
      },
      runDetails: {
        builder: { id: BUILDER },
        metadata: {
          invocationId: 'https://github.com/ramonpetgrave64/gundam-visor/actions/runs/9358004112/attempts/1',
        },
      },
    };
    const d = decide(
      p,
      withAttestations(attestation(SLSA, github), attestation(CDX, sbom()), attestation(VULNS, vulns())),
    );
    for (const id of [
      'baseline.builder',
      'baseline.sourceRepository',
      'baseline.branch',
      'attestations.provenance.commit',
    ]) {
      assert.equal(outcome(d, id), 'pass', explainDecision(d));
    }
  });
});

describe('modes and exceptions', () => {
  const critical = () =>
    withAttestations(
      attestation(SLSA, provenance()),
      attestation(CDX, sbom()),
      attestation(VULNS, vulns([finding('GHSA-1', 'CRITICAL')])),
    );

  it('enforce denies; warn and dry-run report the failure and allow', async () => {
    assert.equal(decide(gate, critical()).allow, false);
    for (const mode of ['warn', 'dry-run']) {
      const p = await compile(
        edit((s) => ((s['rules'] as Json[])[0] = { ...(s['rules'] as Json[])[0], mode })),
      );
      const d = decide(p, critical());
      assert.equal(d.allow, true, mode);
      assert.equal(outcome(d, 'rules.no-high-vulns'), 'fail');
      assert.equal(check(d, 'rules.no-high-vulns').mode, mode);
    }
  });

  it('a VEX-suppressed finding passes the rule', () => {
    const d = decide(
      gate,
      withAttestations(
        attestation(SLSA, provenance()),
        attestation(CDX, sbom()),
        attestation(VULNS, vulns([finding('GHSA-1', 'CRITICAL', true)])),
      ),
    );
    assert.equal(outcome(d, 'rules.no-high-vulns'), 'pass');
  });

  it('an active exception waives the failure; an expired one enforces it again and says so', async () => {
    const exception = {
      rule: 'rules.no-high-vulns',
      owner: 'sec@acme.example',
      expires: '2026-03-01',
      reason: 'fix in 2.1.1',
    };
    const p = await compile(edit((s) => (s['exceptions'] = [exception])));
    const active = decide(p, critical());
    assert.equal(active.allow, true, explainDecision(active));
    const c = check(active, 'rules.no-high-vulns');
    assert.equal(c.outcome, 'fail');
    assert.deepEqual(c.exception, {
      owner: 'sec@acme.example',
      expires: '2026-03-01',
      reason: 'fix in 2.1.1',
      active: true,
    });
    assert.match(c.message, /waived by the exception of sec@acme\.example until 2026-03-01/);
    // A date runs to the end of that day (UTC): expired one second later.
    const expired = decide(p, { ...critical(), now: new Date('2026-03-02T00:00:01Z') });
    assert.equal(expired.allow, false);
    assert.equal(check(expired, 'rules.no-high-vulns').exception?.active, false);
    assert.match(
      check(expired, 'rules.no-high-vulns').message,
      /expired 2026-03-01, so this is enforced again/,
    );
    assert.match(
      explainDecision(expired),
      /^DENY dist\/app\.tgz: 1 of \d+ check\(s\) of the deep tier failed/,
    );
  });

  it('an exception does not touch a check that passes, nor other checks', async () => {
    const p = await compile(
      edit((s) => (s['exceptions'] = [{ rule: 'baseline.builder', owner: 'a@b.c', expires: '2027-01-01' }])),
    );
    const d = decide(p, critical());
    assert.equal(check(d, 'baseline.builder').exception, undefined);
    assert.equal(d.allow, false);
  });
});

describe('bounded evaluation', () => {
  it('a hostile expression over a big input is cut off within the time limit and denies', async () => {
    const p = await compile(
      edit((s) => {
        (s['rules'] as Json[]).unshift({ id: 'first', expr: 'size(attestations) > 0' });
        (s['attestations'] as { conditions: Json[] }[])[1]?.conditions.push({
          id: 'slow',
          expr: 'predicate.components.all(c, predicate.padding.all(x, x.lowerAscii() != c.name))',
        });
      }),
    ).catch(() => undefined);
    // The estimate refuses the nested loop; the wall clock must cut off what the estimate lets through:
    // one loop over a list far longer than the 10,000 items the estimate assumes for a predicate.
    assert.equal(p, undefined);
    const q = await compile(
      edit((s) =>
        (s['attestations'] as { conditions: Json[] }[])[1]?.conditions.push({
          id: 'slow',
          expr: 'predicate.padding.all(x, x.lowerAscii().upperAscii().lowerAscii() != "no")',
        }),
      ),
    );
    const padding = Array.from({ length: 600_000 }, (_, i) => `ITEM-${i}`);
    const input = withAttestations(
      attestation(SLSA, provenance()),
      attestation(CDX, { ...sbom(), padding }),
      attestation(VULNS, vulns()),
    );
    const started = performance.now();
    const d = decide(q, input, 'deep', 100);
    const took = performance.now() - started;
    assert.ok(took < 2000, `took ${took} ms`);
    assert.equal(d.allow, false);
    const slow = check(d, 'attestations.sbom.slow');
    assert.equal(slow.outcome, 'fail');
    assert.equal(slow.code, 'ERR_POLICY_TIMEOUT');
    // Checks before the cut-off keep their results; those after it fail the same way.
    assert.equal(outcome(d, 'attestations.sbom.complete'), 'pass');
    assert.equal(check(d, 'rules.no-high-vulns').code, 'ERR_POLICY_TIMEOUT');
    // The next decision runs normally.
    assert.equal(decide(gate, goodInput()).allow, true);
  });

  it('a hostile policy over a tiny input is cut off too: dyn() hides sizes from any estimate', async () => {
    const n = (k: number) => `[${Array.from({ length: k }, (_, i) => i).join(',')}]`;
    const square = `dyn(${n(100)}.map(a, ${n(100)}))`;
    const expr = `[[${square}, ${square}]].all(p, dyn(${n(80)}).all(i, ${n(80)}.all(j, p[0] == p[1])))`;
    const p = await compile(edit((s) => (s['rules'] as Json[]).push({ id: 'hostile', expr, tier: 'fast' })));
    const started = performance.now();
    const d = decide(p, goodInput(), 'fast', 50);
    const took = performance.now() - started;
    assert.ok(took < 1000, `took ${took} ms`);
    assert.equal(check(d, 'rules.hostile').code, 'ERR_POLICY_TIMEOUT');
    assert.equal(d.allow, false);
  });

  it('replace() is linear: a signed 64 KiB name decides in milliseconds', async () => {
    const p = await compile(
      edit((s) =>
        (s['attestations'] as { conditions: Json[] }[])[1]?.conditions.push({
          id: 'name',
          expr: 'predicate.name.replace("-", "_") == predicate.expected',
        }),
      ),
    );
    const name = '-'.repeat(64 * 1024);
    const input = withAttestations(
      attestation(SLSA, provenance()),
      attestation(CDX, { ...sbom(), name, expected: '_'.repeat(name.length) }),
      attestation(VULNS, vulns()),
    );
    const started = performance.now();
    const d = decide(p, input);
    const took = performance.now() - started;
    assert.equal(outcome(d, 'attestations.sbom.name'), 'pass');
    assert.ok(took < 1000, `took ${took} ms`);
  });

  it('strings and lists built at run time are capped: a failing check, not an exhausted heap', async () => {
    let tenfold = `"${'a'.repeat(3000)}"`;
    for (let k = 0; k < 5; k++) tenfold = `[dyn(${tenfold})].map(s, [s,s,s,s,s,s,s,s,s,s].join(""))[0]`;
    const doubled = (seed: string, times: number, v: string) =>
      `[dyn(${seed})]${`.map(${v}, ${v} + ${v})`.repeat(times)}[0]`;
    const hostile: Record<string, string> = {
      join: `size([${Array.from({ length: 16 }, (_, i) => i)}].map(z, ${tenfold}).filter(v, size(v) > 0)) > 0`,
      concat: `size(${doubled('"ab"', 26, 's')}) > 0`,
      lists: `size(${doubled('[1, 2]', 21, 'l')}) > 0`,
      replace: `size(dyn("${'-'.repeat(1800)}").replace("-", "${'x'.repeat(1800)}").replace("x", "${'y'.repeat(16)}")) > 0`,
      format: `size("%s".format([${doubled('[1, 2]', 19, 'l')}].map(l, [l, l, l, l, l, l, l, l]))) > 0`,
    };
    const p = await compile(
      edit((s) => {
        for (const [id, expr] of Object.entries(hostile)) (s['rules'] as Json[]).push({ id, expr });
        // Each run has its own budget: two expressions building 8 Mi characters each both pass.
        (s['rules'] as Json[]).push({ id: 'big-1', expr: `size(${doubled('"ab"', 22, 's')}) > 0` });
        (s['rules'] as Json[]).push({ id: 'big-2', expr: `size(${doubled('"ab"', 22, 's')}) > 0` });
      }),
    );
    const started = performance.now();
    const d = decide(p, goodInput(), 'deep', 10_000);
    assert.ok(performance.now() - started < 5000, `took ${performance.now() - started} ms`);
    for (const id of Object.keys(hostile)) {
      const c = check(d, `rules.${id}`);
      assert.equal(c.outcome, 'fail', id);
      assert.equal(c.code, 'ERR_POLICY_CEL', `${id}: ${c.message}`);
      assert.match(c.message, /policy limit/, id);
    }
    assert.equal(outcome(d, 'rules.big-1'), 'pass');
    assert.equal(outcome(d, 'rules.big-2'), 'pass');
    assert.equal(d.allow, false);
  });

  it('more evidence than a decision reads is a failing check', () => {
    const many = Array.from({ length: 300 }, () => signature());
    const d = decide(gate, { ...goodInput(), signatures: many });
    assert.equal(outcome(d, 'input.evidence'), 'fail');
    assert.equal(d.allow, false);
  });
});

describe('hostile shapes never escape evaluatePolicy', () => {
  it('a predicate nested 100,000 deep decides without a stack overflow', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const p = await compile(
      edit((s) =>
        (s['rules'] as Json[]).push({
          id: 'reads-it',
          expr: 'attestations.all(a, a.predicate != null && size(a.predicate) > 0)',
        }),
      ),
    );
    const ignored = decide(
      p,
      withAttestations(
        attestation(SLSA, provenance()),
        attestation(CDX, { ...sbom(), deep }),
        attestation(VULNS, vulns()),
      ),
    );
    assert.equal(typeof ignored.allow, 'boolean');
    const asComponents = decide(
      p,
      withAttestations(
        attestation(SLSA, provenance()),
        attestation(CDX, { ...sbom(), components: deep }),
        attestation(VULNS, vulns()),
      ),
    );
    assert.equal(asComponents.allow, false);
    assert.equal(outcome(asComponents, 'attestations.sbom.present'), 'fail');
  });

  it('an invalid date for now is programmer misuse', () => {
    assert.throws(() => decide(gate, { ...goodInput(), now: new Date(Number.NaN) }), TypeError);
  });
});
