import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readInput } from '../../src/core/index.js';
import {
  checkPolicy,
  evaluatePolicy,
  loadPolicy,
  loadPolicyTests,
  parsePolicyInput,
  runPolicyTests,
} from '../../src/policy/index.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'policies');

describe('examples/policies', () => {
  it('every example policy compiles', async () => {
    const file = join(EXAMPLES, 'release-gate.yaml');
    assert.deepEqual(await checkPolicy(await readInput(file), { source: file }), []);
    const p = await loadPolicy(file);
    assert.equal(p.name, 'release-gate');
    assert.equal(p.trust.keys[0]?.keyId, '1d9afae09b0cdf3ae2e81548d38ea605059e36924e88a499d7c6a6145120ce4b');
  });

  it('the release gate passes its own policy tests', async () => {
    const report = runPolicyTests(await loadPolicyTests([EXAMPLES]));
    const failures = report.suites.flatMap((s) =>
      s.cases.filter((c) => !c.ok).map((c) => `${c.name}: ${c.failures.join('; ')}`),
    );
    assert.deepEqual(failures, []);
    assert.equal(report.passed, 14);
  });

  it('asks for no freshness, which evidence signed with --key cannot show (it carries no verified time)', async () => {
    const p = await loadPolicy(join(EXAMPLES, 'release-gate.yaml'));
    const input = JSON.parse(readFileSync(join(EXAMPLES, 'fixtures', 'signed-release.json'), 'utf8')) as {
      signatures: object[];
      attestations: object[];
    };
    assert.ok([...input.signatures, ...input.attestations].every((e) => !Object.hasOwn(e, 'time')));
    const decision = evaluatePolicy(p, parsePolicyInput(input), { tier: 'deep' });
    assert.equal(decision.allow, true);
    assert.deepEqual(
      decision.checks.filter((c) => c.id.endsWith('.fresh')).map((c) => c.id),
      [],
    );
  });
});
