import { VouchError } from '../../core/index.js';
import { type ProvenanceEnv, parseTimestamp, required, safeHttpUrl, safeRemoteUrl } from './env.js';
import type { GitState } from './git.js';

/** GitHub's own build type, as actions/attest-build-provenance writes it (github.com/actions/buildtypes). */
export const GITHUB_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';
/** Vouch's build types (docs/provenance.md; decision 007). */
export const GITLAB_BUILD_TYPE = 'https://vouch.dev/buildtypes/gitlab-ci/v1';
export const LOCAL_BUILD_TYPE = 'https://vouch.dev/buildtypes/local/v1';
const LOCAL_BUILDER_ID = 'https://vouch.dev/builders/local';

export type PlatformName = 'github' | 'gitlab' | 'local';

/** What one platform contributes to the predicate; provenance.ts adds subjects, toolchain and lockfiles. */
export interface PlatformRun {
  readonly platform: PlatformName;
  readonly buildType: string;
  readonly externalParameters: Record<string, unknown>;
  /** The platform's own internal parameters (`github`, `gitlab`); the OS is added beside them. */
  readonly internalParameters: Record<string, unknown>;
  /** The source checkout as a dependency; the commit comes from the platform, or from git when local. */
  readonly source: {
    readonly uri?: string;
    readonly commit?: string;
    /** The variable the commit was read from, for messages (`GITHUB_SHA`). */
    readonly commitFrom?: string;
    readonly mergeCommit?: boolean;
  };
  readonly builder: { readonly id: string; readonly version?: Record<string, string> };
  readonly invocationId?: string;
  readonly startedOn?: string;
  /** The job's container image reference, when the platform names one. */
  readonly image?: string;
}

export function detectPlatform(env: ProvenanceEnv): PlatformName {
  if (env.GITHUB_ACTIONS === 'true') return 'github';
  if (env.GITLAB_CI === 'true') return 'gitlab';
  return 'local';
}

const GIT_COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

function commitVar(env: ProvenanceEnv, name: 'GITHUB_SHA' | 'CI_COMMIT_SHA', platform: string): string {
  const v = required(env, name, platform).toLowerCase();
  if (!GIT_COMMIT.test(v)) {
    throw new VouchError('ERR_INPUT_MALFORMED', `${name} is not a git commit id`, {
      details: { variable: name },
    });
  }
  return v;
}

function idVar(env: ProvenanceEnv, name: Parameters<typeof required>[1], platform: string): string {
  const v = required(env, name, platform);
  if (!/^\d+$/.test(v)) {
    throw new VouchError('ERR_INPUT_MALFORMED', `${name} is not a number`, { details: { variable: name } });
  }
  return v;
}

/** Keeps only the defined entries, in order, so absent variables leave no `undefined` keys behind. */
function defined(entries: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * GitHub Actions, field for field as @actions/attest buildSLSAProvenancePredicate (actions/toolkit,
 * packages/attest/src/provenance.ts), read from the default environment variables instead of the OIDC
 * token's claims: the values are the same, except that a reusable workflow's own ref (`job_workflow_ref`)
 * has no variable, so builder.id names the calling workflow (`GITHUB_WORKFLOW_REF`).
 */
export function githubRun(env: ProvenanceEnv): PlatformRun {
  const P = 'GitHub Actions';
  const server = safeHttpUrl(required(env, 'GITHUB_SERVER_URL', P), 'GITHUB_SERVER_URL');
  const repo = required(env, 'GITHUB_REPOSITORY', P);
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) {
    throw new VouchError('ERR_INPUT_MALFORMED', 'GITHUB_REPOSITORY is not <owner>/<name>', {
      details: { variable: 'GITHUB_REPOSITORY' },
    });
  }
  const workflowRef = required(env, 'GITHUB_WORKFLOW_REF', P);
  if (!workflowRef.startsWith(`${repo}/`) || !workflowRef.includes('@')) {
    throw new VouchError(
      'ERR_INPUT_MALFORMED',
      'GITHUB_WORKFLOW_REF is not <owner>/<name>/<path>@<ref> of GITHUB_REPOSITORY',
      { details: { variable: 'GITHUB_WORKFLOW_REF' } },
    );
  }
  // `owner/repo/.github/workflows/ci.yml@refs/tags/v1@beta` → path up to the first `@`, ref the rest
  // (a tag may contain `@`), as @actions/attest splits it.
  const [path = '', ...refParts] = workflowRef.slice(repo.length + 1).split('@');
  const ref = required(env, 'GITHUB_REF', P);
  const repository = `${server}/${repo}`;
  const runId = idVar(env, 'GITHUB_RUN_ID', P);
  const attempt = idVar(env, 'GITHUB_RUN_ATTEMPT', P);
  // Pull request events: GITHUB_REF is refs/pull/<n>/merge and GITHUB_SHA the merge commit GitHub made of
  // head into base, not the head commit; head_ref/base_ref are the github context's names for the branches.
  const mergeCommit = /^refs\/pull\/\d+\/merge$/.test(ref);
  return {
    platform: 'github',
    buildType: GITHUB_BUILD_TYPE,
    externalParameters: { workflow: { ref: refParts.join('@'), repository, path } },
    internalParameters: {
      github: defined({
        event_name: required(env, 'GITHUB_EVENT_NAME', P),
        repository_id: env.GITHUB_REPOSITORY_ID,
        repository_owner_id: env.GITHUB_REPOSITORY_OWNER_ID,
        runner_environment: env.RUNNER_ENVIRONMENT,
        head_ref: env.GITHUB_HEAD_REF,
        base_ref: env.GITHUB_BASE_REF,
      }),
    },
    source: {
      uri: `git+${repository}@${ref}`,
      commit: commitVar(env, 'GITHUB_SHA', P),
      commitFrom: 'GITHUB_SHA',
      ...(mergeCommit ? { mergeCommit } : {}),
    },
    builder: { id: `${server}/${workflowRef}` },
    invocationId: `${repository}/actions/runs/${runId}/attempts/${attempt}`,
  };
}

/** The ref a GitLab pipeline ran for: a tag, a branch, else the bare ref name GitLab gives. */
function gitlabRef(env: ProvenanceEnv): string | undefined {
  if (env.CI_COMMIT_TAG !== undefined) return `refs/tags/${env.CI_COMMIT_TAG}`;
  if (env.CI_COMMIT_BRANCH !== undefined) return `refs/heads/${env.CI_COMMIT_BRANCH}`;
  return env.CI_COMMIT_REF_NAME;
}

/**
 * GitLab CI, under Vouch's own build type. GitLab's runner-generated provenance has its own build type, but
 * that one asserts the runner wrote the statement; Vouch runs inside the job, so it must not claim it.
 * builder.id uses the runner URL form GitLab's own provenance uses (`<server>/<project>/-/runners/<id>`).
 */
export function gitlabRun(env: ProvenanceEnv): PlatformRun {
  const P = 'GitLab CI';
  const server = safeHttpUrl(required(env, 'CI_SERVER_URL', P), 'CI_SERVER_URL');
  const projectUrl = safeHttpUrl(required(env, 'CI_PROJECT_URL', P), 'CI_PROJECT_URL');
  const projectPath = required(env, 'CI_PROJECT_PATH', P);
  if (!/^[\w.-]+(\/[\w.-]+)+$/.test(projectPath)) {
    throw new VouchError('ERR_INPUT_MALFORMED', 'CI_PROJECT_PATH is not <namespace>/<project>', {
      details: { variable: 'CI_PROJECT_PATH' },
    });
  }
  const pipelineId = idVar(env, 'CI_PIPELINE_ID', P);
  const jobId = idVar(env, 'CI_JOB_ID', P);
  const runnerId = idVar(env, 'CI_RUNNER_ID', P);
  const ref = gitlabRef(env);
  const jobUrl =
    env.CI_JOB_URL === undefined
      ? `${projectUrl}/-/jobs/${jobId}`
      : safeHttpUrl(env.CI_JOB_URL, 'CI_JOB_URL');
  const pipelineUrl =
    env.CI_PIPELINE_URL === undefined
      ? `${projectUrl}/-/pipelines/${pipelineId}`
      : safeHttpUrl(env.CI_PIPELINE_URL, 'CI_PIPELINE_URL');
  return {
    platform: 'gitlab',
    buildType: GITLAB_BUILD_TYPE,
    externalParameters: {
      pipeline: defined({ repository: projectUrl, ref, path: env.CI_CONFIG_PATH, job: env.CI_JOB_NAME }),
    },
    internalParameters: {
      gitlab: defined({
        pipeline_source: env.CI_PIPELINE_SOURCE,
        project_id: env.CI_PROJECT_ID,
        pipeline_id: pipelineId,
        pipeline_url: pipelineUrl,
        job_id: jobId,
        runner_id: runnerId,
      }),
    },
    source: {
      uri: `git+${projectUrl}${ref === undefined ? '' : `@${ref}`}`,
      commit: commitVar(env, 'CI_COMMIT_SHA', P),
      commitFrom: 'CI_COMMIT_SHA',
    },
    builder: {
      id: `${server}/${projectPath}/-/runners/${runnerId}`,
      ...(env.CI_RUNNER_VERSION === undefined ? {} : { version: { 'gitlab-runner': env.CI_RUNNER_VERSION } }),
    },
    invocationId: jobUrl,
    ...(env.CI_JOB_STARTED_AT === undefined
      ? {}
      : { startedOn: parseTimestamp(env.CI_JOB_STARTED_AT, 'CI_JOB_STARTED_AT', 'ERR_INPUT_MALFORMED') }),
    ...(env.CI_JOB_IMAGE === undefined ? {} : { image: env.CI_JOB_IMAGE }),
  };
}

/** A build on a workstation (or an unrecognised CI): everything comes from git in the working directory. */
export function localRun(git: GitState | undefined): PlatformRun {
  const repository = git?.remoteUrl === undefined ? undefined : safeRemoteUrl(git.remoteUrl);
  const at = git?.ref ?? git?.commit;
  return {
    platform: 'local',
    buildType: LOCAL_BUILD_TYPE,
    externalParameters: { source: defined({ repository, ref: git?.ref }) },
    internalParameters: {},
    source: {
      ...(repository === undefined ? {} : { uri: `git+${repository}${at === undefined ? '' : `@${at}`}` }),
      ...(git?.commit === undefined ? {} : { commit: git.commit }),
    },
    builder: { id: LOCAL_BUILDER_ID },
  };
}
