import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir, VECTORS } from '../helpers.js';
import { vouch } from './harness.js';

const dir = tempDir();
const db = join(dir, 'v.db');
const sbom = join(dir, 'bom.json');

function component(name: string, version: string, purl?: string) {
  return {
    type: 'library',
    'bom-ref': `${name}@${version}`,
    name,
    version,
    purl: purl ?? `pkg:npm/${name}@${version}`,
  };
}

before(async () => {
  // The vector records only: the collector's expected-matches.json is no record and would fail the import.
  const osv = join(dir, 'osv');
  mkdirSync(osv);
  for (const f of readdirSync(join(VECTORS, 'osv')).filter((n) => n.startsWith('GHSA-'))) {
    copyFileSync(join(VECTORS, 'osv', f), join(osv, f));
  }
  const r = await vouch(['vuln', 'db', 'import', osv, '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(
    sbom,
    JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      metadata: { component: { type: 'application', 'bom-ref': 'app', name: 'app', version: '1.0.0' } },
      components: [
        component('lodash', '4.17.11'),
        component('minimist', '1.2.5'),
        component('ws', '8.17.1'),
        component('semver', '7.5.1'),
        { type: 'library', 'bom-ref': 'nopurl', name: 'nopurl', version: '1.0.0' },
      ],
    }),
  );
});

const VEX = {
  '@context': 'https://openvex.dev/ns/v0.2.0',
  '@id': 'https://example.com/vex/app-1',
  author: 'app team',
  timestamp: '2024-05-01T00:00:00Z',
  version: 1,
  statements: [
    {
      vulnerability: { name: 'CVE-2021-44906' },
      products: [{ '@id': 'pkg:npm/minimist' }],
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
    },
  ],
};

test('scan: human table sorted by package, severity and fixed version, summary line', async () => {
  const r = await vouch(['scan', sbom, '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^PACKAGE\s+VERSION\s+ID\s+SEVERITY\s+FIXED IN\s+STATUS$/);
  assert.match(
    lines[1] ?? '',
    /^lodash\s+4\.17\.11\s+GHSA-jf85-cpcp-j695\s+CRITICAL 9\.\d\s+4\.17\.12\s+affected$/,
  );
  assert.match(
    lines[2] ?? '',
    /^minimist\s+1\.2\.5\s+GHSA-xvch-5gv4-984h\s+CRITICAL 9\.8\s+1\.2\.6\s+affected$/,
  );
  assert.match(lines[3] ?? '', /^semver\s+7\.5\.1\s+GHSA-c2qf-rxjj-qqgw\s+\S+ \d\.\d\s+7\.5\.2\s+affected$/);
  assert.equal(
    lines[4],
    '3 vulnerabilities (0 suppressed by VEX) in 3 of 5 components; 1 without a purl Vouch can match were not scanned',
  );
});

test('scan --vex --output: predicate file (in-toto vulns v0.2) says which finding VEX suppressed', async () => {
  const vex = join(dir, 'vex.json');
  writeFileSync(vex, JSON.stringify(VEX));
  const out = join(dir, 'vulns.json');
  const r = await vouch(['scan', sbom, '--db', db, '--vex', vex, '--output', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.predicateType, 'https://in-toto.io/attestation/vulns/v0.2');
  assert.deepEqual(j.summary, {
    components: 5,
    unscanned: 1,
    notFullyScanned: 0,
    findings: 3,
    suppressed: 1,
  });
  const p = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(p, j.predicate);
  assert.equal(p.scanner.uri, 'pkg:npm/vouch@0.1.0');
  assert.match(p.scanner.db.version, /^sha256:/);
  assert.ok(Date.parse(p.scanner.db.lastUpdate) > 0);
  assert.ok(Date.parse(p.metadata.scanStartedOn) <= Date.parse(p.metadata.scanFinishedOn));
  const minimist = p.scanner.result.find((x: { id: string }) => x.id === 'GHSA-xvch-5gv4-984h');
  assert.deepEqual(minimist.severity, [
    { method: 'CVSSv31', score: '9.8' },
    { method: 'rating', score: 'CRITICAL' },
  ]);
  assert.deepEqual(minimist.annotations, [
    { purl: 'pkg:npm/minimist@1.2.5' },
    { ref: 'minimist@1.2.5' },
    { aliases: ['CVE-2021-44906'] },
    { fixedIn: '1.2.6' },
    { vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
    { summary: 'Prototype Pollution in minimist' },
    { suppressed: true },
    { vexDocument: 'https://example.com/vex/app-1' },
    { vexStatus: 'not_affected' },
    { vexJustification: 'vulnerable_code_not_in_execute_path' },
  ]);
  const human = await vouch(['scan', sbom, '--db', db, '--vex', vex]);
  assert.match(human.stdout, /minimist .*not_affected \(VEX: vulnerable_code_not_in_execute_path\)/);
});

test('scan --fail-on: exit 1 only for unsuppressed findings at or above the level', async () => {
  const vex = join(dir, 'vex-all.json');
  writeFileSync(
    vex,
    JSON.stringify({
      ...VEX,
      statements: ['CVE-2021-44906', 'CVE-2019-10744', 'CVE-2022-25883'].map((name) => ({
        ...VEX.statements[0],
        vulnerability: { name },
        products: [{ '@id': 'pkg:npm/minimist' }, { '@id': 'pkg:npm/lodash' }, { '@id': 'pkg:npm/semver' }],
      })),
    }),
  );
  const fail = await vouch(['scan', sbom, '--db', db, '--fail-on', 'critical']);
  assert.equal(fail.code, 1);
  assert.match(fail.stdout, /^PACKAGE/);
  assert.match(
    fail.stderr,
    /2 vulnerabilities at or above critical not suppressed by VEX.*\[ERR_VULNS_FOUND\]/,
  );
  const ok = await vouch(['scan', sbom, '--db', db, '--fail-on', 'low', '--vex', vex]);
  assert.equal(ok.code, 0, ok.stderr);
  const json = await vouch(['scan', sbom, '--db', db, '--fail-on', 'high', '--json']);
  assert.equal(json.code, 1);
  assert.equal(JSON.parse(json.stdout).error.code, 'ERR_VULNS_FOUND');
  const bad = await vouch(['scan', sbom, '--db', db, '--fail-on', 'severe']);
  assert.equal(bad.code, 2);
});

test('scan: missing database tells to import; malformed VEX and SBOM are coded input errors', async () => {
  const r = await vouch(['scan', sbom, '--db', join(dir, 'none.db')]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /vouch vuln db import.*\[ERR_VULN_DB\]/);
  const badVex = join(dir, 'bad-vex.json');
  writeFileSync(badVex, JSON.stringify({ ...VEX, statements: [{ ...VEX.statements[0], status: 'nope' }] }));
  const v = await vouch(['scan', sbom, '--db', db, '--vex', badVex]);
  assert.equal(v.code, 3);
  assert.match(v.stderr, /statements\[0\]\.status.*\[ERR_VEX_MALFORMED\]/);
  const badSbom = join(dir, 'bad-sbom.json');
  writeFileSync(badSbom, '{"bomFormat": "CycloneDX"');
  assert.equal((await vouch(['scan', badSbom, '--db', db])).code, 3);
});

test("scan --vex: another product's subcomponent statement suppresses nothing unless --vex-product names it", async () => {
  const vex = join(dir, 'vex-other.json');
  writeFileSync(
    vex,
    JSON.stringify({
      ...VEX,
      statements: [
        {
          ...VEX.statements[0],
          vulnerability: { name: 'CVE-2019-10744' },
          products: [{ '@id': 'pkg:oci/other-image', subcomponents: [{ '@id': 'pkg:npm/lodash' }] }],
        },
      ],
    }),
  );
  const gate = ['scan', sbom, '--db', db, '--vex', vex, '--fail-on', 'critical', '--json'];
  const r = await vouch(gate);
  assert.equal(r.code, 1);
  assert.match(JSON.parse(r.stdout).error.message, /^2 vulnerabilities/);
  const mine = await vouch([
    ...gate.slice(0, -3),
    '--vex-product',
    'pkg:oci/other-image@sha256%3Aabc',
    '--json',
  ]);
  assert.equal(mine.code, 0, mine.stderr);
  assert.equal(JSON.parse(mine.stdout).summary.suppressed, 1);
  const bad = await vouch([...gate.slice(0, -3), '--vex-product', 'lodash']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--vex-product must be a package URL/);
});

test('scan refuses (exit 3, ERR_VULN_DB) an empty database file and one whose import did not finish', async () => {
  const empty = join(dir, 'empty.db');
  writeFileSync(empty, '');
  const r = await vouch(['scan', sbom, '--db', empty, '--fail-on', 'low']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /is empty.*\[ERR_VULN_DB\]/);
  assert.equal(readFileSync(empty).length, 0);
  const half = join(dir, 'half.db');
  const imported = await vouch([
    'vuln',
    'db',
    'import',
    join(VECTORS, 'osv', 'GHSA-jf85-cpcp-j695.json'),
    '--db',
    half,
  ]);
  assert.equal(imported.code, 0, imported.stderr);
  const raw = new Database(half);
  raw.prepare("INSERT INTO meta (key, value) VALUES ('import_started', '2024-01-01T00:00:00.000Z')").run();
  raw.close();
  const s = await vouch(['scan', sbom, '--db', half]);
  assert.equal(s.code, 3);
  assert.match(s.stderr, /import started at 2024-01-01T00:00:00\.000Z that did not finish.*\[ERR_VULN_DB\]/);
});

test('scan: a cargo component whose records need a version order is "not fully scanned"; --fail-on denies it', async () => {
  const rec = join(dir, 'RUSTSEC-2099-0001.json');
  writeFileSync(
    rec,
    JSON.stringify({
      id: 'RUSTSEC-2099-0001',
      modified: '2024-01-01T00:00:00Z',
      affected: [
        {
          package: { ecosystem: 'crates.io', name: 'smallvec' },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.6.1' }] }],
        },
      ],
    }),
  );
  const cdb = join(dir, 'cargo.db');
  assert.equal((await vouch(['vuln', 'db', 'import', rec, '--db', cdb])).code, 0);
  const bom = join(dir, 'cargo-bom.json');
  writeFileSync(
    bom,
    JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      components: [component('smallvec', '1.6.0', 'pkg:cargo/smallvec@1.6.0')],
    }),
  );
  const out = join(dir, 'cargo-vulns.json');
  const r = await vouch(['scan', bom, '--db', cdb, '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout.split('\n')[0],
    '0 vulnerabilities (0 suppressed by VEX) in 0 of 1 components; 1 not fully scanned',
  );
  assert.match(
    r.stderr,
    /^warning: 1 components not fully scanned: .*\(crates\.io\): smallvec@1\.6\.0 \(RUSTSEC-2099-0001\)\n$/,
  );
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')).metadata.notFullyScanned, [
    { purl: 'pkg:cargo/smallvec@1.6.0', ref: 'smallvec@1.6.0', ids: ['RUSTSEC-2099-0001'] },
  ]);
  const gate = await vouch(['scan', bom, '--db', cdb, '--fail-on', 'critical', '--json']);
  assert.equal(gate.code, 1);
  assert.equal(JSON.parse(gate.stdout).error.code, 'ERR_SCAN_INCOMPLETE');
});
