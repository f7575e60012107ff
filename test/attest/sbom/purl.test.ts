import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PackageURL } from 'packageurl-js';
import { generateSbom } from '../../../src/attest/sbom/generate.js';
import {
  npmPurl,
  type PackageSource,
  publishableUrl,
  REGISTRY,
  sourceOf,
} from '../../../src/attest/sbom/purl.js';
import { expectCode, tempDir, VECTORS } from '../../helpers.js';

const LOCKFILES = join(VECTORS, 'lockfiles');

const SHA = '0123456789abcdef0123456789abcdef01234567';
const TOOL = { name: 'vouch', version: '0.0.0-test' };
const T = new Date('2024-05-01T00:00:00Z');

describe('publishableUrl', () => {
  const cases: [string, string][] = [
    ['https://deploy:TOKEN@npm.example.com/p/foo-1.0.0.tgz', 'https://npm.example.com/p/foo-1.0.0.tgz'],
    ['https://TOKEN@npm.example.com/p/foo-1.0.0.tgz', 'https://npm.example.com/p/foo-1.0.0.tgz'],
    ['https://a@b:TOKEN@npm.example.com/foo.tgz', 'https://npm.example.com/foo.tgz'],
    ['https://npm.example.com/foo.tgz?token=TOKEN', 'https://npm.example.com/foo.tgz'],
    ['https://npm.example.com/foo.tgz#TOKEN', 'https://npm.example.com/foo.tgz'],
    // A hex fragment on a tarball is not a commit: it goes too.
    ['https://npm.example.com/foo.tgz#abc123', 'https://npm.example.com/foo.tgz'],
    [`git+https://x-oauth-basic:TOKEN@github.com/o/r.git#${SHA}`, `git+https://github.com/o/r.git#${SHA}`],
    ['git+https://github.com/o/r.git?private_token=TOKEN#abc123', 'git+https://github.com/o/r.git#abc123'],
    ['git+https://github.com/o/r.git#TOKEN', 'git+https://github.com/o/r.git'],
    ['git+ssh://git@github.com/o/r.git#abc123', 'git+ssh://git@github.com/o/r.git#abc123'],
    ['git+ssh://git:TOKEN@github.com/o/r.git#abc123', 'git+ssh://github.com/o/r.git#abc123'],
    ['git@github.com:o/r.git#abc123', 'git@github.com:o/r.git#abc123'],
    ['https://github.com/o/r.git#commit=0123abcd', 'https://github.com/o/r.git#commit=0123abcd'],
    ['https://registry.npmjs.org/@s/a/-/a-1.0.0.tgz', 'https://registry.npmjs.org/@s/a/-/a-1.0.0.tgz'],
  ];
  for (const [raw, want] of cases) {
    it(raw, () => assert.equal(publishableUrl(raw), want));
  }

  it('npmPurl never carries credentials in a qualifier', () => {
    assert.equal(
      npmPurl('foo', '1.0.0', { type: 'tarball', url: 'https://u:TOKEN@h.example/foo.tgz?t=TOKEN' }),
      'pkg:npm/foo@1.0.0?download_url=https%3A%2F%2Fh.example%2Ffoo.tgz',
    );
    assert.equal(
      npmPurl('bar', '2.0.0', { type: 'git', url: `git+https://TOKEN@github.com/o/bar.git#${SHA}` }),
      `pkg:npm/bar@2.0.0?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fo%2Fbar.git%23${SHA}`,
    );
  });
});

/** One lockfile per dialect, each planting tokens in userinfo, query and fragment. */
const LOCKS: Record<string, string> = {
  'package-lock.json': JSON.stringify({
    name: 'leak',
    version: '1.0.0',
    lockfileVersion: 3,
    packages: {
      '': { name: 'leak', version: '1.0.0', dependencies: { foo: '*', bar: '*', baz: '*' } },
      'node_modules/foo': {
        version: '1.0.0',
        resolved: 'https://deploy:SECRET_A@npm.example.com/private/foo-1.0.0.tgz#SECRET_B',
      },
      'node_modules/bar': {
        version: '2.0.0',
        resolved: `git+https://x-oauth-basic:SECRET_C@github.com/o/bar.git#${SHA}`,
      },
      'node_modules/baz': {
        version: '3.0.0',
        resolved: 'https://npm.example.com/baz/-/baz-3.0.0.tgz?token=SECRET_D',
      },
    },
  }),
  'pnpm-lock.yaml': `lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      foo:
        specifier: '*'
        version: 1.0.0
      bar:
        specifier: '*'
        version: git+https://github.com/o/bar.git#${SHA}
packages:
  foo@1.0.0:
    resolution: {tarball: 'https://deploy:SECRET_A@npm.example.com/private/foo-1.0.0.tgz?t=SECRET_D'}
  bar@git+https://github.com/o/bar.git#${SHA}:
    resolution: {type: git, repo: 'https://SECRET_C@github.com/o/bar.git', commit: ${SHA}}
    version: 2.0.0
snapshots:
  foo@1.0.0: {}
  bar@git+https://github.com/o/bar.git#${SHA}: {}
`,
  'yarn.lock': `# yarn lockfile v1

foo@*:
  version "1.0.0"
  resolved "https://deploy:SECRET_A@npm.example.com/private/foo-1.0.0.tgz?t=SECRET_D"

bar@*:
  version "2.0.0"
  resolved "git+https://x-oauth-basic:SECRET_C@github.com/o/bar.git#${SHA}"
`,
};

describe('SBOMs publish no lockfile credentials', () => {
  for (const [file, text] of Object.entries(LOCKS)) {
    for (const format of ['cyclonedx', 'spdx'] as const) {
      it(`${file} → ${format}`, async () => {
        const dir = tempDir();
        writeFileSync(join(dir, file), text);
        writeFileSync(
          join(dir, 'package.json'),
          JSON.stringify({ name: 'leak', version: '1.0.0', dependencies: { foo: '*', bar: '*' } }),
        );
        const { text: doc, graph } = await generateSbom({
          dir,
          installed: false,
          format,
          timestamp: T,
          tool: TOOL,
        });
        assert.deepEqual(doc.match(/SECRET_\w/g), null);
        const ids = [...graph.packages.keys()].sort();
        assert.ok(
          ids.includes(`pkg:npm/bar@2.0.0?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fo%2Fbar.git%23${SHA}`),
        );
        assert.ok(
          ids.includes(
            'pkg:npm/foo@1.0.0?download_url=https%3A%2F%2Fnpm.example.com%2Fprivate%2Ffoo-1.0.0.tgz',
          ),
          ids.join(' '),
        );
      });
    }
  }
});

/**
 * npmPurl is written out for start-up speed (decision 013); it must give packageurl-js's string for every
 * input packageurl-js accepts: the lockfile vectors' names and versions, and arbitrary ones.
 */
describe('npmPurl equals packageurl-js', () => {
  const RUNS = Number(process.env['VOUCH_PROPERTY_RUNS'] ?? 150) * 20;
  const reference = (name: string, version: string, source: PackageSource): string => {
    const slash = name.startsWith('@') ? name.indexOf('/') : -1;
    const qualifier =
      source.type === 'git'
        ? { vcs_url: publishableUrl(source.url) }
        : source.type === 'tarball'
          ? { download_url: publishableUrl(source.url) }
          : undefined;
    return new PackageURL(
      'npm',
      slash > 0 ? name.slice(0, slash) : undefined,
      slash > 0 ? name.slice(slash + 1) : name,
      version === '' ? undefined : version,
      qualifier,
      undefined,
    ).toString();
  };
  const agree = (name: string, version: string, source: PackageSource): void => {
    let want: string;
    try {
      want = reference(name, version, source);
    } catch {
      // packageurl-js refuses it (empty name, lone surrogate): ours must refuse with a code.
      expectCode(() => npmPurl(name, version, source), 'ERR_LOCKFILE_MALFORMED');
      return;
    }
    assert.equal(npmPurl(name, version, source), want, JSON.stringify({ name, version, source }));
  };

  it('on every package of the npm lockfile vectors', async () => {
    let seen = 0;
    for (const file of readdirSync(LOCKFILES).filter((f) => f.endsWith('package-lock.json'))) {
      const lock = JSON.parse(readFileSync(join(LOCKFILES, file), 'utf8')) as {
        packages: Record<string, { name?: string; version?: string; resolved?: string }>;
      };
      for (const [path, p] of Object.entries(lock.packages)) {
        const name = p.name ?? path.slice(path.lastIndexOf('node_modules/') + 13);
        if (name === '') continue;
        agree(name, p.version ?? '', sourceOf(p.resolved, name, p.version ?? ''));
        seen++;
      }
    }
    assert.ok(seen > 1000, `only ${seen} packages`);
  });

  it('on arbitrary names, versions and source URLs', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.string({ unit: fc.constantFrom(..."aZ09@/:+%!~*'() .-_#?=&\t".split('')), maxLength: 12 }),
    );
    const source: fc.Arbitrary<PackageSource> = fc.oneof(
      fc.constant(REGISTRY),
      fc.constant({ type: 'local' } as const),
      fc.record({ type: fc.constantFrom('git' as const, 'tarball' as const), url: text }),
    );
    fc.assert(
      fc.property(fc.tuple(fc.constantFrom('', '@', '@s/'), text), text, source, ([prefix, n], v, s) =>
        agree(prefix + n, v, s),
      ),
      { numRuns: RUNS },
    );
  });
});
