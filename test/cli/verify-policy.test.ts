import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { provenance, sbom, vulns } from '../policy/fixtures.js';
import { vouch } from './harness.js';

// `vouch verify <artifact> --policy`: the real commands sign and attest, a policy file with a key path
// decides; allow exits 0, deny exits 1 with the decision in --json, and --sarif writes a code-scanning log.

const ENV = { VOUCH_PASSWORD: 'verify-policy-pass' };

const POLICY = `apiVersion: vouch.dev/v1
kind: Policy
metadata:
  name: app-gate
spec:
  match:
    - name: "**/app.tgz"
  signatures:
    keys:
      - name: release
        path: k.pub
  attestations:
    - id: provenance
      predicateType: slsa
      conditions:
        - id: commit
          expr: provenance.source.commit.matches("^[0-9a-f]{40}$")
    - id: sbom
      predicateType: cyclonedx
  baseline:
    builder: https://github.com/actions/runner/github-hosted
    sourceRepository: https://github.com/acme/app
  rules:
    - id: no-high-vulns
      expr: vulns == null || vulns.findings.all(f, f.suppressed || f.severity in ["NONE", "LOW", "MEDIUM"])
`;

describe('cli: verify --policy', () => {
  const dir = tempDir('vouch-verify-policy-');
  const p = (n: string) => join(dir, n);
  const run = async (args: string[]) => {
    const r = await vouch(args, ENV);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  };

  before(async () => {
    mkdirSync(p('dist'));
    writeFileSync(p('dist/app.tgz'), 'the release artifact\n');
    writeFileSync(p('dist/other.tgz'), 'not covered by the policy\n');
    writeFileSync(p('prov.json'), JSON.stringify(provenance()));
    writeFileSync(
      p('evil-prov.json'),
      JSON.stringify(provenance({ builder: 'https://evil.example/runner' })),
    );
    writeFileSync(p('sbom.json'), JSON.stringify(sbom()));
    writeFileSync(p('vulns.json'), JSON.stringify(vulns()));
    writeFileSync(p('gate.yaml'), POLICY);
    await run(['keygen', '--alg', 'ecdsa-p256', '--out', p('k')]);
    await run(['keygen', '--alg', 'ecdsa-p256', '--out', p('stranger')]);
    await run(['sign', p('dist/app.tgz'), '--key', p('k.key'), '--bundle', p('sig.json')]);
    await run(['sign', p('dist/app.tgz'), '--key', p('stranger.key'), '--bundle', p('stranger-sig.json')]);
    for (const [type, predicate, out] of [
      ['slsa', 'prov.json', 'prov.att.json'],
      ['slsa', 'evil-prov.json', 'evil.att.json'],
      ['cyclonedx', 'sbom.json', 'sbom.att.json'],
    ] as const) {
      await run([
        'attest',
        p('dist/app.tgz'),
        '--key',
        p('k.key'),
        '--type',
        type,
        '--predicate',
        p(predicate),
        '--bundle',
        p(out),
      ]);
    }
  });

  const verify = (bundles: string[], ...extra: string[]) =>
    vouch([
      'verify',
      p('dist/app.tgz'),
      '--policy',
      p('gate.yaml'),
      ...bundles.flatMap((b) => ['--bundle', p(b)]),
      ...extra,
    ]);

  it('allows: exit 0, the verdict and the policy digest', async () => {
    const r = await verify(['sig.json', 'prov.att.json', 'sbom.att.json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ALLOW .*dist\/app\.tgz: \d+ check\(s\) of the deep tier/);
    assert.match(r.stdout, /policy app-gate sha256:[0-9a-f]{64}/);
  });

  it('--json prints the decision; --explain lists every check', async () => {
    const j = await verify(['sig.json', 'prov.att.json', 'sbom.att.json'], '--json');
    assert.equal(j.code, 0);
    const d = JSON.parse(j.stdout).decision;
    assert.equal(d.allow, true);
    assert.deepEqual(
      [
        'signatures.threshold',
        'attestations.provenance.present',
        'baseline.builder',
        'rules.no-high-vulns',
      ].map((id) => d.checks.find((c: { id: string }) => c.id === id)?.outcome),
      ['pass', 'pass', 'pass', 'pass'],
    );
    const e = await verify(['sig.json', 'prov.att.json', 'sbom.att.json'], '--explain');
    assert.match(e.stdout, /\n {2}pass {4}baseline\.sourceRepository: /);
  });

  it('denies off-baseline provenance: exit 1, ERR_POLICY_DENIED naming the check, decision in --json', async () => {
    const r = await verify(['sig.json', 'evil.att.json', 'sbom.att.json'], '--json');
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.error.code, 'ERR_POLICY_DENIED');
    assert.equal(out.error.check, 'baseline.builder');
    assert.equal(out.decision.allow, false);
    const h = await verify(['sig.json', 'evil.att.json', 'sbom.att.json']);
    assert.equal(h.code, 1);
    assert.match(h.stdout, /^DENY /);
    assert.match(h.stdout, /FAIL {4}baseline\.builder: .*evil\.example/);
    assert.match(h.stderr, /ERR_POLICY_DENIED/);
  });

  it('denies a missing attestation and a signature by a key the policy does not trust', async () => {
    const missing = await verify(['sig.json', 'prov.att.json'], '--json');
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stdout).error.check, 'attestations.sbom.present');
    const stranger = await verify(['stranger-sig.json', 'prov.att.json', 'sbom.att.json'], '--json');
    assert.equal(stranger.code, 1);
    assert.equal(JSON.parse(stranger.stdout).error.check, 'signatures.threshold');
  });

  it('--sarif writes a SARIF 2.1.0 log with one result per failed check', async () => {
    const sarif = p('vouch.sarif');
    const r = await verify(['sig.json', 'evil.att.json', 'sbom.att.json'], '--sarif', sarif);
    assert.equal(r.code, 1);
    const log = JSON.parse(readFileSync(sarif, 'utf8'));
    assert.equal(log.version, '2.1.0');
    assert.match(log.$schema, /sarif-schema-2\.1\.0\.json$/);
    const run0 = log.runs[0];
    assert.equal(run0.tool.driver.name, 'vouch');
    const builder = run0.results.find((x: { ruleId: string }) => x.ruleId === 'baseline.builder');
    assert.equal(builder.level, 'error');
    assert.equal(builder.kind, 'fail');
    assert.equal(run0.tool.driver.rules[builder.ruleIndex].id, 'baseline.builder');
    assert.match(builder.locations[0].physicalLocation.artifactLocation.uri, /dist\/app\.tgz$/);
    assert.equal(run0.properties.decisions[0].allow, false);
    assert.match(run0.properties.decisions[0].policyDigest, /^sha256:/);
  });

  it('fast tier: deep checks are skipped, so the bad provenance passes the early gate', async () => {
    const r = await verify(['sig.json', 'evil.att.json', 'sbom.att.json'], '--tier', 'fast', '--json');
    assert.equal(r.code, 0, r.stdout);
    const d = JSON.parse(r.stdout).decision;
    assert.equal(d.tier, 'fast');
    assert.equal(d.checks.find((c: { id: string }) => c.id === 'baseline.builder').outcome, 'skipped');
  });

  it('refuses what does not fit: no matching policy (exit 1), --key beside --policy (exit 2), policy flags alone (exit 2)', async () => {
    const other = await vouch([
      'verify',
      p('dist/other.tgz'),
      '--policy',
      p('gate.yaml'),
      '--bundle',
      p('sig.json'),
      '--json',
    ]);
    assert.equal(other.code, 1);
    assert.equal(JSON.parse(other.stdout).error.code, 'ERR_POLICY_NO_MATCH');
    const key = await verify(['sig.json'], '--key', p('k.pub'));
    assert.equal(key.code, 2);
    const lone = await vouch([
      'verify',
      p('dist/app.tgz'),
      '--key',
      p('k.pub'),
      '--bundle',
      p('sig.json'),
      '--tier',
      'fast',
    ]);
    assert.equal(lone.code, 2);
    assert.match(lone.stderr, /--tier needs --policy/);
    const bad = await verify(['sig.json'], '--tier', 'medium');
    assert.equal(bad.code, 2);
  });

  it('a tampered artifact denies: the signature no longer binds it', async () => {
    writeFileSync(p('dist/app.tgz'), 'the release artifact, changed\n');
    try {
      const r = await verify(['sig.json', 'prov.att.json', 'sbom.att.json'], '--json');
      assert.equal(r.code, 1);
      const d = JSON.parse(r.stdout).decision;
      assert.ok(
        d.checks.some(
          (c: { code?: string }) =>
            c.code === 'ERR_DIGEST_MISMATCH' || c.code === 'ERR_INTOTO_SUBJECT_MISMATCH',
        ),
      );
    } finally {
      writeFileSync(p('dist/app.tgz'), 'the release artifact\n');
    }
  });
});
