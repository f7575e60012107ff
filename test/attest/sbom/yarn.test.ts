import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readLockfile } from '../../../src/attest/sbom/lockfile.js';
import { expectCode, tempDir } from '../../helpers.js';
import { FIX, LOCKS, message, node } from './reader-fixture.js';

describe('yarn.lock v1 (immer)', async () => {
  const g = await readLockfile({
    lockfile: join(LOCKS, 'yarn-v1.immer.yarn.lock'),
    packageJson: join(LOCKS, 'yarn-v1.immer.package.json'),
  });

  it('has one node per resolved package (1595 keys, 1303 packages)', () => {
    assert.deepEqual([g.lockfile.type, g.lockfile.version], ['yarn-v1', '1']);
    assert.equal(g.packages.size, 1303);
    assert.equal(new Set([...g.packages.values()].map((n) => `${n.name}@${n.version}`)).size, 1303);
    assert.equal(g.root.id, 'pkg:npm/immer@10.0.3-beta');
    assert.equal(g.root.dependencies.length, 23);
  });

  it('keeps the integrity SRI and the #sha1 of the tarball URL; strips the fragment from resolved', () => {
    const n = node(g, 'pkg:npm/%40babel/core@7.29.6');
    assert.equal(n.resolved, 'https://registry.yarnpkg.com/@babel/core/-/core-7.29.6.tgz');
    assert.deepEqual(
      n.hashes.map((h) => h.alg),
      ['SHA-512', 'SHA-1'],
    );
    assert.equal(n.hashes[1]?.hex, '2f2c2ca1728ae73c9b68ece91d1ae6dee18ff83a');
    assert.equal(n.dependencies.length, 15);
    assert.ok(n.dependencies.includes('pkg:npm/semver@6.3.1'));
  });

  it('marks everything dev (immer has only devDependencies) and platform packages optional', () => {
    assert.equal([...g.packages.values()].filter((n) => n.dev).length, 1303);
    const fsevents = node(g, 'pkg:npm/fsevents@1.2.11');
    assert.equal(fsevents.optional, true);
    assert.equal([...g.packages.values()].filter((n) => n.optional).length, 134);
  });
});

describe('yarn.lock Berry (1Password docusaurus-extensions, v6, workspaces)', async () => {
  const g = await readLockfile({
    lockfile: join(LOCKS, 'yarn-berry.1password-docusaurus-extensions.yarn.lock'),
    packageJson: join(LOCKS, 'yarn-berry.1password-docusaurus-extensions.package.json'),
  });
  const all = [...g.packages.values()];

  it('counts 2015 packages and 3 workspaces; patch: entries merge into the package they patch', () => {
    assert.deepEqual([g.lockfile.type, g.lockfile.version], ['yarn-berry', '6']);
    assert.equal(all.filter((n) => n.kind === 'package').length, 2015);
    assert.deepEqual(
      all.filter((n) => n.kind === 'workspace').map((n) => n.name),
      ['@1password/docusaurus-plugin-stored-data', '@1password/jest-docusaurus', 'website'],
    );
    assert.equal(all.filter((n) => n.name === 'typescript').length, 2);
    assert.equal(g.root.id, 'pkg:npm/docusaurus-extensions@1.0.0');
  });

  it('applies package.json resolutions (chalk forced to ^4.1.2)', () => {
    assert.ok(node(g, 'pkg:npm/%40babel/highlight@7.18.6').dependencies.includes('pkg:npm/chalk@4.1.2'));
    assert.equal(all.filter((n) => n.name === 'chalk').length, 1);
  });

  it('without package.json, an overridden range falls back to the only version of that name', async () => {
    const bare = await readLockfile({
      lockfile: join(LOCKS, 'yarn-berry.1password-docusaurus-extensions.yarn.lock'),
    });
    assert.equal(bare.packages.size, g.packages.size);
    assert.ok(
      bare.packages.get('pkg:npm/%40babel/highlight@7.18.6')?.dependencies.includes('pkg:npm/chalk@4.1.2'),
    );
  });

  it('does not turn Berry checksums into hashes', () => {
    assert.equal(all.filter((n) => n.hashes.length > 0).length, 0);
  });

  it('reads dependenciesMeta optional', () => {
    assert.equal(node(g, 'pkg:npm/fsevents@2.3.2').optional, true);
    assert.equal(all.filter((n) => n.optional).length, 4);
  });
});

describe('yarn v1 workspaces, aliases, git', async () => {
  const g = await readLockfile({ dir: join(FIX, 'yarn-v1-workspace') });

  it('finds workspaces by the package.json globs', () => {
    assert.equal(g.root.id, 'pkg:npm/y1-mono@3.0.0');
    assert.deepEqual(g.root.dependencies, [
      'pkg:npm/%40mono/tool@0.1.0',
      'pkg:npm/gitdep@0.3.0?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fowner%2Fgitdep.git%230123456789abcdef0123456789abcdef01234567',
      'pkg:npm/left-pad@1.3.0',
      'pkg:npm/watcher@1.0.0',
    ]);
    const tool = node(g, 'pkg:npm/%40mono/tool@0.1.0');
    assert.equal(tool.kind, 'workspace');
    assert.equal(tool.license, 'ISC');
    assert.deepEqual(tool.dependencies, ['pkg:npm/%40scope/util@1.2.0']);
  });

  it('merges an alias into the package, keeps a git commit in resolved, a #sha1 as SHA-1', () => {
    assert.equal([...g.packages.values()].filter((n) => n.name === 'left-pad').length, 1);
    const git = [...g.packages.values()].find((n) => n.name === 'gitdep');
    assert.equal(
      git?.resolved,
      'git+https://github.com/owner/gitdep.git#0123456789abcdef0123456789abcdef01234567',
    );
    assert.deepEqual(node(g, 'pkg:npm/%40scope/util@1.2.0').hashes, [
      { alg: 'SHA-1', hex: '281811faa99d3476e5c0e8ad0b87721403237d4f' },
    ]);
  });

  it('derives dev and optional from the root package.json', () => {
    assert.equal(node(g, 'pkg:npm/watcher@1.0.0').dev, true);
    const fsevents = node(g, 'pkg:npm/fsevents@2.3.3');
    assert.deepEqual([fsevents.dev, fsevents.optional], [true, true]);
    assert.equal(node(g, 'pkg:npm/chalk@4.1.2').dev, false);
  });

  it('reads licences from installed node_modules when versions match', async () => {
    const dir = tempDir();
    cpSync(join(FIX, 'yarn-v1-workspace'), dir, { recursive: true });
    mkdirSync(join(dir, 'node_modules', 'chalk'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'chalk', 'package.json'), '{"version":"4.1.2","license":"MIT"}');
    mkdirSync(join(dir, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(
      join(dir, 'node_modules', 'left-pad', 'package.json'),
      '{"version":"1.2.0","license":"WTFPL"}',
    );
    const withTree = await readLockfile({ dir });
    assert.deepEqual(
      [
        withTree.packages.get('pkg:npm/chalk@4.1.2')?.license,
        withTree.packages.get('pkg:npm/chalk@4.1.2')?.licenseSource,
      ],
      ['MIT', 'package.json'],
    );
    assert.equal(withTree.packages.get('pkg:npm/left-pad@1.3.0')?.license, undefined);
  });

  it('without package.json, the direct dependencies are the packages nothing depends on', async () => {
    const dir = tempDir();
    cpSync(join(FIX, 'yarn-v1-workspace', 'yarn.lock'), join(dir, 'yarn.lock'));
    const bare = await readLockfile({ dir });
    assert.deepEqual(bare.root.dependencies, [
      'pkg:npm/%40scope/util@1.2.0',
      'pkg:npm/gitdep@0.3.0?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fowner%2Fgitdep.git%230123456789abcdef0123456789abcdef01234567',
      'pkg:npm/watcher@1.0.0',
    ]);
  });
});

describe('yarn Berry workspaces, patch, git, tarball', async () => {
  const g = await readLockfile({ dir: join(FIX, 'yarn-berry-workspace') });

  it('reads workspaces, their versions from package.json, and protocol sources', () => {
    assert.equal(g.lockfile.version, '8');
    assert.deepEqual(g.root.dependencies, [
      'pkg:npm/%40mono/lib@0.2.0',
      'pkg:npm/chokidar@3.5.3',
      'pkg:npm/gitdep@0.3.0?vcs_url=https%3A%2F%2Fgithub.com%2Fowner%2Fgitdep.git%23commit%3D0123abcd',
      'pkg:npm/left-pad@1.3.0',
      'pkg:npm/tarball@1.0.0?download_url=https%3A%2F%2Fexample.com%2Ftarball-1.0.0.tgz',
      'pkg:npm/typescript@5.4.5',
    ]);
    assert.equal(g.packages.size, 7);
  });

  it('tells dev from prod by each workspace manifest, optional by dependenciesMeta', () => {
    assert.equal(node(g, 'pkg:npm/typescript@5.4.5').dev, true);
    assert.equal(node(g, 'pkg:npm/left-pad@1.3.0').dev, false);
    assert.equal(node(g, 'pkg:npm/fsevents@2.3.3').optional, true);
  });
});

describe('yarn lockfile errors', () => {
  it('names the line of a truncated v1 lockfile', async () => {
    const path = join(FIX, 'yarn-v1-truncated.yarn.lock.txt');
    assert.equal(
      await message(() => readLockfile({ lockfile: path })),
      `${path}:379: integrity "sha512-ZLWk6czDdog+Q" is not valid base64`,
    );
  });

  it('names the line of a truncated Berry lockfile', async () => {
    const path = join(FIX, 'yarn-berry-truncated.yarn.lock.txt');
    assert.match(
      await message(() => readLockfile({ lockfile: path })),
      new RegExp(`^${path}:752: not a valid yarn.lock`),
    );
  });

  it('codes syntax errors, wrong types and dangling descriptors', async () => {
    const dir = tempDir();
    const v1 = '# yarn lockfile v1\n\n';
    const cases: [string, string][] = [
      [
        `${v1}a@^1:\n  version "1.0.0"\n  dependencies:\n    b "^2"\n`,
        ':3: "a@^1" depends on b@^2, which the lockfile does not define',
      ],
      [`${v1}a@^1:\n  version "1.0.0"\n  resolved:\n    x "y"\n`, ':3: "a@^1".resolved must be a string'],
      [`${v1}a@^1:\n  resolved "https://x/a.tgz"\n`, ':3: "a@^1" has no version'],
      [`${v1}a@^1:\n  version "1.0.0"\n  version: [\n`, ':5: not a valid yarn.lock'],
      [
        '__metadata:\n  version: 6\n\n"a@npm:^1":\n  version: 1.0.0\n',
        ':4: "a@npm:^1" needs version and resolution',
      ],
    ];
    for (const [text, expected] of cases) {
      const path = join(dir, 'yarn.lock');
      writeFileSync(path, text);
      const m = await message(() => readLockfile({ lockfile: path }));
      assert.ok(m.startsWith(path + expected), `${m}\nexpected ${expected}`);
    }
  });

  it('refuses Berry metadata versions it does not know', async () => {
    const dir = tempDir();
    for (const v of ['3', '9', 'x']) {
      const path = join(dir, 'yarn.lock');
      writeFileSync(path, `__metadata:\n  version: ${v}\n  cacheKey: 8\n`);
      await expectCode(() => readLockfile({ lockfile: path }), 'ERR_LOCKFILE_VERSION');
    }
  });
});

describe('lockfile discovery', () => {
  it('refuses a folder with several lockfiles, and one with none', async () => {
    const dir = tempDir();
    await expectCode(() => readLockfile({ dir }), 'ERR_LOCKFILE_NOT_FOUND');
    cpSync(join(FIX, 'yarn-v1-workspace', 'yarn.lock'), join(dir, 'yarn.lock'));
    cpSync(join(FIX, 'npm-workspaces', 'package-lock.json'), join(dir, 'package-lock.json'));
    await expectCode(() => readLockfile({ dir }), 'ERR_USAGE');
  });

  it('refuses content it does not recognise', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'yarn.lock'), 'hello: world\n');
    await expectCode(() => readLockfile({ dir }), 'ERR_LOCKFILE_MALFORMED');
  });
});
