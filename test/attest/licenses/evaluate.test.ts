import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { evaluateLicenses } from '../../../src/attest/licenses/evaluate.js';
import { MAX_BRANCHES, parseLicense } from '../../../src/attest/licenses/expression.js';
import { parsePolicy } from '../../../src/attest/licenses/policy.js';
import { summarizeLicenses } from '../../../src/attest/licenses/summary.js';
import type { BomComponent, SbomDocument } from '../../../src/attest/sbom/document.js';
import { readSbom } from '../../../src/attest/sbom/document-read.js';
import { VECTORS } from '../../helpers.js';

const SCHEMA = resolve(import.meta.dirname, '..', '..', '..', 'schemas', 'licenses-v1.schema.json');
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));

function assertSchema(p: unknown): void {
  assert.ok(validate(p), JSON.stringify(validate.errors?.slice(0, 3)));
}

const NOW = new Date('2026-03-01T12:00:00Z');

function component(license: string | undefined, extra: Partial<BomComponent> = {}): BomComponent {
  return {
    ref: extra.ref ?? 'c',
    name: extra.name ?? 'pkg',
    version: extra.version ?? '1.2.3',
    ...(license === undefined ? {} : { license }),
    licenseIsSpdx: true,
    scope: extra.scope ?? 'required',
    ...(extra.purl === undefined ? {} : { purl: extra.purl }),
  };
}

function doc(components: BomComponent[]): SbomDocument {
  return { format: 'cyclonedx', specVersion: '1.6', components };
}

const policy = (yaml: string) => parsePolicy(Buffer.from(yaml), 'policy.yaml');

/** The decision and reason for one component under one policy. */
function decide(yaml: string, license: string | undefined, extra: Partial<BomComponent> = {}): string {
  const p = evaluateLicenses(doc([component(license, extra)]), policy(yaml), { now: NOW });
  assertSchema(p);
  const c = p.components[0];
  return `${c?.decision}/${c?.reason}`;
}

const ALLOW =
  'allow: [MIT, Apache-2.0, BSD-3-Clause, GPL-2.0-only, LicenseRef-Acme]\ndeny: [GPL-3.0-or-later, AGPL-3.0-only]\n';

describe('evaluateLicenses: policy table', () => {
  const cases: [string, string, string | undefined, string][] = [
    ['allowed id', ALLOW, 'MIT', 'allow/allowed'],
    ['id outside the allow list', ALLOW, 'ISC', 'deny/not-allowed'],
    ['denied id', ALLOW, 'GPL-3.0-only', 'deny/denied'],
    ['OR: one allowed branch suffices', ALLOW, 'MIT OR ISC', 'allow/allowed'],
    ['OR: a denied alternative can be avoided', ALLOW, 'GPL-3.0-only OR MIT', 'allow/allowed'],
    ['OR: no branch allowed', ALLOW, 'ISC OR 0BSD', 'deny/not-allowed'],
    ['OR: every branch denied', ALLOW, 'GPL-3.0-only OR AGPL-3.0-only', 'deny/denied'],
    ['AND: all parts allowed', ALLOW, 'MIT AND Apache-2.0', 'allow/allowed'],
    ['AND: one part not allowed', ALLOW, 'MIT AND ISC', 'deny/not-allowed'],
    ['AND: one part denied', ALLOW, 'MIT AND GPL-3.0-only', 'deny/denied'],
    ['AND of ORs', ALLOW, '(ISC OR MIT) AND (GPL-3.0-only OR BSD-3-Clause)', 'allow/allowed'],
    [
      'WITH needs the exception allowed',
      ALLOW,
      'GPL-2.0-only WITH Classpath-exception-2.0',
      'deny/not-allowed',
    ],
    [
      'WITH allowed exactly',
      'allow: [GPL-2.0-only WITH Classpath-exception-2.0]\n',
      'GPL-2.0-only WITH Classpath-exception-2.0',
      'allow/allowed',
    ],
    [
      'a denied id denies its WITH variant',
      'deny: [GPL-2.0-only]\n',
      'GPL-2.0-only WITH Classpath-exception-2.0',
      'deny/denied',
    ],
    ['deprecated GPL-2.0 reads as -only', ALLOW, 'GPL-2.0', 'allow/allowed'],
    ['deprecated GPL-3.0+ hits the -or-later deny', ALLOW, 'GPL-3.0+', 'deny/denied'],
    ['-or-later allow covers later versions', 'allow: [GPL-2.0-or-later]\n', 'GPL-3.0-only', 'allow/allowed'],
    [
      '-or-later allow does not cover earlier',
      'allow: [GPL-2.0-or-later]\n',
      'GPL-1.0-only',
      'deny/not-allowed',
    ],
    ['LicenseRef allowed', ALLOW, 'LicenseRef-Acme', 'allow/allowed'],
    ['LicenseRef not allowed', ALLOW, 'LicenseRef-Other', 'deny/not-allowed'],
    ['unknown licence: deny by default', ALLOW, undefined, 'deny/unknown-license'],
    ['unknown licence: warn', `${ALLOW}unknown: warn\n`, undefined, 'warn/unknown-license'],
    ['unknown licence: allow', `${ALLOW}unknown: allow\n`, undefined, 'allow/unknown-license'],
    ['free text: deny by default', ALLOW, 'Apache License 2.0', 'deny/non-spdx-license'],
    ['free text: warn', `${ALLOW}nonSpdx: warn\n`, 'Apache License 2.0', 'warn/non-spdx-license'],
    ['lower-case id is not SPDX', ALLOW, 'mit', 'deny/non-spdx-license'],
    ['deny list only: others pass', 'deny: [AGPL-3.0-only]\n', 'ISC', 'allow/not-denied'],
    ['deny list only: denied', 'deny: [AGPL-3.0-only]\n', 'AGPL-3.0-only', 'deny/denied'],
    ['empty allow list denies everything', 'allow: []\n', 'MIT', 'deny/not-allowed'],
  ];
  for (const [what, yaml, license, expected] of cases) {
    it(`${what}: ${license ?? '(none)'} → ${expected}`, () => {
      assert.equal(decide(yaml, license), expected);
    });
  }

  it('skips scopes the policy does not evaluate', () => {
    const yaml = `${ALLOW}scopes: [required, optional]\n`;
    assert.equal(decide(yaml, 'ISC', { scope: 'dev' }), 'skip/scope');
    assert.equal(decide(yaml, 'ISC', { scope: 'optional' }), 'deny/not-allowed');
  });

  it('refuses expressions with too many alternatives as non-SPDX', () => {
    const big = Array.from({ length: 11 }, () => '(MIT OR ISC)').join(' AND ');
    assert.equal(parseLicense(big).status, 'non-spdx');
    assert.ok(2 ** 11 > MAX_BRANCHES);
    assert.equal(decide(ALLOW, big), 'deny/non-spdx-license');
  });
});

describe('evaluateLicenses: deprecated ids with a folded exception', () => {
  // SPDX License List 3.0 deprecated these for `<licence>-only WITH <exception>`.
  const folded: [string, string, string][] = [
    ['GPL-2.0-with-autoconf-exception', 'GPL-2.0-only', 'Autoconf-exception-2.0'],
    ['GPL-2.0-with-bison-exception', 'GPL-2.0-only', 'Bison-exception-2.2'],
    ['GPL-2.0-with-classpath-exception', 'GPL-2.0-only', 'Classpath-exception-2.0'],
    ['GPL-2.0-with-font-exception', 'GPL-2.0-only', 'Font-exception-2.0'],
    ['GPL-2.0-with-GCC-exception', 'GPL-2.0-only', 'GCC-exception-2.0'],
    ['GPL-3.0-with-autoconf-exception', 'GPL-3.0-only', 'Autoconf-exception-3.0'],
    ['GPL-3.0-with-GCC-exception', 'GPL-3.0-only', 'GCC-exception-3.1'],
  ];
  for (const [id, license, exception] of folded) {
    const modern = `${license} WITH ${exception}`;
    it(`${id} reads as ${modern}`, () => {
      const p = parseLicense(id);
      assert.equal(p.status === 'spdx' ? p.canonical : p.status, modern);
      assert.equal(decide(`deny: [${license}]\n`, id), 'deny/denied');
      assert.equal(decide('deny: [GPL-1.0-or-later]\n', id), 'deny/denied');
      assert.equal(decide(`allow: [${modern}]\n`, id), 'allow/allowed');
      assert.equal(decide(`allow: [${license}]\n`, id), 'deny/not-allowed');
      // The deprecated spelling in a policy list matches the modern one in an SBOM, and back.
      assert.equal(decide(`deny: [${id}]\n`, modern), 'deny/denied');
      assert.equal(decide(`allow: [${id}]\n`, modern), 'allow/allowed');
      assert.equal(decide(`deny: [${license}]\n`, `MIT AND ${id}`), 'deny/denied');
    });
  }

  it('reads `+` as the or-later licence and refuses a second WITH', () => {
    const p = parseLicense('GPL-2.0-with-classpath-exception+');
    assert.equal(
      p.status === 'spdx' ? p.canonical : p.status,
      'GPL-2.0-or-later WITH Classpath-exception-2.0',
    );
    assert.equal(decide('deny: [GPL-3.0-only]\n', 'GPL-2.0-with-classpath-exception+'), 'deny/denied');
    const twice = 'GPL-2.0-with-classpath-exception WITH GCC-exception-2.0';
    assert.equal(parseLicense(twice).status, 'non-spdx');
    assert.equal(decide('deny: [AGPL-3.0-only]\n', twice), 'deny/non-spdx-license');
  });
});

describe('evaluateLicenses: exceptions', () => {
  const withException = (pkg: string, license: string, expires?: string) =>
    `${ALLOW}exceptions:\n  - package: "${pkg}"\n    license: "${license}"\n    reason: LEGAL-42 reviewed\n${
      expires === undefined ? '' : `    expires: "${expires}"\n`
    }`;
  const npm = { name: '@acme/widget', version: '2.4.0', purl: 'pkg:npm/%40acme/widget@2.4.0' };

  const cases: [string, string, string | undefined, string][] = [
    ['by name', withException('@acme/widget', 'ISC'), 'ISC', 'allow/exception'],
    ['by name and range', withException('@acme/widget@^2.0.0', 'ISC'), 'ISC', 'allow/exception'],
    ['range excludes the version', withException('@acme/widget@^3.0.0', 'ISC'), 'ISC', 'deny/not-allowed'],
    ['by purl', withException('pkg:npm/%40acme/widget', 'ISC'), 'ISC', 'allow/exception'],
    ['by purl and range', withException('pkg:npm/%40acme/widget@>=2 <2.5', 'ISC'), 'ISC', 'allow/exception'],
    ['other package', withException('@acme/other', 'ISC'), 'ISC', 'deny/not-allowed'],
    ['other licence', withException('@acme/widget', 'ISC'), '0BSD', 'deny/not-allowed'],
    [
      'licence compared canonically',
      withException('@acme/widget', '(MIT OR ISC) AND 0BSD'),
      '0BSD AND (MIT OR ISC)',
      'deny/not-allowed',
    ],
    [
      'same expression, other spacing',
      withException('@acme/widget', 'ISC  OR 0BSD'),
      'ISC OR 0BSD',
      'allow/exception',
    ],
    ['non-SPDX licence', withException('@acme/widget', 'Acme EULA'), 'Acme EULA', 'allow/exception'],
    ['current (date)', withException('@acme/widget', 'ISC', '2026-03-01'), 'ISC', 'allow/exception'],
    ['expired (date)', withException('@acme/widget', 'ISC', '2026-02-28'), 'ISC', 'deny/not-allowed'],
    [
      'current (date-time)',
      withException('@acme/widget', 'ISC', '2026-03-01T12:00:01Z'),
      'ISC',
      'allow/exception',
    ],
    [
      'expired (date-time)',
      withException('@acme/widget', 'ISC', '2026-03-01T12:00:00Z'),
      'ISC',
      'deny/not-allowed',
    ],
  ];
  for (const [what, yaml, license, expected] of cases) {
    it(`${what} → ${expected}`, () => {
      assert.equal(decide(yaml, license, npm), expected);
    });
  }

  it('records the exception, and says when one expired', () => {
    const ok = evaluateLicenses(
      doc([component('ISC', npm)]),
      policy(withException('@acme/widget', 'ISC', '2027-01-01')),
      {
        now: NOW,
      },
    );
    assert.deepEqual(ok.components[0]?.exception, {
      package: '@acme/widget',
      reason: 'LEGAL-42 reviewed',
      expires: '2027-01-01',
    });
    const old = evaluateLicenses(
      doc([component('ISC', npm)]),
      policy(withException('@acme/widget', 'ISC', '2025-01-01')),
      {
        now: NOW,
      },
    );
    assert.match(old.violations[0]?.detail ?? '', /exception for @acme\/widget expired 2025-01-01/);
  });
});

describe('summarizeLicenses and the predicate', () => {
  const components = [
    component('MIT', { ref: 'a' }),
    component('MIT', { ref: 'b' }),
    component('(MIT)', { ref: 'c' }),
    component('Apache-2.0 OR MIT', { ref: 'd' }),
    component('Custom', { ref: 'e' }),
    component(undefined, { ref: 'f' }),
    component('GPL-3.0-only', { ref: 'g', scope: 'dev' }),
  ];

  it('groups by canonical expression, most frequent first, flagging unknown and non-SPDX', () => {
    assert.deepEqual(
      summarizeLicenses(doc(components)).map((g) => [
        g.license ?? null,
        g.status,
        g.count,
        g.components.map((c) => c.ref),
      ]),
      [
        ['MIT', 'spdx', 3, ['a', 'b', 'c']],
        ['Apache-2.0 OR MIT', 'spdx', 1, ['d']],
        ['Custom', 'non-spdx', 1, ['e']],
        ['GPL-3.0-only', 'spdx', 1, ['g']],
        [null, 'unknown', 1, ['f']],
      ],
    );
  });

  it('without a policy: summary only, result pass, schema-valid', () => {
    const p = evaluateLicenses(doc(components), undefined, { now: NOW });
    assertSchema(p);
    assert.equal(p.result, 'pass');
    assert.equal(p.policy, undefined);
    assert.deepEqual(p.summary, {
      components: 7,
      spdx: 5,
      nonSpdx: 1,
      unknown: 1,
      allowed: 0,
      warned: 0,
      denied: 0,
      skipped: 0,
    });
    assert.equal(p.components[0]?.decision, undefined);
  });

  it('with a policy: decisions, violations, counts, digests', () => {
    const pol = policy(`${ALLOW}nonSpdx: warn\nscopes: [required]\n`);
    const p = evaluateLicenses(doc(components), pol, { now: NOW, sbomSha256: 'ab'.repeat(32) });
    assertSchema(p);
    assert.equal(p.result, 'fail');
    assert.equal(p.evaluatedAt, '2026-03-01T12:00:00.000Z');
    assert.deepEqual(p.policy, { digest: { sha256: pol.sha256 } });
    assert.deepEqual(p.sbom, {
      format: 'cyclonedx',
      specVersion: '1.6',
      digest: { sha256: 'ab'.repeat(32) },
    });
    assert.deepEqual(
      p.components.map((c) => `${c.ref}:${c.decision}/${c.reason}`),
      [
        'a:allow/allowed',
        'b:allow/allowed',
        'c:allow/allowed',
        'd:allow/allowed',
        'e:warn/non-spdx-license',
        'f:deny/unknown-license',
        'g:skip/scope',
      ],
    );
    assert.deepEqual(p.violations, [
      {
        ref: 'f',
        name: 'pkg',
        version: '1.2.3',
        reason: 'unknown-license',
        detail: 'the SBOM gives no licence',
      },
    ]);
    assert.deepEqual(p.summary, {
      components: 7,
      spdx: 5,
      nonSpdx: 1,
      unknown: 1,
      allowed: 4,
      warned: 1,
      denied: 1,
      skipped: 1,
    });
    assert.deepEqual(p.licenses[0], {
      license: 'MIT',
      status: 'spdx',
      count: 3,
      decisions: { allow: 3, warn: 0, deny: 0, skip: 0 },
    });
  });

  it('reads the SPDX 2.3 example end to end (LicenseRef, NOASSERTION as unknown)', () => {
    const sbom = readSbom(
      JSON.parse(readFileSync(join(VECTORS, 'sbom', 'spdx-2.3', 'SPDXJSONExample-v2.3.spdx.json'), 'utf8')),
      'x',
    );
    const p = evaluateLicenses(sbom, policy('allow: [MPL-1.0]\nunknown: warn\n'), { now: NOW });
    assertSchema(p);
    assert.equal(p.result, 'pass');
    assert.deepEqual(p.sbom.root, { name: 'glibc', version: '2.11.1' });
    assert.deepEqual(
      p.components.map((c) => [c.name, c.decision]),
      [
        ['Apache Commons Lang', 'warn'],
        ['Jena', 'warn'],
        ['Saxon', 'allow'],
      ],
    );
  });

  it('the schema rejects a predicate that contradicts itself or has unknown fields', () => {
    const p = evaluateLicenses(doc(components), policy(ALLOW), { now: NOW });
    assert.ok(validate(p));
    assert.equal(validate({ ...p, result: 'pass' }), false);
    assert.equal(validate({ ...p, extra: 1 }), false);
    assert.equal(validate({ ...p, evaluatedAt: 'yesterday' }), false);
  });
});
