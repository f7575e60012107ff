// The executable users run is the esbuild bundle of src/cli (decision 013), not the tsc output the other CLI
// tests load. Bundle the current source and check that it behaves as the in-process CLI does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundleCli } from '../../scripts/bundle-cli.js';
import { VERSION } from '../../src/cli/version.js';
import { tempDir, VECTORS } from '../helpers.js';
import { vouch } from './harness.js';

const REPO = resolve(import.meta.dirname, '..', '..');

describe('the bundled vouch executable', () => {
  // Inside the package: the bundle's external dependencies resolve from its node_modules.
  const cache = join(REPO, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'vouch-bundle-'));
  const bin = join(out, 'vouch.js');
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [bin, ...args], {
      env: { PATH: process.env['PATH'], ...env },
      encoding: 'utf8',
    });

  before(() => bundleCli(out));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('is vouch.js, core.js and one file per command; only core.js is shared', () => {
    const commands = readdirSync(join(REPO, 'src', 'cli', 'commands')).map((f) => f.replace(/\.ts$/, '.js'));
    assert.deepEqual(readdirSync(out).sort(), ['core.js', 'vouch.js', ...commands].sort());
    assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    for (const f of commands) {
      const local = [...readFileSync(join(out, f), 'utf8').matchAll(/from "(\.[^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual([...new Set(local)], ['./core.js'], f);
    }
  });

  it('prints its version and exits 2 on a usage error', () => {
    const v = run(['--version']);
    assert.equal(v.status, 0);
    assert.equal(v.stdout.trim(), VERSION);
    const bad = run(['sbom', '--format', 'xml', '.']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--format must be cyclonedx or spdx/);
  });

  it('writes the same SBOM bytes as the in-process CLI', async () => {
    const dir = tempDir();
    copyFileSync(
      join(VECTORS, 'lockfiles', 'npm-v3.slsa-verifier.package-lock.json'),
      join(dir, 'package-lock.json'),
    );
    copyFileSync(join(VECTORS, 'lockfiles', 'npm-v3.slsa-verifier.package.json'), join(dir, 'package.json'));
    const args = ['sbom', dir, '--timestamp', '2024-05-01T00:00:00Z'];
    const bundled = run(args);
    const inProcess = await vouch(args);
    assert.equal(bundled.status, 0, bundled.stderr);
    assert.equal(inProcess.code, 0);
    assert.equal(bundled.stdout, inProcess.stdout);
    assert.equal(JSON.parse(bundled.stdout).components.length, 876);
  });

  it('loads its lazy dependencies: keygen, sign and verify round-trip', () => {
    const dir = tempDir();
    const env = { VOUCH_PASSWORD: 'bundle-test-passphrase' };
    const key = join(dir, 'k');
    const artifact = join(dir, 'a.txt');
    copyFileSync(join(REPO, 'package.json'), artifact);
    assert.equal(run(['keygen', '--out', key], env).status, 0);
    const sign = run(['sign', artifact, '--key', `${key}.key`, '--bundle', join(dir, 'a.bundle')], env);
    assert.equal(sign.status, 0, sign.stderr);
    const ok = run(['verify', artifact, '--key', `${key}.pub`, '--bundle', join(dir, 'a.bundle')]);
    assert.equal(ok.status, 0, ok.stderr);
    copyFileSync(bin, artifact);
    const tampered = run([
      'verify',
      artifact,
      '--key',
      `${key}.pub`,
      '--bundle',
      join(dir, 'a.bundle'),
      '--json',
    ]);
    assert.equal(tampered.status, 1);
    assert.equal(JSON.parse(tampered.stdout).error.code, 'ERR_DIGEST_MISMATCH');
  });

  it('stops quietly when its reader closes the pipe (`vouch --help | head -1`)', () => {
    const r = spawnSync(
      'bash',
      ['-o', 'pipefail', '-c', `"${process.execPath}" "${bin}" --help | head -c 1`],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.stdout, 'U');
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
  });
});
