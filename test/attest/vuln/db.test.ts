import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { importOsv, openVulnDb } from '../../../src/attest/vuln/db.js';
import { expectCode, tempDir, VECTORS } from '../../helpers.js';
import { buildZip } from './zip-writer.js';

const OSV = join(VECTORS, 'osv');
const NOW = new Date('2024-07-01T00:00:00Z');

function record(id: string, name: string, fixed: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    modified: '2024-01-01T00:00:00Z',
    affected: [
      {
        package: { ecosystem: 'npm', name },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
      },
    ],
    ...extra,
  });
}

/** The four vector records plus the collector's file, which is JSON but not an OSV record. */
function vectorDir(): string {
  const dir = join(tempDir(), 'osv');
  cpSync(OSV, dir, { recursive: true });
  return dir;
}

test('directory import: records added, a non-record JSON counted as failed by name; lookup by package', async () => {
  const dir = vectorDir();
  const db = openVulnDb(join(tempDir(), 'v.db'), { create: true });
  const progress: [number, number][] = [];
  const r = await importOsv(db, dir, { now: NOW, onProgress: (d, t) => progress.push([d, t]) });
  assert.deepEqual(
    { ...r, failures: r.failures.map((f) => f.file) },
    {
      added: 4,
      updated: 0,
      unchanged: 0,
      withdrawn: 0,
      failed: 1,
      failures: ['expected-matches.json'],
      skippedRanges: 0,
      skipped: [],
    },
  );
  assert.match(r.failures[0]?.message ?? '', /^expected-matches\.json: id: is required/);
  assert.deepEqual(progress.at(-1), [5, 5]);
  assert.deepEqual(
    db.lookup('npm', 'lodash').map((x) => x.id),
    ['GHSA-jf85-cpcp-j695'],
  );
  assert.deepEqual(db.lookup('npm', 'left-pad'), []);
  const info = db.info();
  assert.equal(info.records, 4);
  assert.equal(info.lastUpdate, NOW.toISOString());
  assert.equal(info.source, dir);
  assert.match(info.version ?? '', /^sha256:[0-9a-f]{64}$/);
  db.close();
});

test('incremental: a second import changes nothing; a modified record is updated; withdrawal drops it', async () => {
  const dir = join(tempDir(), 'recs');
  mkdirSync(join(dir, 'npm'), { recursive: true });
  writeFileSync(join(dir, 'npm', 'A-1.json'), record('A-1', 'a', '1.0.0'));
  writeFileSync(join(dir, 'npm', 'A-2.json'), record('A-2', 'b', '2.0.0'));
  const path = join(tempDir(), 'v.db');
  const db = openVulnDb(path, { create: true });
  assert.deepEqual((await importOsv(db, dir)).added, 2);
  const v1 = db.info().version;
  const again = await importOsv(db, dir);
  assert.deepEqual(
    { ...again, failures: again.failures.length },
    {
      added: 0,
      updated: 0,
      unchanged: 2,
      withdrawn: 0,
      failed: 0,
      failures: 0,
      skippedRanges: 0,
      skipped: [],
    },
  );
  assert.equal(db.info().version, v1);

  writeFileSync(
    join(dir, 'npm', 'A-1.json'),
    record('A-1', 'a', '1.0.1', { modified: '2024-02-01T00:00:00Z' }),
  );
  const changed = await importOsv(db, dir);
  assert.deepEqual([changed.added, changed.updated, changed.unchanged], [0, 1, 1]);
  assert.notEqual(db.info().version, v1);
  const a = db.lookup('npm', 'a');
  assert.equal(a.length, 1);
  assert.deepEqual(a[0]?.affected[0]?.ranges[0]?.events[1], { fixed: '1.0.1' });

  writeFileSync(
    join(dir, 'npm', 'A-2.json'),
    record('A-2', 'b', '2.0.0', { modified: '2024-03-01T00:00:00Z', withdrawn: '2024-03-01T00:00:00Z' }),
  );
  const withdrawn = await importOsv(db, dir);
  assert.deepEqual([withdrawn.withdrawn, withdrawn.unchanged], [1, 1]);
  assert.deepEqual(db.lookup('npm', 'b'), []);
  db.close();
  // The data survives reopening.
  const reopened = openVulnDb(path);
  assert.equal(reopened.info().records, 2);
  reopened.close();
});

test('a record renamed to another package is re-indexed under the new name only', async () => {
  const dir = join(tempDir(), 'recs');
  mkdirSync(dir);
  writeFileSync(join(dir, 'R.json'), record('R-1', 'old', '1.0.0'));
  const db = openVulnDb(join(tempDir(), 'v.db'), { create: true });
  await importOsv(db, dir);
  writeFileSync(join(dir, 'R.json'), record('R-1', 'new', '1.0.0', { modified: '2024-05-01T00:00:00Z' }));
  await importOsv(db, dir);
  assert.deepEqual(db.lookup('npm', 'old'), []);
  assert.equal(db.lookup('npm', 'new').length, 1);
  db.close();
});

test('zip import (built with zip(1) when present, else the test writer); PyPI names normalised, npm case-folded', async () => {
  const dir = tempDir();
  const zipPath = join(dir, 'all.zip');
  const py = JSON.stringify({
    id: 'PYSEC-1',
    modified: '2024-01-01T00:00:00Z',
    affected: [{ package: { ecosystem: 'PyPI', name: 'Django_REST' }, versions: ['1.0'] }],
  });
  writeFileSync(
    zipPath,
    buildZip([
      {
        name: 'GHSA-jf85-cpcp-j695.json',
        data: readFileSync(join(OSV, 'GHSA-jf85-cpcp-j695.json')),
        deflate: true,
      },
      { name: 'sub/', data: '' },
      { name: 'sub/PYSEC-1.json', data: py },
      { name: 'GHSA-JS-1.json', data: record('GHSA-JS-1', 'JSONStream', '1.3.1') },
      { name: 'README.txt', data: 'not a record' },
      { name: 'broken.json', data: '{"id": ' },
    ]),
  );
  const db = openVulnDb(join(dir, 'v.db'), { create: true });
  const r = await importOsv(db, zipPath);
  assert.deepEqual([r.added, r.failed, r.failures[0]?.file], [3, 1, 'broken.json']);
  assert.equal(db.lookup('PyPI', 'django-rest')[0]?.id, 'PYSEC-1');
  assert.equal(db.lookup('PyPI', 'Django.Rest')[0]?.id, 'PYSEC-1');
  assert.equal(db.lookup('npm', 'jsonstream')[0]?.id, 'GHSA-JS-1');
  assert.equal(db.lookup('npm', 'JSONStream')[0]?.id, 'GHSA-JS-1');

  // A zip made by Info-ZIP's zip(1) (installed by .ci/run), not only by the test's own writer.
  const real = join(dir, 'real.zip');
  execFileSync('zip', [
    '-q',
    '-j',
    real,
    join(OSV, 'GHSA-xvch-5gv4-984h.json'),
    join(OSV, 'GHSA-jf85-cpcp-j695.json'),
  ]);
  const r2 = await importOsv(db, real);
  assert.deepEqual([r2.added, r2.unchanged], [1, 1]);
  db.close();
});

test('hostile or corrupt zips are refused with ERR_INPUT_MALFORMED', async () => {
  const dir = tempDir();
  const db = openVulnDb(join(dir, 'v.db'), { create: true });
  const cases: [string, Buffer][] = [
    ['slip.zip', buildZip([{ name: '../evil.json', data: record('E-1', 'e', '1.0.0') }])],
    ['abs.zip', buildZip([{ name: '/etc/evil.json', data: record('E-1', 'e', '1.0.0') }])],
    ['bomb.zip', buildZip([{ name: 'bomb.json', data: Buffer.alloc(4 * 1024 * 1024, 0x20), deflate: true }])],
    ['truncated.zip', buildZip([{ name: 'a.json', data: record('E-1', 'e', '1.0.0') }]).subarray(0, 40)],
    ['garbage.zip', Buffer.from('this is not a zip archive at all, not even close')],
  ];
  for (const [name, bytes] of cases) {
    writeFileSync(join(dir, name), bytes);
    await expectCode(() => importOsv(db, join(dir, name)), 'ERR_INPUT_MALFORMED');
  }
  assert.deepEqual(db.lookup('npm', 'e'), []);
  await expectCode(() => importOsv(db, join(dir, 'missing.zip')), 'ERR_INPUT_UNREADABLE');
  db.close();
});

test('ERR_VULN_DB: missing database, not SQLite, foreign SQLite, unknown schema version', async () => {
  const dir = tempDir();
  await expectCode(() => openVulnDb(join(dir, 'none.db')), 'ERR_VULN_DB');
  writeFileSync(join(dir, 'text.db'), 'hello, this is not a database file'.repeat(100));
  await expectCode(() => openVulnDb(join(dir, 'text.db')), 'ERR_VULN_DB');
  const foreign = new Database(join(dir, 'foreign.db'));
  foreign.exec('CREATE TABLE t (x)');
  foreign.close();
  await expectCode(() => openVulnDb(join(dir, 'foreign.db')), 'ERR_VULN_DB');
  const path = join(dir, 'v.db');
  openVulnDb(path, { create: true }).close();
  const raw = new Database(path);
  raw.prepare("UPDATE meta SET value = '99' WHERE key = 'schema'").run();
  raw.close();
  await expectCode(() => openVulnDb(path), 'ERR_VULN_DB');
});

test('scan-side open is read-only: an empty file stays empty and is refused; so is a fresh, never-filled db', async () => {
  const dir = tempDir();
  const empty = join(dir, 'e.db');
  writeFileSync(empty, '');
  await expectCode(() => openVulnDb(empty), 'ERR_VULN_DB');
  assert.equal(readFileSync(empty).length, 0);
  const fresh = join(dir, 'fresh.db');
  openVulnDb(fresh, { create: true }).close();
  assert.throws(() => openVulnDb(fresh), /has no finished import/);
  // An import of nothing finishes, but leaves nothing to match against.
  const none = join(dir, 'none');
  mkdirSync(none);
  const db = openVulnDb(fresh, { create: true });
  await importOsv(db, none);
  db.close();
  assert.throws(() => openVulnDb(fresh), /holds no vulnerability records/);
  await expectCode(() => openVulnDb(fresh), 'ERR_VULN_DB');
});

test('an import that fails half-way leaves a database scans refuse until a re-import finishes', async () => {
  const dir = tempDir();
  const path = join(dir, 'v.db');
  const entries = Array.from({ length: 5 }, (_, i) => ({
    name: `R-${i}.json`,
    data: record(`R-${i}`, 'p', '2.0.0'),
  }));
  writeFileSync(join(dir, 'good.zip'), buildZip(entries));
  writeFileSync(
    join(dir, 'partial.zip'),
    buildZip([...entries, { name: 'Z.json', data: Buffer.alloc(4 * 1024 * 1024, 0x20), deflate: true }]),
  );
  const db = openVulnDb(path, { create: true });
  await importOsv(db, join(dir, 'good.zip'), { now: NOW });
  db.close();
  const first = openVulnDb(path);
  assert.equal(first.info().lastUpdate, NOW.toISOString());
  first.close();

  const again = openVulnDb(path, { create: true });
  await expectCode(
    () => importOsv(again, join(dir, 'partial.zip'), { batchBytes: 1 }),
    'ERR_INPUT_MALFORMED',
  );
  again.close();
  assert.throws(() => openVulnDb(path), /holds an import started at .* that did not finish/);
  await expectCode(() => openVulnDb(path), 'ERR_VULN_DB');

  const retry = openVulnDb(path, { create: true });
  await importOsv(retry, join(dir, 'good.zip'));
  retry.close();
  const ok = openVulnDb(path);
  assert.equal(ok.info().records, 5);
  ok.close();
});

test('a batch is written once its record text reaches the byte budget, not only every 1000 records', async () => {
  const dir = join(tempDir(), 'recs');
  mkdirSync(dir);
  for (let i = 0; i < 4; i++) writeFileSync(join(dir, `B-${i}.json`), record(`B-${i}`, 'b', '1.0.0'));
  const path = join(tempDir(), 'v.db');
  const db = openVulnDb(path, { create: true });
  const size = record('B-0', 'b', '1.0.0').length;
  const reader = new Database(path, { readonly: true });
  const committed: number[] = [];
  await importOsv(db, dir, {
    batchBytes: 2 * size,
    onProgress: () => committed.push(reader.prepare('SELECT count(*) FROM records').pluck().get() as number),
  });
  reader.close();
  db.close();
  assert.deepEqual(committed, [0, 2, 2, 4]);
});

test('a scan leaves no -wal/-shm files beside the database (closed imports leave rollback mode)', async () => {
  const dir = tempDir();
  const path = join(dir, 'v.db');
  const db = openVulnDb(path, { create: true });
  await importOsv(db, join(OSV, 'GHSA-jf85-cpcp-j695.json'));
  db.close();
  const r = openVulnDb(path);
  assert.equal(r.lookup('npm', 'lodash').length, 1);
  r.close();
  assert.deepEqual(readdirSync(dir), ['v.db']);
});
