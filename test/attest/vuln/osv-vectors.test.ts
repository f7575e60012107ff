import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { affects } from '../../../src/attest/vuln/match.js';
import { parseOsv } from '../../../src/attest/vuln/osv.js';
import { severityOf } from '../../../src/attest/vuln/severity.js';
import { parseJson } from '../../../src/core/index.js';
import { VECTORS } from '../../helpers.js';

// Real GHSA records (github/advisory-database) and the collector's expected matches for them.
const DIR = join(VECTORS, 'osv');
const records = readdirSync(DIR)
  .filter((f) => f.startsWith('GHSA-') && f.endsWith('.json'))
  .map((f) => parseOsv(parseJson(readFileSync(join(DIR, f)), f), f));
const expected = JSON.parse(readFileSync(join(DIR, 'expected-matches.json'), 'utf8')) as {
  cases: { ecosystem: string; name: string; version: string; affected_by: string[] }[];
};

test('the four vector records parse', () => {
  assert.deepEqual(records.map((r) => r.id).sort(), [
    'GHSA-3h5v-q93c-6h6q',
    'GHSA-c2qf-rxjj-qqgw',
    'GHSA-jf85-cpcp-j695',
    'GHSA-xvch-5gv4-984h',
  ]);
  const minimist = records.find((r) => r.id === 'GHSA-xvch-5gv4-984h');
  assert.deepEqual(minimist?.aliases, ['CVE-2021-44906']);
  assert.equal(minimist?.affected.length, 2);
  assert.equal(minimist?.databaseSeverity, 'CRITICAL');
});

for (const c of expected.cases) {
  test(`${c.ecosystem} ${c.name}@${c.version} → [${c.affected_by.join(', ')}]`, () => {
    const hits = records
      .filter((r) => affects(r, { ecosystem: c.ecosystem, name: c.name, version: c.version }) !== null)
      .map((r) => r.id)
      .sort();
    assert.deepEqual(hits, [...c.affected_by].sort());
  });
}

test('every expected case was run (24 in the published file)', () => {
  assert.equal(expected.cases.length, 24);
});

test('fixed version of the matching range', () => {
  const minimist = records.find((r) => r.id === 'GHSA-xvch-5gv4-984h');
  assert.ok(minimist);
  assert.deepEqual(affects(minimist, { ecosystem: 'npm', name: 'minimist', version: '1.2.5' }), {
    fixed: '1.2.6',
  });
  assert.deepEqual(affects(minimist, { ecosystem: 'npm', name: 'minimist', version: '0.1.0' }), {
    fixed: '0.2.4',
  });
});

test('severity of the vector records from their CVSS vectors', () => {
  const byId = new Map(records.map((r) => [r.id, severityOf(r)]));
  assert.equal(byId.get('GHSA-xvch-5gv4-984h')?.score?.value, 9.8);
  assert.equal(byId.get('GHSA-xvch-5gv4-984h')?.rating, 'CRITICAL');
  for (const [id, s] of byId) assert.notEqual(s.rating, 'UNKNOWN', id);
});
