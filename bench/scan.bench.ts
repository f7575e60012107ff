// Scan: 10,000 npm components against 50,000 generated OSV records, after importing them into the SQLite
// database (issue 4 §7: target < 1 s). Reference in the same run: the same matcher over records held in a
// plain in-memory Map (no database), loaded from the same files.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  importOsv,
  type OsvRecord,
  openVulnDb,
  parseOsv,
  type ScanTarget,
  scanComponents,
} from '../src/attest/index.js';
import { bestTime, report, workPath } from './lib.js';

const RECORDS = 50_000;
const PACKAGES = 10_000;
const COMPONENTS = 10_000;

/** Deterministic PRNG (mulberry32) so every run scans the same data. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(42);
const int = (n: number) => Math.floor(rand() * n);
const version = () => `${int(6)}.${int(20)}.${int(30)}${rand() < 0.05 ? `-rc.${int(3)}` : ''}`;

/** Realistic GHSA-like ranges: one or two introduced/fixed pairs, sometimes last_affected or open-ended. */
function ranges(): { type: string; events: Record<string, string>[] }[] {
  const major = int(5);
  const events: Record<string, string>[] = [{ introduced: rand() < 0.4 ? '0' : `${major}.0.0` }];
  const r = rand();
  if (r < 0.8) events.push({ fixed: `${major}.${int(20)}.${1 + int(30)}` });
  else if (r < 0.9) events.push({ last_affected: `${major}.${int(20)}.${int(30)}` });
  const out = [{ type: 'ECOSYSTEM', events }];
  if (rand() < 0.3) {
    out.push({
      type: 'ECOSYSTEM',
      events: [{ introduced: `${major + 1}.0.0` }, { fixed: `${major + 1}.${int(10)}.${1 + int(9)}` }],
    });
  }
  return out;
}

const dir = workPath('osv-50k');
if (!existsSync(dir) || readdirSync(dir).length !== RECORDS) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < RECORDS; i++) {
    const id = `GHSA-bench-${String(i).padStart(5, '0')}`;
    const record = {
      schema_version: '1.6.0',
      id,
      modified: '2024-06-01T00:00:00Z',
      published: '2024-01-01T00:00:00Z',
      aliases: [`CVE-2024-${10000 + i}`],
      summary: `Generated vulnerability ${i}`,
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      affected: [{ package: { ecosystem: 'npm', name: `pkg-${int(PACKAGES)}` }, ranges: ranges() }],
      database_specific: { severity: 'HIGH' },
    };
    writeFileSync(join(dir, `${id}.json`), JSON.stringify(record));
  }
}

// A few components have no records at all (names beyond PACKAGES), as in a real tree.
const targets: ScanTarget[] = Array.from({ length: COMPONENTS }, (_, i) => ({
  ref: `c${i}`,
  purl: `pkg:npm/pkg-${int(PACKAGES * 1.2)}@${version()}`,
}));

const dbPath = workPath('scan-bench.db');
for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
const db = openVulnDb(dbPath, { create: true });
let t = performance.now();
const first = await importOsv(db, dir);
const importMs = performance.now() - t;
t = performance.now();
const second = await importOsv(db, dir);
const reimportMs = performance.now() - t;
db.close();
if (first.added !== RECORDS || second.unchanged !== RECORDS) throw new Error('unexpected import counts');

// Reference store: every record read, parsed and indexed in a Map, no database.
t = performance.now();
const byName = new Map<string, OsvRecord[]>();
for (const f of readdirSync(dir)) {
  const r = parseOsv(JSON.parse(readFileSync(join(dir, f), 'utf8')), f);
  for (const a of r.affected) {
    const list = byName.get(a.name) ?? [];
    list.push(r);
    byName.set(a.name, list);
  }
}
const loadMs = performance.now() - t;

let ours = 0;
const scanMs = await bestTime(() => {
  const store = openVulnDb(dbPath);
  ours = scanComponents(targets, store.lookup).findings.length;
  store.close();
});
let theirs = 0;
const refMs = await bestTime(() => {
  theirs = scanComponents(targets, (_ecosystem, name) => byName.get(name) ?? []).findings.length;
});
if (ours !== theirs) throw new Error(`findings differ: ${ours} vs ${theirs}`);

console.log(
  `import ${RECORDS} records: ${(importMs / 1000).toFixed(2)} s (${Math.round(RECORDS / (importMs / 1000))}/s); ` +
    `re-import, all unchanged: ${(reimportMs / 1000).toFixed(2)} s; ${ours} findings in ${COMPONENTS} components`,
);
console.log(
  `scan after import: ${scanMs.toFixed(0)} ms (target < 1000 ms: ${scanMs < 1000 ? 'met' : 'MISSED'})`,
);
report('scan: 10,000 components × 50,000 OSV records', [
  {
    name: 'import (SQLite) vs in-memory load',
    value: `${(importMs / 1000).toFixed(2)} s`,
    reference: `${(loadMs / 1000).toFixed(2)} s`,
    ratio: loadMs / importMs,
  },
  {
    name: 'scan (SQLite lookups) vs in-memory Map',
    value: `${scanMs.toFixed(0)} ms`,
    reference: `${refMs.toFixed(0)} ms`,
    ratio: refMs / scanMs,
  },
]);
