import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir, VECTORS } from '../helpers.js';
import { vouch, vouchProcess } from './harness.js';

const LOCKFILES = join(VECTORS, 'lockfiles');
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };

function project(): string {
  const dir = tempDir('vouch-sbom-cli-');
  copyFileSync(join(LOCKFILES, 'npm-v3.slsa-verifier.package-lock.json'), join(dir, 'package-lock.json'));
  copyFileSync(join(LOCKFILES, 'npm-v3.slsa-verifier.package.json'), join(dir, 'package.json'));
  return dir;
}

/** A two-package lockfile v3 whose `ms` has no licence in the lockfile but one in node_modules. */
function tinyProject(): string {
  const dir = tempDir('vouch-sbom-tiny-');
  const lock = {
    name: 'tiny',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'tiny', version: '1.0.0', dependencies: { ms: '^2.1.3' } },
      'node_modules/ms': {
        version: '2.1.3',
        resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz',
        integrity:
          'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
      },
    },
  };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'tiny', version: '1.0.0', dependencies: { ms: '^2.1.3' } }),
  );
  mkdirSync(join(dir, 'node_modules', 'ms'), { recursive: true });
  writeFileSync(
    join(dir, 'node_modules', 'ms', 'package.json'),
    JSON.stringify({ name: 'ms', version: '2.1.3', license: 'MIT' }),
  );
  return dir;
}

describe('vouch sbom', () => {
  it('writes CycloneDX to stdout and a summary to stderr', async () => {
    const dir = project();
    const r = await vouch(['sbom', dir], EPOCH);
    assert.equal(r.code, 0, r.stderr);
    const bom = JSON.parse(r.stdout);
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.equal(bom.components.length, 876);
    assert.ok(r.stdout.endsWith('}\n'));
    assert.ok(r.stdout.startsWith('{\n  "$schema"'));
    assert.equal(
      r.stderr,
      `CycloneDX 1.6: 876 components from ${join(dir, 'package-lock.json')} (npm lockfile v3)\n`,
    );
  });

  it('--format spdx --output writes the file (same bytes as stdout) and prints the summary', async () => {
    const dir = project();
    const out = join(dir, 'sbom.spdx.json');
    const r = await vouch(['sbom', dir, '--format', 'spdx', '--output', out], EPOCH);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^SPDX 2\.3: 876 components from .*package-lock\.json \(npm lockfile v3\)\n {2}written to .*sbom\.spdx\.json\n$/,
    );
    const toStdout = await vouch(['sbom', dir, '--format', 'spdx'], EPOCH);
    assert.equal(readFileSync(out, 'utf8'), toStdout.stdout);
    assert.equal(JSON.parse(toStdout.stdout).spdxVersion, 'SPDX-2.3');
  });

  it('--json gives the summary as JSON; an existing output needs --force', async () => {
    const dir = project();
    const out = join(dir, 'bom.json');
    const lock = join(dir, 'package-lock.json');
    const r = await vouch(['sbom', '--lockfile', lock, '--output', out, '--json'], EPOCH);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(
      { ...j, lockfile: { ...j.lockfile, sha256: 'x' } },
      {
        ok: true,
        output: out,
        format: 'cyclonedx',
        components: 876,
        lockfile: { path: lock, type: 'npm', version: '3', sha256: 'x' },
      },
    );
    assert.match(j.lockfile.sha256, /^[0-9a-f]{64}$/);
    const again = await vouch(['sbom', '--lockfile', lock, '--output', out, '--json'], EPOCH);
    assert.equal(again.code, 2);
    assert.equal(JSON.parse(again.stdout).error.code, 'ERR_OUTPUT_EXISTS');
    const forced = await vouch(['sbom', '--lockfile', lock, '--output', out, '--force'], EPOCH);
    assert.equal(forced.code, 0, forced.stderr);
  });

  it('reads licences from node_modules unless --no-installed', async () => {
    const dir = tinyProject();
    const withInstalled = JSON.parse((await vouch(['sbom', dir], EPOCH)).stdout);
    const ms = withInstalled.components.find((c: { name: string }) => c.name === 'ms');
    assert.deepEqual(ms.licenses, [{ license: { id: 'MIT', acknowledgement: 'declared' } }]);
    assert.deepEqual(ms.properties, [{ name: 'vouch:license:source', value: 'package.json' }]);
    const without = JSON.parse((await vouch(['sbom', dir, '--no-installed'], EPOCH)).stdout);
    assert.equal(without.components.find((c: { name: string }) => c.name === 'ms').licenses, undefined);
  });

  it('usage errors: unknown --format, bad --timestamp (exit 2)', async () => {
    const dir = project();
    const f = await vouch(['sbom', dir, '--format', 'swid']);
    assert.equal(f.code, 2);
    assert.match(f.stderr, /--format must be cyclonedx or spdx, got "swid" \[ERR_USAGE\]/);
    const t = await vouch(['sbom', dir, '--timestamp', 'noon']);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /\[ERR_USAGE\]/);
  });

  it('input errors: no lockfile, a corrupt lockfile (exit 3, coded, the file named)', async () => {
    const empty = tempDir('vouch-sbom-empty-');
    const none = await vouch(['sbom', empty]);
    assert.equal(none.code, 3);
    assert.match(none.stderr, /\[ERR_LOCKFILE_NOT_FOUND\]/);
    const bad = join(empty, 'package-lock.json');
    writeFileSync(bad, '{"lockfileVersion": 3, "packages": {');
    const corrupt = await vouch(['sbom', empty, '--json']);
    assert.equal(corrupt.code, 3);
    const err = JSON.parse(corrupt.stdout).error;
    assert.match(err.code, /^ERR_(LOCKFILE_MALFORMED|JSON_PARSE)$/);
    assert.match(err.message, /package-lock\.json/);
  });

  it('runs as a real process', () => {
    const dir = project();
    const out = join(dir, 'sbom.spdx.json');
    const r = vouchProcess(['sbom', dir, '--format', 'spdx', '--no-installed', '--output', out], EPOCH);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(readFileSync(out, 'utf8')).packages.length, 877);
    assert.match(r.stdout, /^SPDX 2\.3: 876 components from /);
  });
});
