import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanComponents } from '../../../src/attest/vuln/match.js';
import { parseOsv } from '../../../src/attest/vuln/osv.js';
import type { ScanTarget } from '../../../src/attest/vuln/types.js';
import { parseOpenVex, type VexArtifact } from '../../../src/attest/vuln/vex.js';
import { isVouchError } from '../../../src/core/index.js';
import { expectCode } from '../../helpers.js';

const RECORD = parseOsv(
  {
    id: 'GHSA-xvch-5gv4-984h',
    modified: '2024-01-01T00:00:00Z',
    aliases: ['CVE-2021-44906'],
    affected: [
      {
        package: { ecosystem: 'npm', name: 'minimist' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2.6' }] }],
      },
    ],
  },
  'r.json',
);
const TARGETS = [
  { ref: 'a', purl: 'pkg:npm/minimist@1.2.5' },
  { ref: 'b', purl: 'pkg:npm/minimist@0.2.1' },
];

type Statement = Record<string, unknown>;

function doc(statements: Statement[], extra: Record<string, unknown> = {}): unknown {
  return {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/1',
    author: 'Example Security',
    timestamp: '2024-05-01T00:00:00Z',
    version: 1,
    statements,
    ...extra,
  };
}

function scanIn(artifact: VexArtifact, targets: readonly ScanTarget[], ...docs: unknown[]) {
  const vex = docs.map((d, i) => parseOpenVex(d, `vex${i}.json`));
  return scanComponents(targets, () => [RECORD], { vex, artifact }).findings.map((f) => [
    f.target.ref,
    f.suppressedBy ?? null,
  ]);
}

const APP: VexArtifact = { purls: ['pkg:oci/app'], names: [] };

function scan(...docs: unknown[]) {
  return scanIn(APP, TARGETS, ...docs);
}

test('not_affected by alias, product purl without version: suppresses every version, says so', () => {
  const s = {
    vulnerability: { name: 'CVE-2021-44906' },
    products: [{ '@id': 'pkg:npm/minimist' }],
    status: 'not_affected',
    justification: 'vulnerable_code_not_in_execute_path',
    impact_statement: 'we never parse untrusted argv',
  };
  const suppressed = {
    document: 'https://example.com/vex/1',
    status: 'not_affected',
    justification: 'vulnerable_code_not_in_execute_path',
    statement: 'we never parse untrusted argv',
  };
  assert.deepEqual(scan(doc([s])), [
    ['b', suppressed],
    ['a', suppressed],
  ]);
});

test('a versioned purl (in identifiers or a subcomponent) suppresses that version only; fixed suppresses', () => {
  const viaIdentifiers = {
    vulnerability: { name: 'GHSA-xvch-5gv4-984h' },
    products: [{ '@id': 'https://example.com/app', identifiers: { purl: 'pkg:npm/minimist@1.2.5' } }],
    status: 'fixed',
  };
  assert.deepEqual(
    scan(doc([viaIdentifiers])).map(([ref, s]) => [ref, (s as { status?: string } | null)?.status ?? null]),
    [
      ['b', null],
      ['a', 'fixed'],
    ],
  );
  const viaSub = {
    vulnerability: { name: 'OTHER', aliases: ['cve-2021-44906'] },
    products: [{ '@id': 'pkg:oci/app', subcomponents: [{ '@id': 'pkg:npm/minimist@0.2.1' }] }],
    status: 'not_affected',
    justification: 'component_not_present',
  };
  assert.deepEqual(
    scan(doc([viaSub])).map(([ref, s]) => [ref, s === null]),
    [
      ['b', false],
      ['a', true],
    ],
  );
});

test('affected and under_investigation do not suppress; other vulnerabilities and packages do not match', () => {
  for (const status of ['affected', 'under_investigation']) {
    const s = {
      vulnerability: { name: 'CVE-2021-44906' },
      products: [{ '@id': 'pkg:npm/minimist' }],
      status,
    };
    assert.deepEqual(scan(doc([s])), [
      ['b', null],
      ['a', null],
    ]);
  }
  const other = {
    vulnerability: { name: 'CVE-2099-0001' },
    products: [{ '@id': 'pkg:npm/minimist' }],
    status: 'not_affected',
    justification: 'component_not_present',
  };
  const otherPkg = {
    vulnerability: { name: 'CVE-2021-44906' },
    products: [{ '@id': 'pkg:npm/minimist2' }, { '@id': 'pkg:pypi/minimist' }],
    status: 'not_affected',
    justification: 'component_not_present',
  };
  assert.deepEqual(scan(doc([other, otherPkg])), [
    ['b', null],
    ['a', null],
  ]);
});

test('the latest statement wins: a later affected overrides an earlier not_affected, across documents', () => {
  const notAffected = {
    vulnerability: { name: 'CVE-2021-44906' },
    products: [{ '@id': 'pkg:npm/minimist' }],
    status: 'not_affected',
    justification: 'component_not_present',
    timestamp: '2024-05-01T00:00:00Z',
  };
  const affected = { ...notAffected, status: 'affected', timestamp: '2024-06-01T00:00:00Z' };
  delete (affected as Record<string, unknown>)['justification'];
  assert.deepEqual(scan(doc([notAffected]), doc([affected])), [
    ['b', null],
    ['a', null],
  ]);
  // Order does not matter, the timestamp does.
  assert.deepEqual(scan(doc([affected]), doc([notAffected])), [
    ['b', null],
    ['a', null],
  ]);
  const laterNot = { ...notAffected, timestamp: '2024-07-01T00:00:00Z' };
  assert.equal(scan(doc([affected, laterNot]))[0]?.[1] === null, false);
});

test('subcomponents apply only inside the scanned artifact (SBOM root purl or name, or --vex-product)', () => {
  const other = {
    vulnerability: { name: 'CVE-2021-44906' },
    products: [{ '@id': 'pkg:oci/someone-elses-image', subcomponents: [{ '@id': 'pkg:npm/minimist' }] }],
    status: 'not_affected',
    justification: 'vulnerable_code_not_in_execute_path',
  };
  const none = [
    ['b', null],
    ['a', null],
  ];
  assert.deepEqual(scan(doc([other])), none);
  assert.deepEqual(scanIn({ purls: [], names: [] }, TARGETS, doc([other])), none);
  const suppressedBoth = (r: unknown[][]) => r.map(([ref, s]) => [ref, s !== null]);
  const both = [
    ['b', true],
    ['a', true],
  ];
  // The same statement about our own image applies, whether the image is the SBOM root or --vex-product.
  assert.deepEqual(
    suppressedBoth(
      scanIn({ purls: ['pkg:oci/someone-elses-image@sha256%3Aabc'], names: [] }, TARGETS, doc([other])),
    ),
    both,
  );
  // A root without a purl is named by its name.
  const byName = { ...other, products: [{ '@id': 'myapp', subcomponents: [{ '@id': 'pkg:npm/minimist' }] }] };
  assert.deepEqual(suppressedBoth(scanIn({ purls: [], names: ['myapp'] }, TARGETS, doc([byName]))), both);
  assert.deepEqual(scanIn({ purls: [], names: ['otherapp'] }, TARGETS, doc([byName])), none);
  // The product itself still names the component, subcomponents or not.
  const direct = {
    ...other,
    products: [{ '@id': 'pkg:npm/minimist@1.2.5', subcomponents: [{ '@id': 'pkg:npm/x' }] }],
  };
  assert.deepEqual(suppressedBoth(scan(doc([direct]))), [
    ['b', false],
    ['a', true],
  ]);
});

test('purl qualifiers: a statement about a fork (vcs_url) does not speak for the registry package', () => {
  const fork = {
    vulnerability: { name: 'CVE-2021-44906' },
    products: [{ '@id': 'pkg:npm/minimist@1.2.5?vcs_url=git%2Bhttps://github.com/me/minimist-patched' }],
    status: 'fixed',
  };
  const targets = [
    { ref: 'registry', purl: 'pkg:npm/minimist@1.2.5' },
    { ref: 'fork', purl: 'pkg:npm/minimist@1.2.5?vcs_url=git%2Bhttps://github.com/me/minimist-patched' },
    { ref: 'other-fork', purl: 'pkg:npm/minimist@1.2.5?vcs_url=git%2Bhttps://github.com/you/minimist' },
  ];
  assert.deepEqual(
    scanIn(APP, targets, doc([fork])).map(([ref, s]) => [
      ref,
      (s as { status?: string } | null)?.status ?? null,
    ]),
    [
      ['fork', 'fixed'],
      ['other-fork', null],
      ['registry', null],
    ],
  );
  // A statement without qualifiers covers the package whatever its qualifiers.
  const plain = { ...fork, products: [{ '@id': 'pkg:npm/minimist@1.2.5' }] };
  assert.deepEqual(
    scanIn(APP, targets, doc([plain])).map(([ref, s]) => [ref, s !== null]),
    [
      ['fork', true],
      ['other-fork', true],
      ['registry', true],
    ],
  );
});

const BAD: [string, unknown, string][] = [
  ['not an object', 'x', ''],
  ['wrong context', doc([], { '@context': 'https://example.com' }), '@context'],
  ['missing @id', doc([], { '@id': undefined }), '@id'],
  ['missing timestamp', doc([], { timestamp: undefined }), 'timestamp'],
  ['bad version', doc([], { version: '1' }), 'version'],
  ['no statements', doc([]), 'statements'],
  [
    'unknown status',
    doc([{ vulnerability: { name: 'X' }, products: [{ '@id': 'pkg:npm/a' }], status: 'maybe' }]),
    'statements[0].status',
  ],
  [
    'not_affected without justification',
    doc([{ vulnerability: { name: 'X' }, products: [{ '@id': 'pkg:npm/a' }], status: 'not_affected' }]),
    'statements[0].justification',
  ],
  [
    'unknown justification',
    doc([
      {
        vulnerability: { name: 'X' },
        products: [{ '@id': 'pkg:npm/a' }],
        status: 'not_affected',
        justification: 'trust me',
      },
    ]),
    'statements[0].justification',
  ],
  [
    'no products',
    doc([{ vulnerability: { name: 'X' }, products: [], status: 'fixed' }]),
    'statements[0].products',
  ],
  [
    'bad purl',
    doc([{ vulnerability: { name: 'X' }, products: [{ '@id': 'pkg:' }], status: 'fixed' }]),
    'statements[0].products[0].@id',
  ],
  [
    'no vulnerability',
    doc([{ products: [{ '@id': 'pkg:npm/a' }], status: 'fixed' }]),
    'statements[0].vulnerability',
  ],
  [
    'bad statement timestamp',
    doc([
      { vulnerability: { name: 'X' }, products: [{ '@id': 'pkg:npm/a' }], status: 'fixed', timestamp: 'now' },
    ]),
    'statements[0].timestamp',
  ],
];

for (const [name, json, path] of BAD) {
  test(`ERR_VEX_MALFORMED: ${name}`, async () => {
    const input = JSON.parse(JSON.stringify(json)) as unknown;
    await expectCode(() => parseOpenVex(input, 'v.json'), 'ERR_VEX_MALFORMED');
    try {
      parseOpenVex(input, 'v.json');
    } catch (e) {
      assert.ok(isVouchError(e));
      assert.equal(e.details?.['path'], path);
    }
  });
}
