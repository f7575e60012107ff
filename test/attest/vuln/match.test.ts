import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { affects, scanComponents } from '../../../src/attest/vuln/match.js';
import { parseOsv } from '../../../src/attest/vuln/osv.js';
import type { OsvRecord } from '../../../src/attest/vuln/types.js';
import { isVouchError } from '../../../src/core/index.js';

/** A record with one affected package and the given ranges (events as OSV writes them). */
function record(
  ecosystem: string,
  name: string,
  ranges: { type: string; events: Record<string, string>[] }[],
  extra: Record<string, unknown> = {},
): OsvRecord {
  return parseOsv(
    {
      id: 'TEST-0001',
      modified: '2024-01-01T00:00:00Z',
      affected: [
        {
          package: { ecosystem, name },
          ranges,
          ...(extra['versions'] ? { versions: extra['versions'] } : {}),
        },
      ],
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'versions')),
    },
    'test.json',
  );
}

function hit(r: OsvRecord, ecosystem: string, name: string, version: string): boolean {
  return affects(r, { ecosystem, name, version }) !== null;
}

function table(r: OsvRecord, ecosystem: string, name: string, cases: Record<string, boolean>): void {
  for (const [version, want] of Object.entries(cases)) {
    assert.equal(hit(r, ecosystem, name, version), want, `${name}@${version}`);
  }
}

test('prereleases order below their release (SemVer §11), whatever includePrerelease would say', () => {
  const r = record('npm', 'p', [
    { type: 'ECOSYSTEM', events: [{ introduced: '1.0.0-alpha.1' }, { fixed: '1.0.0' }] },
  ]);
  table(r, 'npm', 'p', {
    '0.9.9': false,
    '1.0.0-alpha.0': false,
    '1.0.0-alpha.1': true,
    '1.0.0-beta': true,
    '1.0.0-rc.1': true,
    '1.0.0': false,
    '1.0.1-rc.1': false,
  });
  // A release range: prereleases of versions inside it are inside it too (total order, not npm ranges).
  const r2 = record('npm', 'p', [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }]);
  table(r2, 'npm', 'p', { '1.5.0-rc.1': true, '2.0.0-rc.1': true, '2.0.0': false });
});

test('several introduced/fixed pairs in one range, evaluated in version order whatever the document order', () => {
  const r = record('npm', 'p', [
    {
      type: 'SEMVER',
      events: [{ introduced: '2.0.0' }, { fixed: '2.3.1' }, { introduced: '1.0.0' }, { fixed: '1.4.0' }],
    },
  ]);
  table(r, 'npm', 'p', {
    '0.5.0': false,
    '1.0.0': true,
    '1.3.9': true,
    '1.4.0': false,
    '1.9.9': false,
    '2.0.0': true,
    '2.3.0': true,
    '2.3.1': false,
    '3.0.0': false,
  });
  assert.deepEqual(affects(r, { ecosystem: 'npm', name: 'p', version: '1.2.0' }), { fixed: '1.4.0' });
  assert.deepEqual(affects(r, { ecosystem: 'npm', name: 'p', version: '2.1.0' }), { fixed: '2.3.1' });
});

test('last_affected is inclusive and gives no fixed version', () => {
  const r = record('npm', 'p', [
    { type: 'ECOSYSTEM', events: [{ introduced: '1.0.0' }, { last_affected: '1.2.3' }] },
  ]);
  table(r, 'npm', 'p', { '1.2.3': true, '1.2.4-rc.1': false, '1.2.4': false, '0.1.0': false });
  assert.deepEqual(affects(r, { ecosystem: 'npm', name: 'p', version: '1.2.0' }), {});
});

test('introduced "0" is every version; without fixed everything after introduced is affected', () => {
  const r = record('npm', 'p', [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }]);
  table(r, 'npm', 'p', { '0.0.0': true, '0.0.1-0': true, '99.0.0': true });
  const r2 = record('npm', 'p', [{ type: 'ECOSYSTEM', events: [{ introduced: '3.1.0' }] }]);
  table(r2, 'npm', 'p', { '3.0.9': false, '3.1.0': true, '10.0.0': true });
});

test('limit: versions at or above every limit are outside the range', () => {
  const r = record('npm', 'p', [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { limit: '2.0.0' }] }]);
  table(r, 'npm', 'p', { '1.9.9': true, '2.0.0': false, '2.5.0': false });
});

test('explicit versions lists match exactly, also for ecosystems without an order', () => {
  const r = record('crates.io', 'c', [], { versions: ['0.1.0', '0.2.0'] });
  table(r, 'crates.io', 'c', { '0.1.0': true, '0.2.0': true, '0.1.5': false });
  // Under an ecosystem order, equal versions match: PEP 440 says 1.0 == 1.0.0.
  const py = record('PyPI', 'Django', [], { versions: ['1.0'] });
  table(py, 'PyPI', 'django', { '1.0.0': true, '1.0.1': false });
  // ECOSYSTEM ranges of an ecosystem Vouch cannot order never match by range.
  const deb = record('Debian:12', 'openssl', [
    { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.11-1' }] },
  ]);
  table(deb, 'Debian:12', 'openssl', { '3.0.9-1': false });
});

test('withdrawn records match nothing', () => {
  const r = record('npm', 'p', [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }], {
    withdrawn: '2024-02-01T00:00:00Z',
  });
  assert.equal(hit(r, 'npm', 'p', '1.0.0'), false);
});

test('GIT ranges and other packages never match a package version', () => {
  const r = parseOsv(
    {
      id: 'TEST-2',
      modified: '2024-01-01T00:00:00Z',
      affected: [
        { ranges: [{ type: 'GIT', repo: 'https://x', events: [{ introduced: '0' }] }] },
        {
          package: { ecosystem: 'npm', name: 'q' },
          ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }],
        },
      ],
    },
    'git.json',
  );
  assert.equal(r.affected.length, 1);
  assert.equal(hit(r, 'npm', 'q', '1.0.0'), false);
  assert.equal(hit(r, 'npm', 'other', '1.0.0'), false);
});

test('PyPI: PEP 440 ordering and PEP 503 names', () => {
  const r = record('PyPI', 'Jinja2', [
    { type: 'ECOSYSTEM', events: [{ introduced: '2.0rc1' }, { fixed: '2.10.1' }] },
  ]);
  table(r, 'PyPI', 'jinja2', {
    '2.0b1': false,
    '2.0rc1': true,
    '2.0': true,
    '2.10': true,
    '2.10.1.dev0': true,
    '2.10.1': false,
    '2.10.1.post1': false,
    '2.9': true,
    'not a version': false,
  });
  const r2 = record('PyPI', 'zope.interface', [
    { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '5.0' }] },
  ]);
  assert.equal(hit(r2, 'PyPI', 'zope-interface', '4.7.1'), true);
});

test('Go: SEMVER ranges without v against module versions with v, pseudo-versions, +incompatible', () => {
  const r = record('Go', 'golang.org/x/net', [
    { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.7.0' }] },
  ]);
  table(r, 'Go', 'golang.org/x/net', {
    'v0.0.0-20220127200216-cd36cc0744dd': true,
    'v0.6.0': true,
    'v0.7.0': false,
    'v0.7.1-0.20230101000000-abcdefabcdef': false,
  });
  const r2 = record('Go', 'github.com/docker/docker', [
    { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '20.10.11+incompatible' }] },
  ]);
  table(r2, 'Go', 'github.com/docker/docker', {
    'v20.10.10+incompatible': true,
    'v20.10.11+incompatible': false,
  });
});

test('Maven: ComparableVersion ordering in ranges', () => {
  const r = record('Maven', 'org.apache.logging.log4j:log4j-core', [
    { type: 'ECOSYSTEM', events: [{ introduced: '2.0-beta9' }, { fixed: '2.15.0' }] },
  ]);
  table(r, 'Maven', 'org.apache.logging.log4j:log4j-core', {
    '1.2.17': false,
    '2.0-alpha1': false,
    '2.0-beta9': true,
    '2.0-rc1': true,
    '2.0': true,
    '2.14.1': true,
    '2.15.0-rc1': true,
    '2.15.0': false,
    '2.15': false,
    '2.15.0.1': false,
  });
});

test('aliases are carried into findings; scanComponents orders and caches lookups', () => {
  const r = parseOsv(
    {
      id: 'GHSA-aaaa-bbbb-cccc',
      modified: '2024-01-01T00:00:00Z',
      aliases: ['CVE-2024-0001'],
      summary: 'bad',
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' }],
      affected: [
        {
          package: { ecosystem: 'npm', name: '@scope/p' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.1' }] }],
        },
      ],
    },
    'a.json',
  );
  const calls: string[] = [];
  const { findings } = scanComponents(
    [
      { ref: 'b', purl: 'pkg:npm/%40scope/p@1.0.0' },
      { ref: 'a', purl: 'pkg:npm/%40scope/p@0.9.0' },
      { ref: 'c', purl: 'pkg:npm/%40scope/p@1.0.1' },
      { ref: 'd', purl: 'not a purl' },
      { ref: 'e', purl: 'pkg:npm/unversioned' },
    ],
    (eco, name) => {
      calls.push(`${eco}/${name}`);
      return name === '@scope/p' ? [r] : [];
    },
  );
  assert.deepEqual(calls, ['npm/@scope/p']);
  assert.deepEqual(
    findings.map((f) => [f.target.ref, f.version, f.id, f.fixed, f.rating, f.score?.value, f.aliases]),
    [
      ['a', '0.9.0', 'GHSA-aaaa-bbbb-cccc', '1.0.1', 'HIGH', 7.5, ['CVE-2024-0001']],
      ['b', '1.0.0', 'GHSA-aaaa-bbbb-cccc', '1.0.1', 'HIGH', 7.5, ['CVE-2024-0001']],
    ],
  );
});

test('property: arbitrary version strings never make matching throw', () => {
  const records = [
    record('npm', 'p', [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2.3' }] }]),
    record('PyPI', 'p', [
      { type: 'ECOSYSTEM', events: [{ introduced: '1.0a1' }, { last_affected: '2.0.post1' }] },
    ]),
    record('Maven', 'g:a', [
      { type: 'ECOSYSTEM', events: [{ introduced: '1.0-SNAPSHOT' }, { fixed: '1.0.1' }] },
    ]),
    record('Go', 'm', [{ type: 'SEMVER', events: [{ introduced: '0' }, { limit: '2.0.0' }] }]),
  ];
  const version = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.stringMatching(/^v?[0-9.]{0,12}(-[a-zA-Z0-9.]{0,8})?(\+[a-z0-9]{0,4})?$/),
    fc.stringMatching(/^[0-9!.a-z+_-]{0,20}$/),
  );
  fc.assert(
    fc.property(version, version, (v, event) => {
      for (const [eco, name] of [
        ['npm', 'p'],
        ['PyPI', 'p'],
        ['Maven', 'g:a'],
        ['Go', 'm'],
      ] as const) {
        for (const r of records) affects(r, { ecosystem: eco, name, version: v });
        // Event versions are attacker-controlled too: ECOSYSTEM ranges take any string.
        try {
          const r = record(eco, name, [{ type: 'ECOSYSTEM', events: [{ introduced: event }, { fixed: v }] }]);
          affects(r, { ecosystem: eco, name, version: v });
        } catch (e) {
          if (!isVouchError(e, 'ERR_OSV_MALFORMED')) throw e;
        }
      }
    }),
    { numRuns: 500 },
  );
});

test('npm and NuGet names match case-folded: OSV JSONStream is the purl pkg:npm/jsonstream', () => {
  const js = record('npm', 'JSONStream', [
    { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.3.1' }] },
  ]);
  const { findings } = scanComponents(
    [
      { ref: 'a', purl: 'pkg:npm/JSONStream@1.3.0' },
      { ref: 'b', purl: 'pkg:npm/jsonstream@1.3.1' },
    ],
    (ecosystem, name) => (ecosystem === 'npm' && name === 'jsonstream' ? [js] : []),
  );
  assert.deepEqual(
    findings.map((f) => [f.target.ref, f.name, f.fixed]),
    [['a', 'jsonstream', '1.3.1']],
  );
  const nuget = record('NuGet', 'Newtonsoft.Json', [], { versions: ['12.0.1'] });
  assert.equal(hit(nuget, 'NuGet', 'newtonsoft.json', '12.0.1'), true);
  // Other ecosystems keep exact names.
  const go = record('Go', 'github.com/Foo/bar', [], { versions: ['v1.0.0'] });
  assert.equal(hit(go, 'Go', 'github.com/foo/bar', 'v1.0.0'), false);
});

test('limit "*" is infinity: no upper bound, in ECOSYSTEM and SEMVER ranges', () => {
  for (const type of ['ECOSYSTEM', 'SEMVER']) {
    const r = record('npm', 'p', [{ type, events: [{ introduced: '1.0.0' }, { limit: '*' }] }]);
    table(r, 'npm', 'p', { '0.9.0': false, '1.0.0': true, '99.0.0': true });
    const bounded = record('npm', 'p', [
      { type, events: [{ introduced: '0' }, { fixed: '2.0.0' }, { limit: '*' }] },
    ]);
    table(bounded, 'npm', 'p', { '1.0.0': true, '2.0.0': false });
  }
});

test('components an ecosystem without an order leaves undecided are reported as not fully scanned', () => {
  const crate = record('crates.io', 'c', [
    { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2.0' }] },
  ]);
  const listedToo = parseOsv(
    {
      id: 'TEST-0002',
      modified: '2024-01-01T00:00:00Z',
      affected: [
        {
          package: { ecosystem: 'crates.io', name: 'c' },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2.0' }] }],
          versions: ['1.0.0'],
        },
      ],
    },
    'b.json',
  );
  const npm = record('npm', 'p', [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }]);
  const git = parseOsv(
    {
      id: 'TEST-0003',
      modified: '2024-01-01T00:00:00Z',
      affected: [
        {
          package: { ecosystem: 'npm', name: 'g' },
          ranges: [{ type: 'GIT', repo: 'x', events: [{ introduced: '0' }] }],
        },
      ],
    },
    'g.json',
  );
  const byName: Record<string, OsvRecord[]> = { c: [crate, listedToo], p: [npm], g: [git] };
  const r = scanComponents(
    [
      { ref: 'c1', purl: 'pkg:cargo/c@1.0.0' },
      { ref: 'c2', purl: 'pkg:cargo/c@1.1.0' },
      { ref: 'p1', purl: 'pkg:npm/p@1.0.0' },
      { ref: 'p2', purl: 'pkg:npm/p@not-a-version' },
      { ref: 'g1', purl: 'pkg:npm/g@1.0.0' },
    ],
    (_e, name) => byName[name] ?? [],
  );
  assert.deepEqual(
    r.findings.map((f) => [f.target.ref, f.id]),
    [
      ['c1', 'TEST-0002'],
      ['p1', 'TEST-0001'],
    ],
  );
  // c1 is found by TEST-0002's list but TEST-0001's range is still undecided; c2 by neither; a version the
  // order cannot parse is undecided too; GIT ranges never make a component incomplete.
  assert.deepEqual(
    r.incomplete.map((i) => [i.target.ref, i.ecosystem, i.name, i.version, i.ids]),
    [
      ['c1', 'crates.io', 'c', '1.0.0', ['TEST-0001']],
      ['c2', 'crates.io', 'c', '1.1.0', ['TEST-0001', 'TEST-0002']],
      ['p2', 'npm', 'p', 'not-a-version', ['TEST-0001']],
    ],
  );
});
