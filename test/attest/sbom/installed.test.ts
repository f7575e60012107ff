import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { installedLicense } from '../../../src/attest/sbom/installed.js';
import { readLockfile } from '../../../src/attest/sbom/lockfile.js';
import { isVouchError } from '../../../src/core/index.js';
import { expectCode, tempDir } from '../../helpers.js';

const MAIN = resolve(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts');

/** An npm v3 lockfile of `n` registry packages without licences, each installed with an MIT package.json. */
function installedTree(n: number): string {
  const dir = tempDir();
  const packages: Record<string, unknown> = { '': { name: 'many', version: '1.0.0' } };
  for (let i = 0; i < n; i++) {
    const name = `p${i}`;
    packages[`node_modules/${name}`] = {
      version: '1.0.0',
      resolved: `https://registry.npmjs.org/${name}/-/${name}-1.0.0.tgz`,
    };
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    writeFileSync(
      join(dir, 'node_modules', name, 'package.json'),
      JSON.stringify({ name, version: '1.0.0', license: 'MIT' }),
    );
  }
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'many', version: '1.0.0', lockfileVersion: 3, packages }),
  );
  return dir;
}

describe('installed licences', () => {
  it('a missing package.json (or a missing folder on the way) is absent, not an error', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), '');
    assert.equal(await installedLicense(join(dir, 'nope', 'package.json'), '1.0.0'), undefined);
    assert.equal(await installedLicense(join(dir, 'file', 'package.json'), '1.0.0'), undefined);
  });

  it('any other read failure is ERR_INPUT_UNREADABLE naming the file', async () => {
    const dir = tempDir();
    const path = join(dir, 'package.json');
    mkdirSync(path); // EISDIR
    await expectCode(() => installedLicense(path, '1.0.0'), 'ERR_INPUT_UNREADABLE');
    try {
      await installedLicense(path, '1.0.0');
    } catch (e) {
      assert.ok(isVouchError(e));
      assert.ok(e.message.includes(path), e.message);
    }
  });

  it('a read failure fails the whole lockfile read instead of dropping the licence', async () => {
    const dir = installedTree(3);
    const broken = join(dir, 'node_modules', 'p1', 'package.json');
    rmSync(broken);
    mkdirSync(broken); // EISDIR
    await expectCode(() => readLockfile({ dir }), 'ERR_INPUT_UNREADABLE');
  });

  it('every licence is read under a small descriptor limit (ulimit -n 128, 600 packages)', () => {
    const dir = installedTree(600);
    const r = spawnSync(
      'bash',
      ['-c', 'ulimit -n 128 && exec "$0" --import tsx "$1" sbom "$2"', process.execPath, MAIN, dir],
      { encoding: 'utf8', env: { PATH: process.env['PATH'] } },
    );
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { components: { licenses?: unknown[] }[] };
    assert.equal(doc.components.length, 600);
    assert.equal(doc.components.filter((c) => c.licenses !== undefined).length, 600);
  });
});
