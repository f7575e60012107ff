import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compareMaven, parseMavenVersion } from '../../../src/attest/vuln/maven.js';

function cmp(a: string, b: string): number {
  return compareMaven(parseMavenVersion(a), parseMavenVersion(b));
}

// Examples from the POM reference, "Version Order Specification" (maven.apache.org/pom.html), and the
// ComparableVersionTest orderings of maven-artifact.
test('spec: trimming examples are equal to their trimmed form', () => {
  for (const [a, b] of [
    ['1.0.0', '1'],
    ['1.ga', '1'],
    ['1.final', '1'],
    ['1.0', '1'],
    ['1.', '1'],
    ['1-', '1'],
    ['1.0.0-foo.0.0', '1-foo'],
    ['1.0.0-0.0.0', '1'],
    ['1-1.foo-bar1baz-.1', '1-1.foo-bar-1-baz-0.1'],
  ]) {
    assert.equal(cmp(a as string, b as string), 0, `${a} = ${b}`);
  }
});

test('spec: equalities', () => {
  for (const [a, b] of [
    ['1.ga', '1-ga'],
    ['1-ga', '1-0'],
    ['1-0', '1.0'],
    ['1-a1', '1-alpha-1'],
    ['1-cr1', '1-rc1'],
    ['1-RELEASE', '1'],
    ['1.0-Final', '1'],
    ['1-SNAPSHOT', '1-snapshot'],
    ['1-ALPHA1', '1-alpha1'],
    ['1-1-sp', '1-1-SP'],
    ['01.002', '1.2'],
  ]) {
    assert.equal(cmp(a as string, b as string), 0, `${a} = ${b}`);
  }
});

test('spec and maven-artifact: strict orderings', () => {
  const chains = [
    ['1', '1.1'],
    ['1-snapshot', '1', '1-sp'],
    ['1-foo2', '1-foo10'],
    ['1.foo', '1-foo', '1-1', '1.1'],
    ['1-ga.1', '1-sp.1'],
    ['1-sp.1', '1-1'],
    ['1-sp-1', '1-1'],
    [
      '1-alpha1',
      '1-alpha2',
      '1-beta1',
      '1-milestone1',
      '1-rc1',
      '1-snapshot',
      '1',
      '1-sp1',
      '1-abc',
      '1-xyz',
    ],
    ['1-a1', '1-b1', '1-m1'],
    ['1.0-alpha-1', '1.0-beta-1', '1.0-rc-1', '1.0'],
    ['2.0-beta9', '2.0-rc1', '2.0', '2.0.1', '2.14.1', '2.15.0-rc1', '2.15.0'],
    ['1.9', '1.10', '1.100'],
    ['1.2.3', '1.2.3.1', '1.2.4'],
    ['99999999999999999999', '100000000000000000000'],
  ];
  for (const chain of chains) {
    for (let i = 0; i + 1 < chain.length; i++) {
      const a = chain[i] as string;
      const b = chain[i + 1] as string;
      assert.equal(cmp(a, b), -1, `${a} < ${b}`);
      assert.equal(cmp(b, a), 1, `${b} > ${a}`);
    }
  }
});

test('property: reflexive and antisymmetric on any string, and never throws', () => {
  const v = fc.stringMatching(/^[0-9a-zA-Z.-]{0,16}$/);
  fc.assert(
    fc.property(v, v, (a, b) => {
      assert.equal(cmp(a, a), 0);
      assert.equal(Math.sign(cmp(a, b)) + Math.sign(cmp(b, a)), 0);
    }),
    { numRuns: 2000 },
  );
});

// Maven's order itself is not transitive once `.qualifier` and `-qualifier` mix: `1.a` > `1` (an unknown
// qualifier sorts after release), `1-a0` < `1` (alpha), yet `1.a` < `1-a0` (`.qualifier` < `-qualifier`).
// Maven's ComparableVersion gives the same cycle, so transitivity is demanded where the spec guarantees it:
// versions of numbers and known qualifiers under one separator style.
test('the spec cycle: 1.a > 1 > 1-a0 > 1.a, as Maven orders them', () => {
  assert.equal(cmp('1.a', '1'), 1);
  assert.equal(cmp('1', '1-a0'), 1);
  assert.equal(cmp('1-a0', '1.a'), 1);
});

test('property: transitive on numeric versions with known qualifiers', () => {
  const part = fc.oneof(
    fc.integer({ min: 0, max: 30 }).map(String),
    fc.constantFrom('alpha', 'beta', 'milestone', 'rc', 'snapshot', 'ga', 'final', 'sp'),
  );
  const v = fc
    .tuple(fc.integer({ min: 0, max: 30 }), fc.array(part, { maxLength: 4 }))
    .map(([head, rest]) => [String(head), ...rest].join('.'));
  fc.assert(
    fc.property(v, v, v, (a, b, c) => {
      if (cmp(a, b) <= 0 && cmp(b, c) <= 0) assert.ok(cmp(a, c) <= 0, `${a} <= ${b} <= ${c}`);
    }),
    { numRuns: 2000 },
  );
});
