import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVouchError, type VouchErrorCode } from '../../src/core/index.js';
import { checkPolicy } from '../../src/policy/index.js';
import { compile, releaseGate } from './fixtures.js';

/** The release gate with one extra rule (or condition of the provenance attestation). */
function withExpr(expr: string, where: 'rule' | 'condition' = 'rule'): Record<string, unknown> {
  const doc = releaseGate();
  const spec = doc['spec'] as { rules: unknown[]; attestations: { conditions?: unknown[] }[] };
  if (where === 'rule') spec.rules.push({ id: 'x', expr });
  else spec.attestations[0]?.conditions?.push({ id: 'x', expr });
  return doc;
}

async function problem(expr: string, where: 'rule' | 'condition' = 'rule') {
  const ds = await checkPolicy(JSON.stringify(withExpr(expr, where)));
  assert.equal(ds.length, 1, JSON.stringify(ds));
  const [d] = ds;
  assert.ok(d !== undefined);
  return d;
}

describe('CEL type checking (compile time)', () => {
  const typeErrors: [string, RegExp, number?][] = [
    ['sbomm.format == "cyclonedx"', /undeclared reference to 'sbomm'/, 1],
    ['provenance.builder == "x"', /provenance has no field 'builder' \(fields: builderId,/, 11],
    ['sbom.components.all(c, c.nam == "x")', /sbom component has no field 'nam'/],
    [
      'vulns.findings.exists(f, f.severity.lowerAscii(1) == "high")',
      /'lowerAscii' takes 0 argument\(s\), not 1/,
    ],
    ['artifact.name.startsWith(1)', /no matching overload for 'string.startsWith' applied to \(int\)/],
    ['"a" + 1 == "a1"', /no matching overload for '\+' applied to \(string, int\)/],
    ['"a" == 1', /no matching overload for '==' applied to \(string, int\)/],
    ['now < "2026-01-01"', /no matching overload for '<' applied to \(timestamp, string\)/],
    ['semverSatisfies(artifact.name, ">=1")', /unknown function 'semverSatisfies'/],
    ['artifact.name.size() > 1 && size(1) > 0', /no matching overload for 'size'/],
    ['startsWith(artifact.name, "x")', /a method, not a function 'startsWith'/],
    ['artifact.name', /must evaluate to a bool, but has type string/],
    ['size(signatures) + 1', /must evaluate to a bool, but has type int/],
    ['now - duration("30d") < now', /'30d' is not a CEL duration .*720h/],
    ['artifact.name.matches("(a)\\\\1")', /invalid RE2 regexp/],
    ['artifact.name &&', /syntax error/],
    ['Foo{a: 1}.a == 1', /no message types in policies/],
    ['predicate.builder == "x"', /undeclared reference to 'predicate'/],
    ['1.matches("x")', /no matching overload for 'int.matches'/],
    ['artifact.oci.registry.foo == "x"', /cannot select field 'foo' from a value of type string/],
  ];
  for (const [expr, message, column] of typeErrors) {
    it(`refuses ${expr}`, async () => {
      const d = await problem(expr);
      assert.equal(d.code, 'ERR_POLICY_CEL');
      assert.equal(d.path, 'spec.rules[1].expr');
      assert.match(d.message, message);
      if (column !== undefined) assert.deepEqual(d.expression, { line: 1, column });
    });
  }

  const accepted: [string, ('rule' | 'condition')?][] = [
    ['provenance != null && provenance.builderId.startsWith("https://github.com/")'],
    ['has(provenance.startedOn) && provenance.finishedOn - provenance.startedOn < duration("2h")'],
    ['sbom.components.filter(c, c.scope != "dev").map(c, c.name).size() < 10000'],
    ['vulns.findings.exists_one(f, f.id == "GHSA-1") || true'],
    ['"node" in provenance.toolchain && provenance.toolchain["node"].startsWith("20.")'],
    ['signatures.all(s, s.trusted && s.signer.keyId != "" && now - s.time < duration("2160h"))'],
    [
      'attestations.exists(a, a.predicateType == "https://slsa.dev/provenance/v1" && a.predicate.runDetails.builder.id != "")',
    ],
    [
      'type(artifact) == map && strings.quote(artifact.digest) != "" && artifact.digest.split(":").size() == 2',
    ],
    ['int(now.getFullYear()) >= 2026 && double(1) / 2.0 == 0.5 && 7 % 2 == 1 && -1 < 0'],
    ['predicate.runDetails.builder.id == attestation.signer.name || attestation.trusted', 'condition'],
    ['vulns.findings.all(f, !has(f.score) || f.score < 7.0)'],
    ['licenses == null || licenses.result == "pass"'],
  ];
  for (const [expr, where] of accepted) {
    it(`accepts ${expr}`, async () => {
      assert.deepEqual(await checkPolicy(JSON.stringify(withExpr(expr, where))), []);
    });
  }
});

describe('CEL static limits and cost (ERR_POLICY_COST)', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a loop over the findings inside a loop over the components',
      'sbom.components.all(c, vulns.findings.all(f, f.purl != c.purl))',
      /estimated worst-case cost of \d\.\de\+\d+, over the limit/,
    ],
    [
      'a loop over a predicate list inside another',
      'attestations.all(a, a.predicate.xs.all(x, a.predicate.ys.all(y, x != y)))',
      /over the limit/,
    ],
    [
      'comprehensions nested four deep',
      '[1].all(a, [1].all(b, [1].all(c, [1].all(d, true))))',
      /nests comprehensions .* more than 3 deep/,
    ],
    ['brackets nested 40 deep', `${'('.repeat(40)}true${')'.repeat(40)}`, /nests brackets more than 32 deep/],
    ['an expression over 4096 characters', `artifact.name == "${'x'.repeat(4100)}"`, /at most 4096/],
    ['a thousand-node expression', Array(300).fill('1 == 1').join(' && '), /(nodes|levels deep)/],
    [
      'a chain of 100 field selections',
      `dyn(artifact)${'.a'.repeat(100)} == 1`,
      /nested more than 64 levels deep/,
    ],
  ];
  for (const [name, expr, message] of cases) {
    it(`refuses ${name}`, async () => {
      const ds = await checkPolicy(JSON.stringify(withExpr(expr)));
      assert.ok(ds.length >= 1, 'compiled');
      assert.equal(ds[0]?.code, 'ERR_POLICY_COST', JSON.stringify(ds));
      assert.match(ds[0]?.message ?? '', message);
    });
  }

  it('accepts one loop over the largest typed list (the cost grows linearly)', async () => {
    await compile(
      withExpr('sbom.components.all(c, c.licenses.all(l, l in ["MIT", "ISC"]) && c.name.matches("^[a-z@]"))'),
    );
  });

  it('compilePolicy throws the coded error with the expression position', async () => {
    try {
      await compile(withExpr('sbom.components.all(c, sbom.components.exists(d, d.name == c.name))'));
      assert.fail('compiled');
    } catch (e) {
      assert.ok(isVouchError(e), String(e));
      assert.equal(e.code, 'ERR_POLICY_COST' satisfies VouchErrorCode);
      assert.equal(e.details?.['path'], 'spec.rules[1].expr');
    }
  });
});

describe('CEL cost: strings that grow', () => {
  it('refuses replace() chains whose result grows past any bound', async () => {
    const expr = `artifact.name${'.replace("", artifact.name)'.repeat(4)} != ""`;
    const ds = await checkPolicy(JSON.stringify(withExpr(expr)));
    assert.equal(ds[0]?.code, 'ERR_POLICY_COST', JSON.stringify(ds));
  });

  it('accepts one replace() of a short literal', async () => {
    assert.deepEqual(
      await checkPolicy(JSON.stringify(withExpr('artifact.name.replace("dist/", "") != ""'))),
      [],
    );
  });
});
