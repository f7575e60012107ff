import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ALLOWED_ENV,
  parseTimestamp,
  pickEnv,
  safeHttpUrl,
  safeRemoteUrl,
} from '../../../src/attest/provenance/env.js';
import { type GitState, readGit } from '../../../src/attest/provenance/git.js';
import {
  buildProvenance,
  type ProvenanceOptions,
  type ProvenanceResult,
} from '../../../src/attest/provenance/provenance.js';
import {
  npmFromUserAgent,
  probeToolchain,
  type Toolchain,
} from '../../../src/attest/provenance/toolchain.js';
import { isVouchError } from '../../../src/core/index.js';
import { parseStatement, serializeStatement } from '../../../src/envelope/index.js';
import { expectCode, tempDir, VECTORS } from '../../helpers.js';
import { FIXTURES, fixtureNames, loadFixture, replay } from './fixture-run.js';

const TOOLCHAIN: Toolchain = {
  node: '20.17.0',
  npm: '10.8.2',
  os: { platform: 'linux', release: '6.8.0', arch: 'x64' },
};
const CLEAN: GitState = {
  commit: 'a'.repeat(40),
  ref: 'refs/heads/main',
  remoteUrl: 'https://git.example.com/team/app.git',
  dirty: false,
};
const NOW = () => new Date('2025-01-02T03:04:05Z');

/** A directory with one artifact and a package-lock.json, and options that inject everything else. */
function project(
  over: Omit<Partial<ProvenanceOptions>, 'git'> & { git?: GitState | undefined } = {},
): ProvenanceOptions {
  const dir = tempDir('vouch-prov-');
  writeFileSync(join(dir, 'app.tgz'), 'app\n');
  writeFileSync(join(dir, 'package-lock.json'), '{}\n');
  const git = 'git' in over ? over.git : CLEAN;
  return {
    subjects: ['app.tgz'],
    env: {},
    cwd: dir,
    now: NOW,
    toolchain: async () => TOOLCHAIN,
    ...over,
    git: async () => git,
  };
}

interface BuildDefinition {
  externalParameters: unknown;
  resolvedDependencies: { uri?: string; digest?: object }[];
}

function definition(r: ProvenanceResult): BuildDefinition {
  const p = r.statement.predicate;
  assert.ok(p !== undefined);
  return p['buildDefinition'] as BuildDefinition;
}

async function incompleteDetails(o: ProvenanceOptions): Promise<string[]> {
  try {
    await buildProvenance({ ...o, strict: true });
  } catch (e) {
    assert.ok(isVouchError(e));
    assert.equal(e.code, 'ERR_PROVENANCE_INCOMPLETE');
    return e.details?.['missing'] as string[];
  }
  assert.fail('expected ERR_PROVENANCE_INCOMPLETE');
}

describe('provenance: recorded builds give exactly the expected statement', () => {
  const names = fixtureNames();
  it('has the four recorded platforms', () => {
    assert.deepEqual(names, ['github-pull-request', 'github-push', 'gitlab-tag', 'local']);
  });
  for (const name of names) {
    it(name, async () => {
      const f = loadFixture(name);
      const dir = tempDir(`vouch-prov-${name}-`);
      const result = await replay(f, dir);
      const expected: unknown = JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8'));
      assert.deepEqual(result.statement, expected);
      assert.equal(result.platform, f.expect.platform);
      assert.deepEqual(result.incomplete, f.expect.incomplete);
      // Subject digests, independently of the implementation.
      for (const s of result.statement.subject) {
        const content = f.files[s.name ?? ''];
        assert.ok(content !== undefined, `${s.name} is a fixture file`);
        assert.equal(s.digest['sha256'], createHash('sha256').update(content).digest('hex'));
      }
      const text = JSON.stringify(result.statement);
      for (const secret of f.secrets)
        assert.ok(!text.includes(secret), `${name}: output contains "${secret}"`);
      // What Vouch writes, Vouch (and any in-toto reader) reads back unchanged.
      assert.deepEqual(parseStatement(serializeStatement(result.statement)), result.statement);
    });
  }
});

describe('provenance: GitHub Actions matches what GitHub itself signed', () => {
  // A real attest-build-provenance statement (slsa-verifier testdata, bazel-contrib/publish-to-bcr run on
  // aspect-build/rules_lint). Its run's default variables are restated from the statement's own values.
  const bundle = JSON.parse(
    readFileSync(
      join(VECTORS, 'in-toto', 'slsa-provenance-v1-bcr', 'MODULE.bazel.intoto.jsonl'),
      'utf8',
    ).split('\n')[0] ?? '',
  );
  const real = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
  const env = {
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'aspect-build/rules_lint',
    GITHUB_REPOSITORY_ID: '631710741',
    GITHUB_REPOSITORY_OWNER_ID: '60951090',
    GITHUB_WORKFLOW_REF: 'aspect-build/rules_lint/.github/workflows/release.yml@refs/heads/publish-to-bcr',
    GITHUB_REF: 'refs/heads/publish-to-bcr',
    GITHUB_SHA: '8f70009fde0c94ade6ce2a054b94718c819126ec',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_RUN_ID: '14095611671',
    GITHUB_RUN_ATTEMPT: '1',
    RUNNER_ENVIRONMENT: 'github-hosted',
  };

  it('same build type, parameters, source dependency and invocation id', async () => {
    const r = await buildProvenance(
      project({ env, git: { commit: env.GITHUB_SHA, ref: env.GITHUB_REF, dirty: false } }),
    );
    const ours = r.statement.predicate as typeof real.predicate;
    const theirs = real.predicate;
    assert.equal(ours.buildDefinition.buildType, theirs.buildDefinition.buildType);
    assert.deepEqual(ours.buildDefinition.externalParameters, theirs.buildDefinition.externalParameters);
    assert.deepEqual(
      ours.buildDefinition.internalParameters.github,
      theirs.buildDefinition.internalParameters.github,
    );
    const { annotations, ...source } = ours.buildDefinition.resolvedDependencies[0];
    assert.deepEqual(source, theirs.buildDefinition.resolvedDependencies[0]);
    assert.deepEqual(annotations, { dirty: false });
    assert.equal(ours.runDetails.metadata.invocationId, theirs.runDetails.metadata.invocationId);
    // This run was a reusable workflow: GitHub names it from the OIDC token's job_workflow_ref, which no
    // environment variable carries, so Vouch names the calling workflow (docs/provenance.md).
    assert.equal(
      ours.runDetails.builder.id,
      'https://github.com/aspect-build/rules_lint/.github/workflows/release.yml@refs/heads/publish-to-bcr',
    );
    assert.notEqual(ours.runDetails.builder.id, theirs.runDetails.builder.id);
  });
});

describe('provenance: environment and URLs', () => {
  it('reads only allow-listed variables, and no token-bearing one', () => {
    const picked = pickEnv({
      GITHUB_TOKEN: 't',
      CI_JOB_TOKEN: 't',
      GITHUB_SHA: 'abc',
      CI_COMMIT_TAG: '',
      PATH: '/bin',
    });
    assert.deepEqual(picked, { GITHUB_SHA: 'abc' });
    for (const name of ALLOWED_ENV) assert.doesNotMatch(name, /TOKEN|PASSWORD|SECRET|KEY|REPOSITORY_URL/);
  });

  it('strips credentials from git remotes and refuses what it cannot recognise', () => {
    const cases: [string, string | undefined][] = [
      ['https://user:ghp_x@github.com/o/r.git', 'https://github.com/o/r.git'],
      ['https://x-access-token@github.com/o/r', 'https://github.com/o/r'],
      ['https://github.com/o/r?token=abc#frag', 'https://github.com/o/r'],
      ['git@github.com:o/r.git', 'ssh://github.com/o/r.git'],
      ['ssh://git:pw@host.example:2222/o/r.git', 'ssh://host.example:2222/o/r.git'],
      ['/srv/git/r.git', undefined],
      ['file:///srv/git/r.git', undefined],
      ['C:\\repos\\r', undefined],
      ['not a url', undefined],
    ];
    for (const [input, want] of cases) assert.equal(safeRemoteUrl(input), want, input);
  });

  it('CI URLs lose userinfo; a non-http value is a coded error naming the variable', async () => {
    assert.equal(
      safeHttpUrl('https://u:p@gitlab.example.com/', 'CI_SERVER_URL'),
      'https://gitlab.example.com',
    );
    await expectCode(() => safeHttpUrl('javascript:alert(1)', 'CI_SERVER_URL'), 'ERR_INPUT_MALFORMED');
    await expectCode(() => safeHttpUrl('::', 'GITHUB_SERVER_URL'), 'ERR_INPUT_MALFORMED');
  });

  it('timestamps: RFC 3339 only, normalised to UTC seconds', async () => {
    assert.equal(parseTimestamp('2025-03-16T09:58:30.250+02:00', 'x', 'ERR_USAGE'), '2025-03-16T07:58:30Z');
    for (const bad of [
      '2025-03-16',
      '2025-03-16 09:58:30Z',
      'yesterday',
      '2025-13-01T00:00:00Z',
      '1700000000',
    ]) {
      await expectCode(() => parseTimestamp(bad, '--started-on', 'ERR_USAGE'), 'ERR_USAGE');
    }
  });

  it('npm version from the user agent; pnpm and yarn do not name one', () => {
    assert.equal(npmFromUserAgent('npm/10.8.2 node/v20.17.0 linux x64 workspaces/false'), '10.8.2');
    assert.equal(npmFromUserAgent('pnpm/9.12.0 npm/? node/v20.17.0 linux x64'), undefined);
    assert.equal(npmFromUserAgent(undefined), undefined);
  });

  it('the default probe reports this process', async () => {
    const t = await probeToolchain('npm/10.8.2 node/v20 linux x64');
    assert.equal(`v${t.node}`, process.version);
    assert.equal(t.npm, '10.8.2');
    assert.equal(t.os.platform, process.platform);
    assert.equal(t.os.arch, process.arch);
  });

  it('GITLAB_CI or GITHUB_ACTIONS must be exactly "true"; other CI_* variables do not switch platforms', async () => {
    const r = await buildProvenance(project({ env: { GITLAB_CI: '1', CI_COMMIT_SHA: 'b'.repeat(40) } }));
    assert.equal(r.platform, 'local');
    const deps = definition(r);
    assert.deepEqual(deps.resolvedDependencies[0]?.digest, { gitCommit: 'a'.repeat(40) });
  });
});

describe('provenance: refusals carry codes', () => {
  it('a subject matching nothing names the pattern', async () => {
    try {
      await buildProvenance(project({ subjects: ['app.tgz', 'dist/*.zip'] }));
      assert.fail('expected ERR_PROVENANCE_SUBJECT');
    } catch (e) {
      assert.ok(isVouchError(e));
      assert.equal(e.code, 'ERR_PROVENANCE_SUBJECT');
      assert.match(e.message, /dist\/\*\.zip/);
      assert.equal(e.details?.['pattern'], 'dist/*.zip');
    }
    await expectCode(() => buildProvenance(project({ subjects: [] })), 'ERR_PROVENANCE_SUBJECT');
    await expectCode(() => buildProvenance(project({ subjects: ['missing.tgz'] })), 'ERR_PROVENANCE_SUBJECT');
  });

  it('subjects: a file matched twice is one subject; directories are not subjects', async () => {
    const o = project({ subjects: ['app.tgz', '*.tgz', './app.tgz'] });
    mkdirSync(join(o.cwd ?? '', 'dir.tgz'));
    const r = await buildProvenance(o);
    assert.deepEqual(
      r.statement.subject.map((s) => s.name),
      ['app.tgz'],
    );
  });

  it('more files than one statement holds', async () => {
    const o = project({ subjects: ['many/*'] });
    mkdirSync(join(o.cwd ?? '', 'many'));
    for (let i = 0; i <= 1024; i++) writeFileSync(join(o.cwd ?? '', 'many', `f${i}`), '');
    await expectCode(() => buildProvenance(o), 'ERR_PROVENANCE_SUBJECT');
  });

  it('--lockfile that does not exist', async () => {
    await expectCode(
      () => buildProvenance(project({ lockfile: 'pnpm-lock.yaml' })),
      'ERR_LOCKFILE_NOT_FOUND',
    );
  });

  it('--started-on malformed, or after the finish', async () => {
    await expectCode(() => buildProvenance(project({ startedOn: '2025-01-02' })), 'ERR_USAGE');
    await expectCode(() => buildProvenance(project({ startedOn: '2025-01-02T03:04:06Z' })), 'ERR_USAGE');
  });

  it('GitHub Actions without the variables it always sets, or with malformed ones', async () => {
    const f = loadFixture('github-push');
    const gh = (change: Record<string, string | undefined>) =>
      buildProvenance(project({ env: { ...f.env, ...change } }));
    for (const name of [
      'GITHUB_REPOSITORY',
      'GITHUB_SHA',
      'GITHUB_WORKFLOW_REF',
      'GITHUB_RUN_ID',
      'GITHUB_SERVER_URL',
    ]) {
      await expectCode(() => gh({ [name]: undefined }), 'ERR_INPUT_MALFORMED');
    }
    await expectCode(() => gh({ GITHUB_SHA: 'main' }), 'ERR_INPUT_MALFORMED');
    await expectCode(() => gh({ GITHUB_RUN_ATTEMPT: '1; rm -rf' }), 'ERR_INPUT_MALFORMED');
    await expectCode(() => gh({ GITHUB_REPOSITORY: 'octo-org' }), 'ERR_INPUT_MALFORMED');
    await expectCode(
      () => gh({ GITHUB_WORKFLOW_REF: 'other/repo/.github/workflows/x.yml@main' }),
      'ERR_INPUT_MALFORMED',
    );
    await expectCode(() => gh({ GITHUB_SERVER_URL: 'file:///etc' }), 'ERR_INPUT_MALFORMED');
  });

  it('GitHub: a workflow ref whose tag contains @ keeps it in the ref', async () => {
    const f = loadFixture('github-push');
    const r = await buildProvenance(
      project({
        env: {
          ...f.env,
          GITHUB_WORKFLOW_REF: 'octo-org/hello-vouch/.github/workflows/release.yml@refs/tags/pkg@1.0.0',
        },
      }),
    );
    const ext = definition(r).externalParameters;
    assert.deepEqual(ext, {
      workflow: {
        ref: 'refs/tags/pkg@1.0.0',
        repository: 'https://github.com/octo-org/hello-vouch',
        path: '.github/workflows/release.yml',
      },
    });
  });

  it('GitLab: malformed CI_JOB_STARTED_AT is an input error; a branch pipeline records refs/heads; a tag-only image has no digest', async () => {
    const f = loadFixture('gitlab-tag');
    await expectCode(
      () => buildProvenance(project({ env: { ...f.env, CI_JOB_STARTED_AT: 'soon' } })),
      'ERR_INPUT_MALFORMED',
    );
    await expectCode(
      () => buildProvenance(project({ env: { ...f.env, CI_PROJECT_PATH: 'group/../x y' } })),
      'ERR_INPUT_MALFORMED',
    );
    const branch = {
      ...f.env,
      CI_COMMIT_TAG: undefined,
      CI_COMMIT_BRANCH: 'main',
      CI_COMMIT_REF_NAME: 'main',
      CI_JOB_IMAGE: 'node:20',
    };
    const r = await buildProvenance(
      project({
        env: branch,
        git: { ...CLEAN, commit: f.env['CI_COMMIT_SHA'] ?? '' },
        now: () => new Date(f.now),
      }),
    );
    const def = definition(r);
    assert.equal(
      def.resolvedDependencies[0]?.uri,
      'git+https://gitlab.example.com/platform/hello-vouch@refs/heads/main',
    );
    assert.deepEqual(def.resolvedDependencies.at(-1), { uri: 'docker://node:20' });
  });
});

describe('provenance: --strict lists everything missing', () => {
  it('complete provenance passes strict', async () => {
    const r = await buildProvenance({ ...project(), strict: true });
    assert.deepEqual(r.incomplete, []);
  });

  it('dirty work tree', async () => {
    assert.deepEqual(await incompleteDetails(project({ git: { ...CLEAN, dirty: true } })), [
      'work tree: uncommitted or untracked changes',
    ]);
  });

  it('a commit but no origin: the source repository is missing (strict refuses, lax warns)', async () => {
    const { remoteUrl: _none, ...noOrigin } = CLEAN;
    const o = project({ git: noOrigin });
    const reason = 'source repository: unknown (no git remote "origin" with an http(s), ssh or git URL)';
    assert.deepEqual(await incompleteDetails(o), [reason]);
    const lax = await buildProvenance(o);
    assert.deepEqual(lax.incomplete, [reason]);
    assert.deepEqual(definition(lax).resolvedDependencies[0], {
      digest: { gitCommit: CLEAN.commit },
      annotations: { dirty: false },
    });
    // An origin Vouch will not record (a local path) is no repository either.
    assert.deepEqual(await incompleteDetails(project({ git: { ...CLEAN, remoteUrl: '/srv/git/app.git' } })), [
      reason,
    ]);
  });

  it('no git at all and no lockfile: four items, and without --strict the same list is reported', async () => {
    const o = project({ git: undefined });
    rmSync(join(o.cwd ?? '', 'package-lock.json'));
    const missing = await incompleteDetails(o);
    assert.equal(missing.length, 4);
    assert.match(missing[0] ?? '', /^source commit/);
    assert.match(missing[1] ?? '', /^source repository: unknown/);
    assert.match(missing[2] ?? '', /^work tree: not a git checkout/);
    assert.match(missing[3] ?? '', /^lockfile/);
    const lax = await buildProvenance(o);
    assert.deepEqual(lax.incomplete, missing);
    const def = definition(lax);
    assert.deepEqual(def.resolvedDependencies, [
      { uri: 'pkg:generic/node@20.17.0' },
      { uri: 'pkg:npm/npm@10.8.2' },
    ]);
  });

  it('CI: the checked-out commit must be the one the platform names', async () => {
    const f = loadFixture('github-push');
    const missing = await incompleteDetails(
      project({ env: f.env, git: { ...CLEAN, commit: 'c'.repeat(40) } }),
    );
    assert.deepEqual(missing, [
      `source commit: the checked-out commit ${'c'.repeat(40)} is not GITHUB_SHA 3f786850e387550fdab836ed7e6dc881de23001b`,
    ]);
  });
});

describe('provenance: a real git repository', () => {
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      env: {
        PATH: process.env['PATH'],
        HOME: cwd,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 'T',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 'T',
        GIT_COMMITTER_EMAIL: 't@example.com',
      },
    }).trim();

  it('records HEAD, branch and a credential-free origin; a dirty tree fails --strict', async () => {
    const dir = tempDir('vouch-prov-git-');
    git(dir, 'init', '-q', '-b', 'release');
    git(dir, 'remote', 'add', 'origin', 'https://bot:s3cr3t-token@git.example.com/team/app.git');
    writeFileSync(join(dir, '.gitignore'), 'dist/\n');
    writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion":3}\n');
    git(dir, 'add', '.');
    git(dir, 'commit', '-q', '-m', 'init');
    const head = git(dir, 'rev-parse', 'HEAD');
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'app.tgz'), 'built\n');

    const state = await readGit(dir);
    assert.deepEqual(state, {
      commit: head,
      ref: 'refs/heads/release',
      remoteUrl: 'https://bot:s3cr3t-token@git.example.com/team/app.git',
      dirty: false,
    });
    const o: ProvenanceOptions = {
      subjects: ['dist/*.tgz'],
      env: { npm_config_user_agent: 'npm/10.8.2 node/v20.17.0 linux x64' },
      cwd: dir,
      strict: true,
      now: NOW,
    };
    const r = await buildProvenance(o);
    assert.equal(r.platform, 'local');
    assert.deepEqual(r.statement.subject, [
      { name: 'dist/app.tgz', digest: { sha256: createHash('sha256').update('built\n').digest('hex') } },
    ]);
    const def = definition(r);
    assert.deepEqual(def.resolvedDependencies.slice(0, 2), [
      {
        uri: 'git+https://git.example.com/team/app.git@refs/heads/release',
        digest: { gitCommit: head },
        annotations: { dirty: false },
      },
      {
        name: 'package-lock.json',
        digest: { sha256: createHash('sha256').update('{"lockfileVersion":3}\n').digest('hex') },
      },
    ]);
    assert.ok(!JSON.stringify(r.statement).includes('s3cr3t-token'));

    writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion":3,"edited":true}\n');
    await expectCode(() => buildProvenance(o), 'ERR_PROVENANCE_INCOMPLETE');
    const lax = await buildProvenance({ ...o, strict: false });
    assert.deepEqual(lax.incomplete, ['work tree: uncommitted or untracked changes']);
  });

  it('a clean checkout with a commit and a lockfile but no origin fails --strict', async () => {
    const dir = tempDir('vouch-prov-noorigin-');
    git(dir, 'init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'package-lock.json'), '{}\n');
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    git(dir, 'add', '.');
    git(dir, 'commit', '-q', '-m', 'init');
    const o: ProvenanceOptions = {
      subjects: ['a.txt'],
      env: { npm_config_user_agent: 'npm/10.8.2 node/v20.17.0 linux x64' },
      cwd: dir,
      now: NOW,
    };
    assert.deepEqual(await incompleteDetails(o), [
      'source repository: unknown (no git remote "origin" with an http(s), ssh or git URL)',
    ]);
  });

  it('outside a repository the reader says so; an empty repository has no commit', async () => {
    const outside = tempDir('vouch-prov-nogit-');
    assert.equal(await readGit(outside), undefined);
    const empty = tempDir('vouch-prov-empty-');
    git(empty, 'init', '-q', '-b', 'main');
    assert.deepEqual(await readGit(empty), { ref: 'refs/heads/main', dirty: false });
  });
});
