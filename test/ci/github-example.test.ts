import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CliResult, vouch } from '../cli/harness.js';
import { tempDir } from '../helpers.js';
import { obj, ROOT, runAction, stepsOf, str, workflowJobs } from './ci-fixture.js';
import { buildOutputs, PASSWORD, releaseProject } from './replay.js';

// The GitHub example, replayed with the real CLI: every `uses: ./` step of examples/github/release.yml, as the
// action hands it to vouch (recorded by running the action's script), run in job order in a checkout of
// acme/app under the GitHub Actions environment of the provenance fixture github-push. The gate is the
// example's own policy, examples/policies/release-gate.yaml, with a test key where it expects the release key.

/** The workflow's vouch calls, step by step, in job order. */
function workflowCalls(): { step: string; argv: string[] }[] {
  const out: { step: string; argv: string[] }[] = [];
  for (const [id, job] of workflowJobs()) {
    for (const step of stepsOf(job, id).filter((s) => s['uses'] === './')) {
      const given = step['with'] === undefined ? {} : obj(step['with'], 'with');
      for (const argv of runAction(given).calls)
        out.push({ step: `${id}: ${str(step['name']) ?? ''}`, argv });
    }
  }
  return out;
}

interface PushFixture {
  env: Record<string, string>;
  secrets: string[];
}
const PUSH = JSON.parse(
  readFileSync(join(ROOT, 'test/attest/provenance/fixtures/github-push/input.json'), 'utf8'),
) as PushFixture;

interface Sarif {
  runs: {
    results: { ruleId: string }[];
    properties: { decisions: { allow: boolean; tier: string; policy: string }[] };
  }[];
}

describe('the GitHub example workflow, replayed with the real CLI', () => {
  const home = process.cwd();
  const work = tempDir('vouch-ci-github-');
  const project = join(work, 'app');
  const calls = workflowCalls();
  let commit = '';
  let signingKey = '';

  before(async () => {
    ({ commit, signingKey } = await releaseProject(work, {
      policy: 'examples/policies/release-gate.yaml',
      ignore: ['/dist/', '/release/', '/osv-npm.zip', '/vouch.sarif'],
    }));
    process.chdir(project);
  });
  after(() => process.chdir(home));

  /** github-push's environment for acme/app's (or another repository's) workflow on `ref`. */
  function githubEnv(o: { repository: string; ref: string; workflow: string }): Record<string, string> {
    const [owner = '', name = ''] = o.repository.split('/');
    return {
      ...PUSH.env,
      GITHUB_REPOSITORY: o.repository,
      GITHUB_REPOSITORY_OWNER: owner,
      GITHUB_REF: o.ref,
      GITHUB_REF_NAME: o.ref.replace(/^refs\/(heads|tags)\//, ''),
      GITHUB_REF_TYPE: o.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      GITHUB_WORKFLOW_REF: `${o.repository}/.github/workflows/${o.workflow}@${o.ref}`,
      GITHUB_SHA: commit,
      GITHUB_WORKFLOW_SHA: commit,
      GITHUB_WORKSPACE: `/home/runner/work/${name}/${name}`,
      XDG_DATA_HOME: join(work, 'data'),
      VOUCH_SIGNING_KEY: signingKey,
      VOUCH_PASSWORD: PASSWORD,
    };
  }

  /**
   * One run of the workflow from a fresh build: what its non-vouch steps make (the package, the release
   * folder, the OSV export), then every vouch call; all but the deep gate must succeed (the fast gate too).
   * Returns each call's result by step, and the deep gate's SARIF.
   */
  async function release(
    env: Record<string, string>,
  ): Promise<{ results: Map<string, CliResult>; sarif: Sarif }> {
    for (const p of ['dist', 'release', 'osv-npm.zip', 'vouch.sarif'])
      rmSync(p, { recursive: true, force: true });
    buildOutputs('.');
    const results = new Map<string, CliResult>();
    let output = '';
    for (const { step, argv } of calls) {
      const r = await vouch(argv, env);
      output += r.stdout + r.stderr;
      results.set(step, r);
      if (!step.startsWith('gate:'))
        assert.equal(r.code, 0, `${step}: vouch ${argv.join(' ')}\n${r.stdout}${r.stderr}`);
    }
    // The runner's tokens are in the environment of every step; none may reach an output or a predicate.
    const written = readdirSync('release').map((f) => readFileSync(join('release', f), 'utf8'));
    for (const secret of PUSH.secrets) {
      assert.ok(![output, ...written].some((t) => t.includes(secret)), `a secret of the environment leaked`);
    }
    return { results, sarif: JSON.parse(readFileSync('vouch.sarif', 'utf8')) as Sarif };
  }

  it("follows the workflow's steps", () => {
    assert.deepEqual(
      calls.map((c) => `${c.step} → ${c.argv.slice(0, c.argv[0] === 'vuln' ? 3 : 1).join(' ')}`),
      [
        'build: Provenance → provenance',
        'build: SBOM → sbom',
        'build: Import it → vuln db import',
        'build: Vulnerability scan → scan',
        'sign: Sign the package → sign',
        'sign: Attest the provenance → attest',
        'sign: Attest the SBOM → attest',
        'sign: Attest the vulnerability scan → attest',
        'sign: Gate (fast tier) → verify',
        'gate: Gate (deep tier) → verify',
      ],
    );
  });

  it('a release of acme/app from main: every step succeeds and both gates allow', async () => {
    const env = githubEnv({ repository: 'acme/app', ref: 'refs/heads/main', workflow: 'release.yml' });
    const { results, sarif } = await release(env);
    assert.equal(results.get('gate: Gate (deep tier)')?.code, 0);
    assert.deepEqual(sarif.runs[0]?.results, []);
    assert.deepEqual(
      sarif.runs[0]?.properties.decisions.map((d) => [d.allow, d.tier, d.policy]),
      [[true, 'deep', 'release-gate']],
    );
    // What the gate judged: the provenance vouch wrote on GitHub, as GitHub's attest-build-provenance would.
    const provenance = JSON.parse(readFileSync('release/provenance.json', 'utf8')) as {
      predicate: { buildDefinition: { buildType: string }; runDetails: { builder: { id: string } } };
    };
    assert.equal(
      provenance.predicate.buildDefinition.buildType,
      'https://actions.github.io/buildtypes/workflow/v1',
    );
    assert.equal(
      provenance.predicate.runDetails.builder.id,
      'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    );
  });

  it('a release from a version tag, as the workflow runs on `push: tags`, is allowed too', async () => {
    const env = githubEnv({ repository: 'acme/app', ref: 'refs/tags/v1.0.0', workflow: 'release.yml' });
    const { results, sarif } = await release(env);
    assert.equal(results.get('gate: Gate (deep tier)')?.code, 0);
    assert.deepEqual(sarif.runs[0]?.results, []);
  });

  const denials: { what: string; repository: string; ref: string; workflow: string; failed: string[] }[] = [
    {
      what: 'a feature branch',
      repository: 'acme/app',
      ref: 'refs/heads/feature/x',
      workflow: 'release.yml',
      failed: ['attestations.provenance.builder', 'baseline.branch'],
    },
    {
      what: 'another repository (a fork)',
      repository: 'mallory/app',
      ref: 'refs/heads/main',
      workflow: 'release.yml',
      failed: ['attestations.provenance.builder', 'baseline.sourceRepository'],
    },
    {
      what: "another of acme/app's workflows",
      repository: 'acme/app',
      ref: 'refs/heads/main',
      workflow: 'ci.yml',
      failed: ['attestations.provenance.builder'],
    },
  ];
  for (const d of denials) {
    it(`provenance from ${d.what}: the fast gate allows, the deep gate denies naming the check`, async () => {
      // The fast gate (signatures, presence) allowed inside release(); the deep gate judges the provenance.
      const { results, sarif } = await release(githubEnv(d));
      const deep = results.get('gate: Gate (deep tier)');
      assert.equal(deep?.code, 1);
      const named =
        /verification failed: ([\w.-]+): policy release-gate denies dist\/app\.tgz: .* \[ERR_POLICY_DENIED\]/.exec(
          deep.stderr,
        );
      assert.ok(named?.[1] !== undefined && d.failed.includes(named[1]), deep.stderr);
      assert.deepEqual(sarif.runs[0]?.results.map((r) => r.ruleId).sort(), d.failed);
      assert.deepEqual(
        sarif.runs[0]?.properties.decisions.map((x) => [x.allow, x.tier]),
        [[false, 'deep']],
      );
    });
  }
});
