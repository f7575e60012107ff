import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cvssBaseScore, severityOf } from '../../../src/attest/vuln/severity.js';
import type { OsvRecord } from '../../../src/attest/vuln/types.js';

// Base scores from FIRST's calculators (first.org/cvss/calculator/3.1, /4.0) and NVD for v2.
const SCORES: [string, string, number][] = [
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'CVSSv31', 9.8],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 'CVSSv31', 10],
  ['CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L', 'CVSSv31', 2],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 'CVSSv31', 7.5],
  ['CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L', 'CVSSv30', 5.6],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U', 'CVSSv31', 9.8],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 'CVSSv4', 9.3],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 'CVSSv4', 8.7],
  ['AV:N/AC:L/Au:N/C:P/I:P/A:P', 'CVSSv2', 7.5],
];

for (const [vector, method, value] of SCORES) {
  test(`base score ${vector} = ${value}`, () => {
    assert.deepEqual(cvssBaseScore(vector), { method, vector, value });
  });
}

test('incomplete, repeated, illegal or foreign vectors are not scored', () => {
  for (const v of [
    'CVSS:3.1/AV:N',
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:L',
    'CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q',
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:Q',
    'CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    'garbage',
    '',
  ]) {
    assert.equal(cvssBaseScore(v), undefined, v);
  }
});

function rec(severity: OsvRecord['severity'], databaseSeverity?: string): OsvRecord {
  return {
    id: 'X-1',
    modified: '2024-01-01T00:00:00Z',
    aliases: [],
    severity,
    ...(databaseSeverity === undefined ? {} : { databaseSeverity }),
    affected: [],
  };
}

test('severityOf: highest vector wins; GHSA rating as fallback (MODERATE → MEDIUM); else UNKNOWN', () => {
  const s = severityOf(
    rec([
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L' },
      { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' },
      { type: 'Ubuntu', score: 'high' },
    ]),
  );
  assert.equal(s.score?.method, 'CVSSv4');
  assert.equal(s.rating, 'CRITICAL');
  assert.equal(
    severityOf(rec([{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L' }])).rating,
    'LOW',
  );
  assert.deepEqual(severityOf(rec([], 'MODERATE')), { rating: 'MEDIUM' });
  assert.deepEqual(severityOf(rec([{ type: 'CVSS_V3', score: 'bad' }], 'high')), { rating: 'HIGH' });
  assert.deepEqual(severityOf(rec([], 'SEVERE')), { rating: 'UNKNOWN' });
  assert.equal(severityOf(rec([{ type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:C/I:C/A:C' }])).rating, 'HIGH');
});
