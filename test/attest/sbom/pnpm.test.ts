import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readLockfile } from '../../../src/attest/sbom/lockfile.js';
import { expectCode, tempDir } from '../../helpers.js';
import { FIX, LOCKS, message, node } from './reader-fixture.js';

describe('pnpm-lock.yaml v9 (osv.dev frontend3)', async () => {
  const g = await readLockfile({
    lockfile: join(LOCKS, 'pnpm-v9.osv-dev-frontend3.pnpm-lock.yaml'),
    packageJson: join(LOCKS, 'pnpm-v9.osv-dev-frontend3.package.json'),
  });

  it('has one node per package entry (416), root from package.json', () => {
    assert.equal(g.lockfile.type, 'pnpm');
    assert.equal(g.lockfile.version, '9.0');
    assert.equal(g.packages.size, 416);
    assert.equal(new Set([...g.packages.values()].map((n) => `${n.name}@${n.version}`)).size, 416);
    assert.equal(g.root.id, 'pkg:npm/frontend3@0.0.0');
    assert.equal(g.root.dependencies.length, 20);
  });

  it('strips peer suffixes: one node for every peer instance of a version', () => {
    const n = node(g, 'pkg:npm/%40jsonjoy.com/base64@1.1.2');
    assert.equal(n.version, '1.1.2');
    assert.deepEqual(n.dependencies, ['pkg:npm/tslib@2.8.1']);
  });

  it('keeps integrity as hex and the edges of a scoped package', () => {
    const n = node(g, 'pkg:npm/%40jridgewell/gen-mapping@0.3.13');
    assert.equal(n.hashes[0]?.alg, 'SHA-512');
    assert.match(n.hashes[0]?.hex ?? '', /^da492dffb9e227a3[0-9a-f]{112}$/);
    assert.deepEqual(n.dependencies, [
      'pkg:npm/%40jridgewell/sourcemap-codec@1.5.5',
      'pkg:npm/%40jridgewell/trace-mapping@0.3.31',
    ]);
    assert.equal(n.dev, true);
  });

  it('derives dev from importers and optional exactly where pnpm marks snapshots optional', () => {
    assert.equal(node(g, 'pkg:npm/lit@3.3.3').dev, false);
    assert.equal(node(g, 'pkg:npm/webpack@5.109.2').dev, true);
    const optional = [...g.packages.values()].filter((n) => n.optional).map((n) => n.name);
    assert.equal(optional.length, 15);
    assert.ok(optional.includes('@parcel/watcher-linux-x64-glibc'));
    assert.ok(optional.includes('detect-libc'));
    assert.equal([...g.packages.values()].filter((n) => n.dev).length, 377);
  });

  it('has no licences without node_modules (the lockfile records none)', () => {
    assert.equal([...g.packages.values()].filter((n) => n.license !== undefined).length, 0);
  });
});

describe('pnpm-lock.yaml v6 (pnpm 8)', async () => {
  const g = await readLockfile({ lockfile: join(FIX, 'pnpm-v6.pnpm-lock.yaml') });

  it('reads top-level importers, leading-slash keys, peers, aliases and tarball packages', () => {
    assert.equal(g.lockfile.version, '6.0');
    assert.equal(g.root.id, 'pkg:npm/lockfiles', 'no package.json: the folder names the root');
    assert.deepEqual(g.root.dependencies, [
      'pkg:npm/fsevents@2.3.3',
      'pkg:npm/gitpkg@1.0.0?download_url=https%3A%2F%2Fcodeload.github.com%2Fowner%2Fgitpkg%2Ftar.gz%2Fabc1234',
      'pkg:npm/react-dom@18.2.0',
      'pkg:npm/react@18.2.0',
      'pkg:npm/string-width@4.2.3',
      'pkg:npm/typescript@5.4.5',
    ]);
    assert.deepEqual(node(g, 'pkg:npm/react-dom@18.2.0').dependencies, [
      'pkg:npm/loose-envify@1.4.0',
      'pkg:npm/react@18.2.0',
      'pkg:npm/scheduler@0.23.0',
    ]);
    assert.equal(g.packages.size, 9);
  });

  it('flags dev and optional', () => {
    assert.equal(node(g, 'pkg:npm/typescript@5.4.5').dev, true);
    assert.equal(node(g, 'pkg:npm/fsevents@2.3.3').optional, true);
    assert.equal(node(g, 'pkg:npm/js-tokens@4.0.0').dev, false);
  });
});

describe('pnpm v9 workspaces, links, git, tarball and directory packages', async () => {
  const dir = join(FIX, 'pnpm-workspace');
  const g = await readLockfile({ dir });
  const app = 'pkg:npm/%40mono/app@1.0.0';

  it('names workspaces from their package.json and hangs them off the root', () => {
    assert.equal(g.root.id, 'pkg:npm/pnpm-mono@2.0.0');
    assert.deepEqual(g.root.dependencies, [app, 'pkg:npm/%40mono/lib@1.1.0', 'pkg:npm/typescript@5.4.5']);
    assert.equal(node(g, app).kind, 'workspace');
    assert.equal(node(g, app).license, 'Apache-2.0');
  });

  it('resolves link:, aliases, git, tarball and file: references', () => {
    assert.deepEqual(node(g, app).dependencies, [
      'pkg:npm/%40mono/lib@1.1.0',
      'pkg:npm/gitpkg@1.0.0?download_url=https%3A%2F%2Fcodeload.github.com%2Fowner%2Fgitpkg%2Ftar.gz%2Fabc1234',
      'pkg:npm/gitrepo@2.0.0?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fowner%2Fgitrepo.git%230123abcd',
      'pkg:npm/localdir@0.0.1',
      'pkg:npm/react-dom@18.2.0',
      'pkg:npm/react@18.2.0',
      'pkg:npm/string-width@4.2.3',
    ]);
    assert.equal(node(g, 'pkg:npm/localdir@0.0.1').resolved, 'vendor/localdir');
  });

  it('marks an optional dependency of a workspace optional, not dev', () => {
    const n = node(g, 'pkg:npm/fsevents@2.3.3');
    assert.equal(n.optional, true);
    assert.equal(n.dev, false);
  });
});

describe('pnpm installed licences', () => {
  it('reads node_modules/.pnpm/<name>@<version>/node_modules/<name>/package.json, then the hoisted link', async () => {
    const dir = tempDir();
    const { cpSync, mkdirSync } = await import('node:fs');
    cpSync(join(FIX, 'pnpm-workspace'), dir, { recursive: true });
    const put = (path: string, json: unknown) => {
      mkdirSync(join(dir, path), { recursive: true });
      writeFileSync(join(dir, path, 'package.json'), JSON.stringify(json));
    };
    put('node_modules/.pnpm/react-dom@18.2.0_react@18.2.0/node_modules/react-dom', {
      version: '18.2.0',
      license: 'MIT',
    });
    put('node_modules/typescript', { version: '5.4.5', license: 'Apache-2.0' });
    put('node_modules/.pnpm/scheduler@0.23.0/node_modules/scheduler', { version: '0.23.1', license: 'MIT' });
    const g = await readLockfile({ dir });
    assert.equal(g.packages.get('pkg:npm/react-dom@18.2.0')?.license, 'MIT');
    assert.equal(g.packages.get('pkg:npm/react-dom@18.2.0')?.licenseSource, 'package.json');
    assert.equal(g.packages.get('pkg:npm/typescript@5.4.5')?.license, 'Apache-2.0');
    assert.equal(g.packages.get('pkg:npm/scheduler@0.23.0')?.license, undefined);
  });
});

describe('pnpm lockfile errors', () => {
  it('names the line of a truncated lockfile (YAML error)', async () => {
    const path = join(FIX, 'pnpm-truncated.pnpm-lock.txt');
    assert.match(
      await message(() => readLockfile({ lockfile: path })),
      new RegExp(`^${path}:690: not valid YAML`),
    );
  });

  it('refuses a lockfile whose references point nowhere (cut at a line boundary)', async () => {
    const path = join(FIX, 'pnpm-cut-snapshots.pnpm-lock.txt');
    assert.equal(
      await message(() => readLockfile({ lockfile: path })),
      `${path}:9: "." refers to "@material/data-table@14.0.0", which snapshots does not define`,
    );
  });

  it('codes an alias to an undefined anchor, with the alias line', async () => {
    const path = join(tempDir(), 'pnpm-lock.yaml');
    writeFileSync(path, "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      foo: *a\n");
    assert.equal(
      await message(() => readLockfile({ lockfile: path })),
      `${path}:5: not valid YAML (Unresolved alias (the anchor must be set before the alias): a)`,
    );
  });

  it('codes an alias bomb instead of expanding it', async () => {
    const path = join(tempDir(), 'pnpm-lock.yaml');
    const levels = ["lockfileVersion: '9.0'", 'a0: &a0 [x,x,x,x,x,x,x,x,x,x]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(',')}]`,
      );
    writeFileSync(path, `${levels.join('\n')}\n`);
    assert.equal(
      await message(() => readLockfile({ lockfile: path })),
      `${path}: not valid YAML (Excessive alias count indicates a resource exhaustion attack)`,
    );
  });

  it('still reads a lockfile with a few resolved aliases', async () => {
    const path = join(tempDir(), 'pnpm-lock.yaml');
    writeFileSync(
      path,
      "lockfileVersion: '9.0'\nx-deps: &d\n  a:\n    specifier: ^1\n    version: 1.0.0\n" +
        'importers:\n  .:\n    dependencies: *d\npackages:\n  a@1.0.0:\n    resolution: {}\nsnapshots:\n  a@1.0.0: {}\n',
    );
    const g = await readLockfile({ lockfile: path, installed: false });
    assert.deepEqual(g.root.dependencies, ['pkg:npm/a@1.0.0']);
  });

  it('refuses unknown versions', async () => {
    const dir = tempDir();
    for (const v of ["'5.4'", "'7.0'", "'10.0'", 'x']) {
      const path = join(dir, 'pnpm-lock.yaml');
      writeFileSync(path, `lockfileVersion: ${v}\n`);
      await expectCode(() => readLockfile({ lockfile: path }), 'ERR_LOCKFILE_VERSION');
    }
  });

  it('codes entries of the wrong type with their line', async () => {
    const dir = tempDir();
    const head =
      "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      a:\n        specifier: ^1\n        version: 1.0.0\n\n";
    const cases: [string, string][] = [
      [
        'packages:\n\n  a@1.0.0: nope\n\nsnapshots:\n\n  a@1.0.0: {}\n',
        `:13: packages["a@1.0.0"] must be a map`,
      ],
      [
        'packages:\n\n  a@1.0.0:\n    resolution: x\n\nsnapshots:\n\n  a@1.0.0: {}\n',
        ':13: packages["a@1.0.0"].resolution must be a map',
      ],
      [
        'packages:\n\n  a@1.0.0:\n    resolution: {integrity: sha512-AAAA}\n\nsnapshots:\n\n  a@1.0.0: {}\n',
        ':13: integrity "sha512-AAAA" has the wrong length',
      ],
      [
        'packages:\n\n  a@1.0.0:\n    resolution: {}\n\nsnapshots:\n\n  a@1.0.0:\n    dependencies: [b]\n',
        ':18: "a@1.0.0".dependencies must be a map',
      ],
      ['packages: [1]\n', ':11: "packages" must be a map'],
    ];
    for (const [tail, expected] of cases) {
      const path = join(dir, 'pnpm-lock.yaml');
      writeFileSync(path, head + tail);
      const m = await message(() => readLockfile({ lockfile: path }));
      assert.ok(m.startsWith(path + expected), `${m}\nexpected ${expected}`);
    }
  });
});
