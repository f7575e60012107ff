import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseOsv } from '../../../src/attest/vuln/osv.js';
import { isVouchError } from '../../../src/core/index.js';
import { expectCode } from '../../helpers.js';

const BASE = {
  id: 'GHSA-aaaa-bbbb-cccc',
  modified: '2024-01-01T00:00:00Z',
  affected: [
    {
      package: { ecosystem: 'npm', name: 'p' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }],
    },
  ],
};

function withPatch(patch: (r: Record<string, unknown>) => void): unknown {
  const r = structuredClone(BASE) as unknown as Record<string, unknown>;
  patch(r);
  return r;
}

function affected0(r: Record<string, unknown>): Record<string, unknown> {
  return (r['affected'] as Record<string, unknown>[])[0] as Record<string, unknown>;
}

test('reads a minimal record; unknown fields are ignored, free-form database_specific only for severity', () => {
  const r = parseOsv({ ...BASE, details: 'x', database_specific: { severity: 'MODERATE', other: [1] } }, 's');
  assert.equal(r.id, 'GHSA-aaaa-bbbb-cccc');
  assert.equal(r.databaseSeverity, 'MODERATE');
  assert.deepEqual(r.affected[0]?.ranges[0]?.events, [{ introduced: '0' }, { fixed: '1.0.0' }]);
  assert.deepEqual(r.aliases, []);
  assert.equal(parseOsv({ ...BASE, database_specific: 'x' }, 's').databaseSeverity, undefined);
});

const BAD: [string, unknown, string][] = [
  ['not an object', [], ''],
  ['missing id', withPatch((r) => delete r['id']), 'id'],
  ['id with spaces', withPatch((r) => (r['id'] = 'GHSA x')), 'id'],
  ['missing modified', withPatch((r) => delete r['modified']), 'modified'],
  ['modified not a date', withPatch((r) => (r['modified'] = 'yesterday')), 'modified'],
  ['withdrawn not a date', withPatch((r) => (r['withdrawn'] = '2024-13-45T00:00:00Z')), 'withdrawn'],
  ['aliases not an array', withPatch((r) => (r['aliases'] = 'CVE-1')), 'aliases'],
  ['alias not a string', withPatch((r) => (r['aliases'] = [1])), 'aliases[0]'],
  ['severity without score', withPatch((r) => (r['severity'] = [{ type: 'CVSS_V3' }])), 'severity[0].score'],
  ['affected not an array', withPatch((r) => (r['affected'] = {})), 'affected'],
  [
    'package without name',
    withPatch((r) => (affected0(r)['package'] = { ecosystem: 'npm' })),
    'affected[0].package.name',
  ],
  [
    'unknown range type',
    withPatch((r) => (affected0(r)['ranges'] = [{ type: 'X', events: [{ introduced: '0' }] }])),
    'affected[0].ranges[0].type',
  ],
  [
    'empty events',
    withPatch((r) => (affected0(r)['ranges'] = [{ type: 'SEMVER', events: [] }])),
    'affected[0].ranges[0].events',
  ],
  [
    'no introduced',
    withPatch((r) => (affected0(r)['ranges'] = [{ type: 'SEMVER', events: [{ fixed: '1.0.0' }] }])),
    'affected[0].ranges[0].events',
  ],
  [
    'two keys in an event',
    withPatch(
      (r) => (affected0(r)['ranges'] = [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1.0.0' }] }]),
    ),
    'affected[0].ranges[0].events[0]',
  ],
  [
    'event version not a string',
    withPatch((r) => (affected0(r)['ranges'] = [{ type: 'SEMVER', events: [{ introduced: 1 }] }])),
    'affected[0].ranges[0].events[0].introduced',
  ],
  [
    'SEMVER event not SemVer',
    withPatch(
      (r) => (affected0(r)['ranges'] = [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0' }] }]),
    ),
    'affected[0].ranges[0].events[1].fixed',
  ],
  ['versions not strings', withPatch((r) => (affected0(r)['versions'] = [null])), 'affected[0].versions[0]'],
];

for (const [name, json, path] of BAD) {
  test(`ERR_OSV_MALFORMED with the JSON path: ${name}`, async () => {
    await expectCode(() => parseOsv(json, 'rec.json'), 'ERR_OSV_MALFORMED');
    try {
      parseOsv(json, 'rec.json');
    } catch (e) {
      assert.ok(isVouchError(e));
      assert.equal(e.details?.['path'], path);
      assert.match(e.message, /^rec\.json: /);
    }
  });
}

test('own properties only: __proto__ keys are data, not a way to reach Object.prototype', () => {
  const json = JSON.parse('{"__proto__": {"id": "X"}, "modified": "2024-01-01T00:00:00Z"}');
  assert.throws(
    () => parseOsv(json, 's'),
    (e: unknown) => isVouchError(e, 'ERR_OSV_MALFORMED'),
  );
});

test('property: mutated records are read or refused with ERR_OSV_MALFORMED, nothing else', () => {
  const value = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string()), fc.object());
  const key = fc.constantFrom('id', 'modified', 'aliases', 'severity', 'affected', 'withdrawn', 'summary');
  fc.assert(
    fc.property(key, value, (k, v) => {
      try {
        parseOsv({ ...BASE, [k]: v }, 's');
      } catch (e) {
        if (!isVouchError(e, 'ERR_OSV_MALFORMED')) throw e;
      }
    }),
    { numRuns: 500 },
  );
});

test('limit "*" (infinity) is read in SEMVER ranges; an unusable range is skipped with a message, not the record', () => {
  const star = parseOsv(
    withPatch(
      (r) =>
        (affected0(r)['ranges'] = [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { limit: '*' }] }]),
    ),
    's',
  );
  assert.deepEqual(star.affected[0]?.ranges[0]?.events, [{ introduced: '1.0.0' }, { limit: '*' }]);

  const mixed = {
    ...BASE,
    affected: [
      {
        package: { ecosystem: 'npm', name: 'p' },
        ranges: [
          { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0' }] },
          { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0.0' }] },
        ],
      },
      { package: { ecosystem: 'npm', name: 'q' }, versions: ['1.0.0'] },
    ],
  };
  const skipped: string[] = [];
  const r = parseOsv(mixed, 'rec.json', (m) => skipped.push(m));
  assert.deepEqual(skipped, [
    'rec.json: affected[0].ranges[0].events[1].fixed: "1.0" is not a SemVer version (range skipped)',
  ]);
  assert.deepEqual(
    r.affected.map((a) => [a.name, a.ranges.map((x) => x.type)]),
    [
      ['p', ['ECOSYSTEM']],
      ['q', []],
    ],
  );
  // Without a receiver nothing is dropped silently: the record is refused as before.
  assert.throws(() => parseOsv(mixed, 'rec.json'), /is not a SemVer version/);
});
