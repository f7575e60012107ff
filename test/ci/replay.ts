import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { vouch } from '../cli/harness.js';
import { VECTORS } from '../helpers.js';
import { ROOT } from './ci-fixture.js';

// What the example replays (example-pipeline, github-example) share: the project they release, and what a
// build's non-vouch steps leave in it.

export const PASSWORD = 'correct horse battery staple';

const LOCK = {
  name: 'app',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'app', version: '1.0.0', license: 'MIT', dependencies: { ms: '^2.1.3' } },
    'node_modules/ms': {
      version: '2.1.3',
      resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz',
      integrity:
        'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
      license: 'MIT',
    },
  },
};

/**
 * A small npm project committed at `<work>/app`: the example's `policy` (a checkout-relative path, copied to
 * the same path) with a test key, made in `work`, where the policy expects the release key; build outputs
 * are ignored, as in any project (`--strict` provenance refuses a dirty tree).
 */
export async function releaseProject(
  work: string,
  o: { policy: string; ignore: string[] },
): Promise<{ commit: string; signingKey: string }> {
  const project = join(work, 'app');
  const git = (...args: string[]): string => {
    const r = spawnSync('git', ['-C', project, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  mkdirSync(project);
  git('init', '--quiet');
  writeFileSync(join(project, 'package.json'), '{"name":"app","version":"1.0.0","license":"MIT"}\n');
  writeFileSync(join(project, 'package-lock.json'), `${JSON.stringify(LOCK, null, 2)}\n`);
  mkdirSync(dirname(join(project, o.policy)), { recursive: true });
  mkdirSync(join(project, 'examples', 'policies', 'keys'), { recursive: true });
  copyFileSync(join(ROOT, o.policy), join(project, o.policy));
  const keygen = await vouch(['keygen', '--alg', 'ecdsa-p256', '--out', join(work, 'release')], {
    VOUCH_PASSWORD: PASSWORD,
  });
  assert.equal(keygen.code, 0, keygen.stderr);
  copyFileSync(join(work, 'release.pub'), join(project, 'examples/policies/keys/release.pub'));
  writeFileSync(join(project, '.gitignore'), o.ignore.map((p) => `${p}\n`).join(''));
  git('add', '.');
  git('commit', '--quiet', '-m', 'v1.0.0');
  return { commit: git('rev-parse', 'HEAD'), signingKey: readFileSync(join(work, 'release.key'), 'utf8') };
}

/** What a build's non-vouch steps make in `dir`: the package, the release folder, the OSV export. */
export function buildOutputs(dir: string): void {
  mkdirSync(join(dir, 'dist'));
  mkdirSync(join(dir, 'release'));
  writeFileSync(join(dir, 'dist', 'app.tgz'), 'the package bytes\n');
  const osv = join(VECTORS, 'osv');
  const records = readdirSync(osv).filter((f) => f.startsWith('GHSA-'));
  const zip = spawnSync('zip', ['-q', '-j', join(dir, 'osv-npm.zip'), ...records.map((f) => join(osv, f))]);
  assert.equal(zip.status, 0, String(zip.stderr));
}
