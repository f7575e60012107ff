import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { vouch } from './harness.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'policies');
const GATE = join(EXAMPLES, 'release-gate.yaml');
const fixture = (name: string) => join(EXAMPLES, 'fixtures', `${name}.json`);

describe('vouch policy', () => {
  it('check: a valid policy is ok (exit 0), --json lists no diagnostics', async () => {
    const r = await vouch(['policy', 'check', GATE]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${GATE}: ok\n`);
    const j = await vouch(['policy', 'check', GATE, '--json']);
    assert.deepEqual(JSON.parse(j.stdout), { ok: true, files: [{ file: GATE, diagnostics: [] }] });
  });

  it('check: prints every problem as file:line:col: message [CODE] and exits 3', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: vouch.dev/v1\nkind: Policy\nmetadata: { name: bad }\nspec:\n  match: [{ name: "*" }]\n  signatures:\n    identities: [{ subject: a@b.c, issuer: https://x.example }]\n  rules:\n    - id: a\n      expr: sbomm != null\n    - id: b\n      expr: provenance.builder == "x"\n',
    );
    const r = await vouch(['policy', 'check', file, GATE]);
    assert.equal(r.code, 3);
    assert.equal(
      r.stdout,
      `${file}:10:13: spec.rules[0].expr: undeclared reference to 'sbomm' (variables: artifact, signatures, attestations, now, provenance, sbom, vulns, licenses) [ERR_POLICY_CEL]\n` +
        `${file}:12:23: spec.rules[1].expr: provenance has no field 'builder' (fields: builderId, buildType, invocationId, source, startedOn, finishedOn, toolchain, predicate) [ERR_POLICY_CEL]\n` +
        `${GATE}: ok\n`,
    );
    assert.match(r.stderr, /^vouch: error: 2 problem\(s\) in 1 of 2 policy file\(s\) \[ERR_POLICY_CEL\]\n$/);
  });

  it('check: an unreadable file exits 3 with its code', async () => {
    const r = await vouch(['policy', 'check', join(tempDir(), 'missing.yaml')]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /\[ERR_INPUT_UNREADABLE\]/);
  });

  it('test: the examples pass (exit 0)', async () => {
    const r = await vouch(['policy', 'test', EXAMPLES]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, '14 passed, 0 failed (1 test file(s))\n');
    const v = await vouch(['policy', 'test', join(EXAMPLES, 'release-gate.test.yaml'), '--verbose']);
    assert.match(
      v.stdout,
      /^PASS .*release-gate\.test\.yaml: a signed release with provenance, SBOM and a clean scan is allowed$/m,
    );
    const j = await vouch(['policy', 'test', EXAMPLES, '--json']);
    const report = JSON.parse(j.stdout);
    assert.equal(report.passed, 14);
    assert.equal(report.suites[0].cases[0].allow, true);
  });

  it('test: a failing case exits 1 with ERR_POLICY_TEST_FAILED and shows why', async () => {
    const dir = tempDir();
    const test = join(dir, 'gate.test.yaml');
    writeFileSync(
      test,
      `apiVersion: vouch.dev/v1\nkind: PolicyTest\nmetadata: { name: t }\npolicy: ${GATE}\ncases:\n  - name: expects the wrong thing\n    inputFile: ${fixture('critical-vuln')}\n    expect: allow\n`,
    );
    const r = await vouch(['policy', 'test', test]);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^FAIL .*gate\.test\.yaml: expects the wrong thing\n {4}expected allow, got deny \(rules\.no-high-vulns: a vulnerability rated above MEDIUM, or not rated, is not covered by a VEX statement/m,
    );
    assert.match(r.stdout, /0 passed, 1 failed/);
    assert.match(r.stderr, /\[ERR_POLICY_TEST_FAILED\]/);
  });

  it('eval: allow exits 0; --explain lists every check; --json prints the decision', async () => {
    const r = await vouch(['policy', 'eval', GATE, '--input', fixture('signed-release')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^ALLOW dist\/app\.tgz: 16 check\(s\) of the deep tier passed or do not enforce\n {2}policy release-gate sha256:[0-9a-f]{64}, evaluated at 2026-03-01T12:00:00\.000Z\n$/,
    );
    const e = await vouch(['policy', 'eval', GATE, '--input', fixture('signed-release'), '--explain']);
    assert.equal(e.stdout.split('\n').filter((l) => /^ {2}pass {4}/.test(l)).length, 16);
    const j = await vouch([
      'policy',
      'eval',
      GATE,
      '--input',
      fixture('signed-release'),
      '--json',
      '--tier',
      'fast',
    ]);
    const { ok, decision } = JSON.parse(j.stdout);
    assert.equal(ok, true);
    assert.equal(decision.allow, true);
    assert.equal(decision.tier, 'fast');
    assert.match(decision.policy.digest, /^sha256:[0-9a-f]{64}$/);
  });

  it('eval: deny exits 1 with ERR_POLICY_DENIED naming the failed check', async () => {
    const r = await vouch(['policy', 'eval', GATE, '--input', fixture('feature-branch'), '--explain']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^DENY dist\/app\.tgz: 2 of 16 check\(s\) of the deep tier failed\n/);
    assert.match(
      r.stdout,
      /\n {2}FAIL {4}baseline\.branch: source ref "refs\/heads\/feature\/x" does not match/,
    );
    assert.match(
      r.stderr,
      /^vouch: verification failed: attestations\.provenance\.builder: policy release-gate denies dist\/app\.tgz: the provenance was not made by acme\/app's release workflow .* \[ERR_POLICY_DENIED\]\n$/,
    );
  });

  it('eval: usage errors exit 2, a malformed input exits 3', async () => {
    assert.equal((await vouch(['policy', 'eval', GATE])).code, 2);
    assert.equal(
      (await vouch(['policy', 'eval', GATE, '--input', fixture('signed-release'), '--tier', 'slow'])).code,
      2,
    );
    assert.equal(
      (await vouch(['policy', 'eval', GATE, '--input', fixture('signed-release'), '--time-limit', '0'])).code,
      2,
    );
    assert.equal((await vouch(['policy', 'frobnicate'])).code, 2);
    const dir = tempDir();
    writeFileSync(join(dir, 'in.json'), '{"artifact": {}}');
    const r = await vouch(['policy', 'eval', GATE, '--input', join(dir, 'in.json')]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /artifact\.digest: is required \[ERR_INPUT_MALFORMED\]/);
  });
});
