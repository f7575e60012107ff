import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { vouch } from '../cli/harness.js';
import { tempDir, VECTORS } from '../helpers.js';
import {
  GITLAB_EXAMPLE,
  gitlabMerged,
  matrixVariants,
  ROOT,
  resolveJob,
  runJob,
  scriptLines,
  shellWords,
  variablesOf,
} from './ci-fixture.js';

// The GitLab example, replayed with the real CLI: the `vouch` lines of its build job as written, and the
// argv the template hands to vouch in the sign, attest and verify jobs (recorded by running the template's
// scripts), run in order in a tag pipeline's checkout of a small project. The gate is the example's own
// policy, examples/gitlab/release-gate.yaml, with a test key where the policy expects the release key.

/** The example's vouch calls, job by job, in pipeline order. */
function pipelineCalls(): { job: string; argv: string[] }[] {
  const config = gitlabMerged(GITLAB_EXAMPLE);
  const global = variablesOf(config['variables']);
  const out: { job: string; argv: string[] }[] = [];
  for (const line of scriptLines(resolveJob(config, 'build')['script'])) {
    const w = shellWords(line);
    if (w[0] === 'vouch') out.push({ job: 'build', argv: w.slice(1) });
  }
  for (const job of ['sign', 'attest', 'verify-fast', 'verify-deep']) {
    const resolved = resolveJob(config, job);
    for (const matrix of matrixVariants(resolved)) {
      for (const argv of runJob(resolved, { global, matrix }).calls) out.push({ job, argv });
    }
  }
  return out;
}

const PASSWORD = 'correct horse battery staple';

describe('the GitLab example pipeline, replayed with the real CLI', () => {
  const home = process.cwd();
  const work = tempDir('vouch-ci-e2e-');
  const project = join(work, 'app');
  const env: Record<string, string> = {};

  before(async () => {
    const git = (...args: string[]): string => {
      const r = spawnSync('git', ['-C', project, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    mkdirSync(project);
    git('init', '--quiet');
    const lock = {
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
    writeFileSync(join(project, 'package.json'), '{"name":"app","version":"1.0.0","license":"MIT"}\n');
    writeFileSync(join(project, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
    // The policy as the example ships it, and a test key where it expects the release key.
    mkdirSync(join(project, 'examples', 'gitlab'), { recursive: true });
    mkdirSync(join(project, 'examples', 'policies', 'keys'), { recursive: true });
    copyFileSync(
      join(ROOT, 'examples/gitlab/release-gate.yaml'),
      join(project, 'examples/gitlab/release-gate.yaml'),
    );
    const keygen = await vouch(['keygen', '--alg', 'ecdsa-p256', '--out', join(work, 'release')], {
      VOUCH_PASSWORD: PASSWORD,
    });
    assert.equal(keygen.code, 0, keygen.stderr);
    copyFileSync(join(work, 'release.pub'), join(project, 'examples/policies/keys/release.pub'));
    // Build outputs are ignored, as in any project (`--strict` provenance refuses a dirty tree).
    writeFileSync(join(project, '.gitignore'), '/dist/\n/release/\n/osv-npm.zip\n');
    git('add', '.');
    git('commit', '--quiet', '-m', 'v1.0.0');
    const commit = git('rev-parse', 'HEAD');

    // What the build job's non-vouch lines make: the package, the release folder, the OSV export.
    mkdirSync(join(project, 'dist'));
    mkdirSync(join(project, 'release'));
    writeFileSync(join(project, 'dist', 'app.tgz'), 'the package bytes\n');
    const osv = join(VECTORS, 'osv');
    const records = readdirSync(osv).filter((f) => f.startsWith('GHSA-'));
    const zip = spawnSync('zip', [
      '-q',
      '-j',
      join(project, 'osv-npm.zip'),
      ...records.map((f) => join(osv, f)),
    ]);
    assert.equal(zip.status, 0, String(zip.stderr));

    Object.assign(env, {
      GITLAB_CI: 'true',
      CI_SERVER_URL: 'https://gitlab.com',
      CI_PROJECT_URL: 'https://gitlab.com/acme/app',
      CI_PROJECT_PATH: 'acme/app',
      CI_PROJECT_ID: '4242',
      CI_CONFIG_PATH: '.gitlab-ci.yml',
      CI_COMMIT_SHA: commit,
      CI_COMMIT_TAG: 'v1.0.0',
      CI_COMMIT_REF_NAME: 'v1.0.0',
      CI_PIPELINE_SOURCE: 'push',
      CI_PIPELINE_ID: '1234567',
      CI_PIPELINE_URL: 'https://gitlab.com/acme/app/-/pipelines/1234567',
      CI_JOB_ID: '7654321',
      CI_JOB_NAME: 'build',
      CI_JOB_URL: 'https://gitlab.com/acme/app/-/jobs/7654321',
      CI_JOB_STARTED_AT: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      CI_JOB_IMAGE: 'node:20',
      CI_RUNNER_ID: '31',
      CI_RUNNER_VERSION: '17.9.1',
      npm_config_user_agent: 'npm/10.8.2 node/v20.17.0 linux x64 workspaces/false',
      XDG_DATA_HOME: join(work, 'data'),
      VOUCH_SIGNING_KEY: readFileSync(join(work, 'release.key'), 'utf8'),
      VOUCH_PASSWORD: PASSWORD,
    });
    process.chdir(project);
  });
  after(() => process.chdir(home));

  it('every call succeeds, and the deep gate allows the release', async () => {
    const calls = pipelineCalls();
    assert.deepEqual(
      calls.map((c) => `${c.job}: ${c.argv.slice(0, c.argv[0] === 'vuln' ? 3 : 1).join(' ')}`),
      [
        'build: provenance',
        'build: sbom',
        'build: vuln db import',
        'build: scan',
        'sign: sign',
        'attest: attest',
        'attest: attest',
        'attest: attest',
        'verify-fast: verify',
        'verify-deep: verify',
      ],
    );
    for (const { job, argv } of calls) {
      const r = await vouch(argv, env);
      assert.equal(r.code, 0, `${job}: vouch ${argv.join(' ')}\n${r.stdout}${r.stderr}`);
    }
    const sarif = JSON.parse(readFileSync('vouch.sarif', 'utf8')) as {
      runs: {
        results: unknown[];
        properties: { decisions: { allow: boolean; tier: string; policy: string }[] };
      }[];
    };
    assert.deepEqual(sarif.runs[0]?.results, []);
    assert.deepEqual(
      sarif.runs[0]?.properties.decisions.map((d) => [d.allow, d.tier, d.policy]),
      [[true, 'deep', 'release-gate-gitlab']],
    );
  });

  it('the same gates deny a package that changed after signing', async () => {
    writeFileSync(join(project, 'dist', 'app.tgz'), 'other bytes\n');
    for (const { job, argv } of pipelineCalls().filter((c) => c.job.startsWith('verify-'))) {
      const r = await vouch(argv, env);
      assert.equal(r.code, 1, `${job}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout + r.stderr, /ERR_POLICY_DENIED/);
    }
  });
});
