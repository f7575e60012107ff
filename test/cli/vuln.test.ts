import assert from 'node:assert/strict';
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { vulnDbPath } from '../../src/cli/commands/vuln.js';
import { tempDir, VECTORS } from '../helpers.js';
import { vouch } from './harness.js';

test('vuln db import: summary line, skipped files on stderr, exit 3 after importing the rest; second run unchanged', async () => {
  const dir = tempDir();
  const src = join(dir, 'osv');
  cpSync(join(VECTORS, 'osv'), src, { recursive: true });
  const db = join(dir, 'v.db');
  const r = await vouch(['vuln', 'db', 'import', src, '--db', db]);
  assert.equal(r.code, 3);
  assert.equal(
    r.stdout,
    `Imported ${src} into ${db}: 4 added, 0 updated, 0 unchanged, 0 withdrawn, 1 failed, 0 ranges skipped (4 records)\n`,
  );
  assert.match(
    r.stderr,
    /^skipped expected-matches\.json: id: is required\nvouch: error: 1 records in .* could not be imported \(first: expected-matches\.json: id: is required\); the other records were imported \[ERR_OSV_MALFORMED\]\n$/,
  );
  const again = await vouch(['vuln', 'db', 'import', src, '--db', db, '--json']);
  assert.equal(again.code, 3);
  assert.equal(JSON.parse(again.stdout).error.code, 'ERR_OSV_MALFORMED');
  rmSync(join(src, 'expected-matches.json'));
  const clean = await vouch(['vuln', 'db', 'import', src, '--db', db, '--json']);
  assert.equal(clean.code, 0, clean.stderr);
  const j = JSON.parse(clean.stdout);
  assert.deepEqual(
    [j.ok, j.added, j.updated, j.unchanged, j.withdrawn, j.failed, j.records, j.skippedRanges],
    [true, 0, 0, 4, 0, 0, 4, 0],
  );
});

test("vuln db import: an unusable range is skipped with a warning, the record's other packages imported", async () => {
  const dir = tempDir();
  const rec = join(dir, 'GHSA-x.json');
  writeFileSync(
    rec,
    JSON.stringify({
      id: 'GHSA-x',
      modified: '2024-01-01T00:00:00Z',
      affected: [
        {
          package: { ecosystem: 'npm', name: 'a' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: 'x' }] }],
        },
        {
          package: { ecosystem: 'npm', name: 'b' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { limit: '*' }] }],
        },
      ],
    }),
  );
  const r = await vouch(['vuln', 'db', 'import', rec, '--db', join(dir, 'v.db')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1 added, .* 0 failed, 1 ranges skipped \(1 records\)/);
  assert.match(
    r.stderr,
    /^warning: .*GHSA-x\.json: affected\[0\]\.ranges\[0\]\.events\[0\]\.introduced: "x" is not a SemVer version \(range skipped\)\n$/,
  );
});

test('vuln db import: default path under XDG_DATA_HOME (created), progress only on a terminal', async () => {
  const dir = tempDir();
  const r = await vouch(
    ['vuln', 'db', 'import', join(VECTORS, 'osv', 'GHSA-jf85-cpcp-j695.json')],
    { XDG_DATA_HOME: join(dir, 'data') },
    { tty: true },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'data', 'vouch', 'vulns.db')));
  assert.ok(r.stderr.includes('\u001b[2K'), r.stderr);
});

test('vulnDbPath: --db, XDG_DATA_HOME (absolute only), HOME fallback, else a usage error', () => {
  assert.equal(vulnDbPath('x.db', {}), 'x.db');
  assert.equal(vulnDbPath(undefined, { XDG_DATA_HOME: '/d', HOME: '/h' }), '/d/vouch/vulns.db');
  assert.equal(vulnDbPath(undefined, { XDG_DATA_HOME: 'rel', HOME: '/h' }), '/h/.local/share/vouch/vulns.db');
  assert.throws(() => vulnDbPath(undefined, {}), /--db/);
});

test('vuln db import: unreadable source exits 3 with a coded error; corrupt zip too', async () => {
  const dir = tempDir();
  const r = await vouch(['vuln', 'db', 'import', join(dir, 'missing.zip'), '--db', join(dir, 'v.db')]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /\[ERR_INPUT_UNREADABLE\]/);
  const z = await vouch([
    'vuln',
    'db',
    'import',
    join(VECTORS, 'osv', 'SOURCE.md'),
    '--db',
    join(dir, 'v.db'),
  ]);
  assert.equal(z.code, 3);
  assert.match(z.stderr, /not a readable zip archive.*\[ERR_INPUT_MALFORMED\]/);
});
