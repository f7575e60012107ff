import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { vouch } from '../cli/harness.js';
import { tempDir } from '../helpers.js';
import {
  GITLAB_EXAMPLE,
  gitlabMerged,
  matrixVariants,
  resolveJob,
  runJob,
  scriptLines,
  shellWords,
  variablesOf,
} from './ci-fixture.js';
import { buildOutputs, PASSWORD, releaseProject } from './replay.js';

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

describe('the GitLab example pipeline, replayed with the real CLI', () => {
  const home = process.cwd();
  const work = tempDir('vouch-ci-e2e-');
  const project = join(work, 'app');
  const env: Record<string, string> = {};

  before(async () => {
    const { commit, signingKey } = await releaseProject(work, {
      policy: 'examples/gitlab/release-gate.yaml',
      ignore: ['/dist/', '/release/', '/osv-npm.zip'],
    });
    buildOutputs(project);

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
      VOUCH_SIGNING_KEY: signingKey,
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
