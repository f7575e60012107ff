import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isVouchError } from '../../src/core/index.js';
import { loadPolicyTest, loadPolicyTests, runPolicyTests } from '../../src/policy/index.js';
import { expectCode, tempDir } from '../helpers.js';
import { goodInput, releaseGate } from './fixtures.js';

/** A directory with the release gate (gate.json), the good input (good.json) and a test file. */
function suite(test: string): { dir: string; file: string } {
  const dir = tempDir();
  writeFileSync(join(dir, 'gate.json'), JSON.stringify(releaseGate()));
  const input = goodInput();
  writeFileSync(join(dir, 'good.json'), JSON.stringify(input));
  const file = join(dir, 'gate.test.yaml');
  writeFileSync(file, test);
  return { dir, file };
}

const HEAD = 'apiVersion: vouch.dev/v1\nkind: PolicyTest\nmetadata:\n  name: t\npolicy: gate.json\n';

describe('policy tests (kind: PolicyTest)', () => {
  it('runs cases from files and inline inputs; a wrong expectation says why', async () => {
    const { dir } = suite(`${HEAD}cases:
  - name: good
    inputFile: good.json
    expect: allow
    checks: { signatures.threshold: pass, rules.no-high-vulns: pass }
  - name: inline unsigned
    input:
      artifact: { digest: "sha256:${'9f'.repeat(32)}", name: dist/app.tgz }
      now: "2026-03-01T12:00:00Z"
    expect: allow
  - name: wrong check
    inputFile: good.json
    tier: fast
    expect: allow
    checks: { rules.no-high-vulns: pass, nothing.here: fail }
`);
    const suites = await loadPolicyTests([dir]);
    assert.equal(suites.length, 1);
    assert.equal(suites[0]?.policy.name, 'release-gate');
    const report = runPolicyTests(suites);
    assert.equal(report.passed, 1);
    assert.equal(report.failed, 2);
    const [good, unsigned, wrong] = report.suites[0]?.cases ?? [];
    assert.deepEqual([good?.ok, unsigned?.ok, wrong?.ok], [true, false, false]);
    assert.match(
      unsigned?.failures[0] ?? '',
      /^expected allow, got deny \(signatures\.threshold: 0 trusted signers of the 1 required/,
    );
    assert.deepEqual(wrong?.failures, [
      'check rules.no-high-vulns: expected pass, got skipped (deep check, not run in the fast tier)',
      'check nothing.here: expected fail, but the decision has no such check',
    ]);
  });

  const malformed: [string, string, RegExp][] = [
    [
      'an unknown field',
      `${HEAD}cases:\n  - name: a\n    inputFile: good.json\n    expect: allow\n    expected: allow\n`,
      /:10:\d+: cases\[0\]\.expected: unknown field "expected"/,
    ],
    [
      'a bad expectation',
      `${HEAD}cases:\n  - name: a\n    inputFile: good.json\n    expect: maybe\n`,
      /cases\[0\]\.expect: is required: allow or deny/,
    ],
    [
      'both input and inputFile',
      `${HEAD}cases:\n  - name: a\n    inputFile: good.json\n    input: {}\n    expect: allow\n`,
      /needs exactly one of input or inputFile/,
    ],
    [
      'an inline input of the wrong shape',
      `${HEAD}cases:\n  - name: a\n    input: { artifact: { digest: nope } }\n    expect: allow\n`,
      /:8:\d+: cases\[0\]\.input\.artifact\.digest: "nope" is not <algorithm>:<lowercase hex>/,
    ],
    [
      'an input file that is not JSON',
      `${HEAD}cases:\n  - name: a\n    inputFile: gate.test.yaml\n    expect: allow\n`,
      /cases\[0\]\.inputFile: .*not valid JSON/,
    ],
    [
      'an unknown outcome',
      `${HEAD}cases:\n  - name: a\n    inputFile: good.json\n    expect: allow\n    checks: { x: passed }\n`,
      /cases\[0\]\.checks\.x: must be pass, fail or skipped/,
    ],
    ['no cases', `${HEAD}cases: []\n`, /cases: must be a list of 1 to 1000 cases/],
    ['the wrong kind', HEAD.replace('PolicyTest', 'Policy'), /kind: must be "PolicyTest"/],
  ];
  for (const [name, text, message] of malformed) {
    it(`refuses ${name} with ERR_POLICY_TEST_MALFORMED`, async () => {
      const { file } = suite(text);
      try {
        await loadPolicyTest(file);
        assert.fail('loaded');
      } catch (e) {
        assert.ok(isVouchError(e, 'ERR_POLICY_TEST_MALFORMED'), String(e));
        assert.match(e.message, message);
      }
    });
  }

  it('a broken policy under test is the policy error, a directory without tests is an error', async () => {
    const { dir, file } = suite(`${HEAD}cases:\n  - name: a\n    inputFile: good.json\n    expect: allow\n`);
    writeFileSync(join(dir, 'gate.json'), '{"apiVersion": "vouch.dev/v1"}');
    await expectCode(() => loadPolicyTest(file), 'ERR_POLICY_MALFORMED');
    await expectCode(() => loadPolicyTests([tempDir()]), 'ERR_POLICY_TEST_MALFORMED');
  });
});
