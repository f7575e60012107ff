import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readLockfile } from '../../../src/attest/sbom/lockfile.js';
import type { PackageGraph } from '../../../src/attest/sbom/model.js';
import { isVouchError } from '../../../src/core/index.js';
import { expectCode, tempDir } from '../../helpers.js';
import { FIX, LOCKS, node } from './reader-fixture.js';

/** The (name, version) pairs, as `@cyclonedx/cyclonedx-npm --package-lock-only` counts components. */
function pairs(g: PackageGraph): Set<string> {
  return new Set([...g.packages.values()].map((n) => `${n.name}@${n.version}`));
}

async function rejection(fn: () => Promise<unknown>): Promise<Error & { code: string; details?: unknown }> {
  try {
    await fn();
  } catch (e) {
    assert.ok(isVouchError(e), String(e));
    return e;
  }
  assert.fail('expected a rejection');
}

describe('npm package-lock.json v3 (slsa-verifier, 977 entries)', async () => {
  const lockfile = join(LOCKS, 'npm-v3.slsa-verifier.package-lock.json');
  const g = await readLockfile({ lockfile, packageJson: join(LOCKS, 'npm-v3.slsa-verifier.package.json') });

  it('records the lockfile and its digest', () => {
    assert.deepEqual(g.lockfile, {
      path: lockfile,
      type: 'npm',
      version: '3',
      sha256: createHash('sha256').update(readFileSync(lockfile)).digest('hex'),
    });
  });

  it('has one node per (name, version): 976 installs, 876 distinct, as cyclonedx-npm reports', () => {
    assert.equal(g.packages.size, 876);
    assert.equal(pairs(g).size, 876);
  });

  it('takes the root name from the lockfile when package.json has none', () => {
    assert.equal(g.root.id, 'pkg:npm/slsa-verifier');
    assert.equal(g.root.version, '');
    assert.equal(g.root.kind, 'root');
    assert.deepEqual(g.root.dependencies, ['pkg:npm/markdown-toc@1.2.0', 'pkg:npm/renovate@37.374.1']);
  });

  it('encodes scopes in purls, decodes SRI to hex, keeps resolved and flags', () => {
    const n = node(g, 'pkg:npm/%40aws-crypto/crc32@3.0.0');
    assert.equal(n.name, '@aws-crypto/crc32');
    assert.equal(n.purl, n.id);
    assert.equal(n.resolved, 'https://registry.npmjs.org/@aws-crypto/crc32/-/crc32-3.0.0.tgz');
    assert.deepEqual(n.hashes, [
      {
        alg: 'SHA-512',
        hex: Buffer.from(
          'IzSgsrxUcsrejQbPVilIKy16kAT52EwB6zSaI+M3xxIhKh5+aldEyvI+z6erM7TCLB2BJsFrtHjp6/4/sr+3dA==',
          'base64',
        ).toString('hex'),
      },
    ]);
    assert.equal(n.dev, true);
    assert.equal(n.optional, false);
  });

  it('resolves a nested duplicate by the Node lookup (nearest node_modules first)', () => {
    assert.ok(g.packages.has('pkg:npm/tslib@2.6.2'));
    const crc = node(g, 'pkg:npm/%40aws-crypto/crc32@3.0.0');
    assert.deepEqual(crc.dependencies, [
      'pkg:npm/%40aws-crypto/util@3.0.0',
      'pkg:npm/%40aws-sdk/types@3.535.0',
      'pkg:npm/tslib@1.14.1',
    ]);
  });

  it('merges npm aliases into the real package', () => {
    const alias = node(g, 'pkg:npm/string-width@4.2.3');
    assert.equal(alias.name, 'string-width');
    assert.equal([...g.packages.values()].filter((n) => n.name === 'string-width-cjs').length, 0);
  });

  it('marks dev + optional packages', () => {
    const n = node(g, 'pkg:npm/%40npmcli/agent@2.2.2');
    assert.equal(n.dev, true);
    assert.equal(n.optional, true);
    assert.equal([...g.packages.values()].filter((p) => p.optional).length, 73);
  });

  it('takes licences from the lockfile where it records them', () => {
    const n = node(g, 'pkg:npm/markdown-toc@1.2.0');
    assert.equal(n.license, 'MIT');
    assert.equal(n.licenseSource, 'lockfile');
  });

  it('is deterministic: ids sorted, dependencies sorted, same graph twice', async () => {
    const ids = [...g.packages.keys()];
    assert.deepEqual(ids, [...ids].sort());
    for (const n of g.packages.values())
      assert.deepEqual(n.dependencies, [...new Set(n.dependencies)].sort());
    const again = await readLockfile({
      lockfile,
      packageJson: join(LOCKS, 'npm-v3.slsa-verifier.package.json'),
    });
    assert.deepEqual(again, g);
  });
});

describe('npm package-lock.json v2 (slsa-verifier installer)', async () => {
  const lockfile = join(LOCKS, 'npm-v2.slsa-verifier-installer.package-lock.json');
  const g = await readLockfile({ lockfile });

  it('counts 306 distinct packages; root from the lockfile root entry', () => {
    assert.equal(g.lockfile.version, '2');
    assert.equal(g.packages.size, 306);
    assert.equal(pairs(g).size, 306);
    assert.equal(g.root.id, 'pkg:npm/setup-slsa-verifier@0.0.1');
    assert.equal(g.root.dependencies.length, 15);
  });

  it('keeps production dependencies unflagged with their edges', () => {
    const n = node(g, 'pkg:npm/%40actions/core@1.11.1');
    assert.equal(n.dev, false);
    assert.equal(n.optional, false);
    assert.deepEqual(n.dependencies, [
      'pkg:npm/%40actions/exec@1.1.1',
      'pkg:npm/%40actions/http-client@2.2.1',
    ]);
    assert.equal([...g.packages.values()].filter((p) => p.dev).length, 276);
  });
});

describe('npm workspaces, aliases, git, file and bundled dependencies', async () => {
  const dir = join(FIX, 'npm-workspaces');
  const g = await readLockfile({ dir });
  const ws = (id: string) => node(g, id);

  it('finds package-lock.json and package.json in the folder', () => {
    assert.equal(g.lockfile.path, join(dir, 'package-lock.json'));
    assert.equal(g.root.id, 'pkg:npm/mono@1.0.0');
    assert.equal(g.root.license, 'MIT');
    assert.equal(g.root.licenseSource, 'package.json');
  });

  it('makes workspace folders workspace nodes, reached from the root through their links', () => {
    assert.equal(ws('pkg:npm/%40scope/a@0.0.1').kind, 'workspace');
    assert.equal(ws('pkg:npm/b@0.0.2').license, 'Apache-2.0');
    assert.deepEqual(g.root.dependencies, [
      'pkg:npm/%40scope/a@0.0.1',
      'pkg:npm/b@0.0.2',
      'pkg:npm/fsevents@2.3.3',
      'pkg:npm/gitdep@2.0.0?vcs_url=git%2Bssh%3A%2F%2Fgit%40github.com%2Fowner%2Fgitdep.git%23abc123',
      'pkg:npm/left-pad@1.3.0',
      'pkg:npm/local@0.1.0',
      'pkg:npm/tool@1.0.0',
    ]);
  });

  it('resolves a workspace dependency to its own nested copy first, and dev deps of workspaces', () => {
    assert.deepEqual(ws('pkg:npm/%40scope/a@0.0.1').dependencies, [
      'pkg:npm/b@0.0.2',
      'pkg:npm/shared@1.0.0',
      'pkg:npm/tool@1.0.0',
    ]);
    assert.deepEqual(ws('pkg:npm/b@0.0.2').dependencies, ['pkg:npm/shared@2.0.0']);
    assert.equal(ws('pkg:npm/shared@2.0.0').license, 'MIT');
  });

  it('dedupes an alias with the package it names (one node, same hashes)', () => {
    assert.equal([...g.packages.values()].filter((n) => n.name === 'left-pad').length, 1);
    assert.equal(ws('pkg:npm/left-pad@1.3.0').license, 'WTFPL');
  });

  it('qualifies git packages with vcs_url and leaves file: packages local', () => {
    const git = [...g.packages.values()].find((n) => n.name === 'gitdep');
    assert.equal(git?.resolved, 'git+ssh://git@github.com/owner/gitdep.git#abc123');
    assert.deepEqual(git?.dependencies, ['pkg:npm/left-pad@1.3.0']);
    assert.equal(ws('pkg:npm/local@0.1.0').kind, 'package');
  });

  it('reads bundled dependencies from the bundling package folder; skips missing peers', () => {
    assert.deepEqual(ws('pkg:npm/tool@1.0.0').dependencies, [
      'pkg:npm/bundled@3.0.0',
      'pkg:npm/devopt@1.0.0',
    ]);
    assert.equal(ws('pkg:npm/bundled@3.0.0').dev, true);
  });

  it('maps devOptional to neither flag, keeps several SRI digests', () => {
    const n = ws('pkg:npm/devopt@1.0.0');
    assert.equal(n.dev, false);
    assert.equal(n.optional, false);
    assert.deepEqual(
      n.hashes.map((h) => h.alg),
      ['SHA-512', 'SHA-1'],
    );
    assert.equal(ws('pkg:npm/fsevents@2.3.3').optional, true);
  });
});

describe('npm licences from installed packages', () => {
  it('reads node_modules/<path>/package.json when the version matches', async () => {
    const dir = tempDir();
    copyFileSync(join(FIX, 'npm-workspaces', 'package-lock.json'), join(dir, 'package-lock.json'));
    const put = (path: string, json: unknown) => {
      mkdirSync(join(dir, path), { recursive: true });
      writeFileSync(join(dir, path, 'package.json'), JSON.stringify(json));
    };
    put('node_modules/devopt', { version: '1.0.0', licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] });
    put('node_modules/fsevents', { version: '9.9.9', license: 'MIT' });
    put('packages/a/node_modules/shared', { version: '1.0.0', license: { type: 'BSD-3-Clause' } });
    const g = await readLockfile({ dir });
    assert.equal(g.packages.get('pkg:npm/devopt@1.0.0')?.license, 'MIT OR Apache-2.0');
    assert.equal(g.packages.get('pkg:npm/devopt@1.0.0')?.licenseSource, 'package.json');
    assert.equal(g.packages.get('pkg:npm/shared@1.0.0')?.license, 'BSD-3-Clause');
    assert.equal(
      g.packages.get('pkg:npm/fsevents@2.3.3')?.license,
      undefined,
      'version mismatch is not evidence',
    );
    assert.equal(g.packages.get('pkg:npm/left-pad@1.3.0')?.licenseSource, 'lockfile');
    const off = await readLockfile({ dir, installed: false });
    assert.equal(off.packages.get('pkg:npm/devopt@1.0.0')?.license, undefined);
  });
});

describe('npm lockfile errors', () => {
  it('refuses v1 with a hint to upgrade', async () => {
    const e = await rejection(() => readLockfile({ lockfile: join(FIX, 'npm-v1.package-lock.json') }));
    assert.equal(e.code, 'ERR_LOCKFILE_VERSION');
    assert.match(e.message, /npm-v1\.package-lock\.json:4: lockfile version 1 .*--lockfile-version 3/);
  });

  it('refuses an unknown lockfileVersion', async () => {
    await expectCode(
      () => readLockfile({ lockfile: join(FIX, 'npm-v4.package-lock.json') }),
      'ERR_LOCKFILE_VERSION',
    );
  });

  it('names the file and the last line of a truncated lockfile', async () => {
    const path = join(FIX, 'npm-truncated.package-lock.txt');
    const e = await rejection(() => readLockfile({ lockfile: path }));
    assert.equal(e.code, 'ERR_LOCKFILE_MALFORMED');
    const lines = readFileSync(path, 'utf8').split('\n').length;
    assert.ok(e.message.startsWith(`${path}:${lines}: not valid JSON`), e.message);
  });

  it('names the line of an entry of the wrong type', async () => {
    const path = join(FIX, 'npm-wrong-type.package-lock.json');
    const e = await rejection(() => readLockfile({ lockfile: path }));
    assert.equal(e.code, 'ERR_LOCKFILE_MALFORMED');
    assert.equal(e.message, `${path}:10: packages["node_modules/a"].version must be a string`);
  });

  it('codes syntax errors, wrong shapes and bad integrity', async () => {
    const dir = tempDir();
    const cases: [string, string, number][] = [
      ['{\n  "lockfileVersion": 3,\n  "packages": {,}\n}', 'not valid JSON', 3],
      ['[]', 'the top level must be a JSON object', 1],
      ['{"lockfileVersion": 3, "packages": []}', '"packages" must be an object', 1],
      ['{"lockfileVersion": 3, "packages": {"node_modules/a": 5}}', 'must be an object', 1],
      [
        '{"lockfileVersion": 3,\n"packages": {"node_modules/a": {"dependencies": {"b": 1}}}}',
        '.dependencies["b"] must be a string',
        2,
      ],
      [
        '{"lockfileVersion": 3,\n"packages": {"node_modules/a": {"integrity": "sha512-@@@"}}}',
        'not valid base64',
        2,
      ],
      [
        '{"lockfileVersion": 3,\n"packages": {"node_modules/a": {"integrity": "sha256-AAAA"}}}',
        'wrong length',
        2,
      ],
    ];
    for (const [i, [text, message, line]] of cases.entries()) {
      const path = join(dir, `case${i}.json`);
      writeFileSync(path, text);
      const e = await rejection(() => readLockfile({ lockfile: path }));
      assert.equal(e.code, 'ERR_LOCKFILE_MALFORMED', text);
      assert.ok(e.message.startsWith(`${path}:${line}: `) && e.message.includes(message), e.message);
    }
  });
});
