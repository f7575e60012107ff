import { VouchError } from '../../core/index.js';
import { RFC3339_DATE_TIME } from '../sbom/sbom-write-common.js';

/**
 * The only environment variables provenance reads. CI environments also hold tokens (`GITHUB_TOKEN`,
 * `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, `CI_JOB_TOKEN`, and `CI_REPOSITORY_URL`, which embeds one): anything not
 * listed here is never looked at, so it cannot reach the output.
 */
export const ALLOWED_ENV = [
  // GitHub Actions: docs.github.com/actions/reference/variables-reference (default environment variables)
  'GITHUB_ACTIONS',
  'GITHUB_SERVER_URL',
  'GITHUB_REPOSITORY',
  'GITHUB_REPOSITORY_ID',
  'GITHUB_REPOSITORY_OWNER_ID',
  'GITHUB_WORKFLOW_REF',
  'GITHUB_REF',
  'GITHUB_SHA',
  'GITHUB_EVENT_NAME',
  'GITHUB_RUN_ID',
  'GITHUB_RUN_ATTEMPT',
  'GITHUB_HEAD_REF',
  'GITHUB_BASE_REF',
  'RUNNER_ENVIRONMENT',
  // GitLab CI: docs.gitlab.com/ci/variables/predefined_variables
  'GITLAB_CI',
  'CI_SERVER_URL',
  'CI_PROJECT_URL',
  'CI_PROJECT_PATH',
  'CI_PROJECT_ID',
  'CI_CONFIG_PATH',
  'CI_COMMIT_SHA',
  'CI_COMMIT_REF_NAME',
  'CI_COMMIT_TAG',
  'CI_COMMIT_BRANCH',
  'CI_PIPELINE_SOURCE',
  'CI_PIPELINE_ID',
  'CI_PIPELINE_URL',
  'CI_JOB_ID',
  'CI_JOB_NAME',
  'CI_JOB_URL',
  'CI_JOB_STARTED_AT',
  'CI_JOB_IMAGE',
  'CI_RUNNER_ID',
  'CI_RUNNER_VERSION',
  // npm sets this for scripts it runs: "npm/10.8.2 node/v20.17.0 linux x64 workspaces/false"
  'npm_config_user_agent',
] as const;

export type AllowedEnvName = (typeof ALLOWED_ENV)[number];

/** The allow-listed variables that are set and non-empty; the rest of the environment is dropped here. */
export type ProvenanceEnv = Readonly<Partial<Record<AllowedEnvName, string>>>;

export function pickEnv(env: Readonly<Record<string, string | undefined>>): ProvenanceEnv {
  const out: Partial<Record<AllowedEnvName, string>> = {};
  for (const name of ALLOWED_ENV) {
    const v = Object.hasOwn(env, name) ? env[name] : undefined;
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

/** A variable the detected platform always sets; its absence means the environment is not what it claims. */
export function required(env: ProvenanceEnv, name: AllowedEnvName, platform: string): string {
  const v = env[name];
  if (v === undefined) {
    throw new VouchError('ERR_INPUT_MALFORMED', `${platform} detected, but ${name} is not set`, {
      details: { variable: name },
    });
  }
  return v;
}

/**
 * An http(s) URL with any userinfo removed (`https://user:token@host/x` → `https://host/x`), no trailing slash.
 * Values come from the CI environment or git config; a credential in them must never reach the provenance.
 */
export function safeHttpUrl(value: string, source: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new VouchError('ERR_INPUT_MALFORMED', `${source} is not a URL`, { details: { source } });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new VouchError('ERR_INPUT_MALFORMED', `${source} is not an http(s) URL`, { details: { source } });
  }
  u.username = '';
  u.password = '';
  return u.href.replace(/\/+$/, '');
}

/**
 * A git remote as a URL without credentials. scp-like `git@host:owner/repo.git` becomes
 * `ssh://host/owner/repo.git`; userinfo is dropped from every scheme (a user name can be a token, as in
 * `https://x-access-token:…@github.com/…`); anything unrecognisable is left out rather than guessed at.
 */
export function safeRemoteUrl(value: string): string | undefined {
  const scp = /^(?:[^@/\s]+@)?([^:/\s]{2,}):(?!\/)(\S+)$/.exec(value);
  if (scp !== null && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return `ssh://${scp[1]}/${scp[2]}`;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return undefined;
  }
  if (!['https:', 'http:', 'ssh:', 'git:'].includes(u.protocol)) return undefined;
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  return u.href;
}

/** RFC 3339 date-time (§5.6), as in-toto Timestamp fields require; normalised to UTC, whole seconds kept. */
export function parseTimestamp(
  value: string,
  source: string,
  code: 'ERR_USAGE' | 'ERR_INPUT_MALFORMED',
): string {
  const ms = RFC3339_DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new VouchError(code, `${source} must be an RFC 3339 date-time, got "${value}"`, {
      details: { source },
    });
  }
  return formatTimestamp(new Date(ms));
}

export function formatTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
