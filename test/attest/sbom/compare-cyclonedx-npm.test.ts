// Issue 4 §2 accuracy: on the npm lockfile vectors, Vouch's set of (name, version) components equals what
// @cyclonedx/cyclonedx-npm reports from the lockfile alone, and Vouch lists no component twice.
// cyclonedx-npm runs `npm ls`, so each vector is copied into a project folder of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { type CycloneDxBom, generateSbom } from '../../../src/attest/index.js';
import { tempDir } from '../../helpers.js';
import { LOCKFILES, lockfileVectors, T0, TOOL } from './sbom-write-fixture.js';

const CLI = resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'node_modules',
  '@cyclonedx',
  'cyclonedx-npm',
  'bin',
  'cyclonedx-npm-cli.js',
);

interface Named {
  group?: string;
  name: string;
  version?: string;
}
const key = (c: Named): string => `${c.group === undefined ? '' : `${c.group}/`}${c.name}@${c.version ?? ''}`;

/** npm ls needs a package.json; a vector published without one gets the lockfile's own root entry. */
function manifestFor(lockPath: string): string {
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as {
    packages: Record<string, Record<string, unknown>>;
  };
  const root = lock.packages[''] ?? {};
  const fields = [
    'name',
    'version',
    'dependencies',
    'devDependencies',
    'optionalDependencies',
    'peerDependencies',
  ];
  return JSON.stringify(
    Object.fromEntries(fields.filter((f) => root[f] !== undefined).map((f) => [f, root[f]])),
  );
}

function cyclonedxNpm(dir: string): Named[] {
  const out = join(dir, 'reference.cdx.json');
  // --ignore-npm-errors: npm ls reports ELSPROBLEMS for overrides in a lockfile-only tree; the tree is still read.
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      '--package-lock-only',
      '--flatten-components',
      '--ignore-npm-errors',
      '--output-format',
      'JSON',
      '--output-file',
      out,
    ],
    {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'], HOME: dir, npm_config_cache: join(dir, '.npm') },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(readFileSync(out, 'utf8')) as { components: Named[] }).components;
}

describe('components equal @cyclonedx/cyclonedx-npm --package-lock-only', () => {
  for (const v of lockfileVectors().filter((x) => x.file.startsWith('npm-'))) {
    it(v.file, async () => {
      const dir = tempDir('vouch-cdx-npm-');
      const lock = join(dir, 'package-lock.json');
      copyFileSync(join(LOCKFILES, v.file), lock);
      if (v.packageJson === undefined) writeFileSync(join(dir, 'package.json'), manifestFor(lock));
      else copyFileSync(v.packageJson, join(dir, 'package.json'));

      const ours = await generateSbom({
        lockfile: lock,
        installed: false,
        format: 'cyclonedx',
        timestamp: T0,
        tool: TOOL,
      });
      const bom = JSON.parse(ours.text) as CycloneDxBom;
      const ourKeys = bom.components.map(key);
      assert.equal(new Set(ourKeys).size, ourKeys.length, 'a (name, version) appears twice');
      assert.equal(new Set(bom.components.map((c) => c['bom-ref'])).size, bom.components.length);

      // cyclonedx-npm lists one component per install location, so its list repeats; the set is what counts.
      const theirs = [...new Set(cyclonedxNpm(dir).map(key))].sort();
      const missing = theirs.filter((k) => !ourKeys.includes(k));
      const extra = ourKeys.filter((k) => !theirs.includes(k));
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
      assert.equal(ourKeys.length, theirs.length);
    });
  }
});
