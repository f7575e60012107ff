import { execFile } from 'node:child_process';
import { VouchError } from '../../core/index.js';

/** What provenance needs from the work tree in `cwd`. Every field is absent when git cannot say. */
export interface GitState {
  /** HEAD commit id (40 or 64 hex); absent in a repository without commits. */
  readonly commit?: string;
  /** `refs/heads/<name>`; absent on a detached HEAD. */
  readonly ref?: string;
  /** `remote.origin.url` exactly as configured: may carry credentials, so callers sanitise it. */
  readonly remoteUrl?: string;
  /** Tracked changes or untracked, non-ignored files exist. */
  readonly dirty: boolean;
}

/** Reads the work tree at `cwd`; `undefined` when it is not inside a git work tree or git is not installed. */
export type GitReader = (cwd: string) => Promise<GitState | undefined>;

interface Run {
  ok: boolean;
  stdout: string;
  stderr: string;
  missing: boolean;
}

/**
 * `git` without a shell. `--no-optional-locks` keeps `status` from writing the index; `core.fsmonitor=false`
 * stops a repository's own config from making git run a program of its choosing (the work tree may be
 * attacker-supplied, e.g. a pull request checkout).
 */
function git(cwd: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['--no-optional-locks', '-c', 'core.fsmonitor=false', ...args],
      { cwd, timeout: 30_000, maxBuffer: 16 * 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        const code = (err as NodeJS.ErrnoException | null)?.code;
        resolve({ ok: err === null, stdout, stderr, missing: code === 'ENOENT' });
      },
    );
  });
}

function gitFailure(what: string, r: Run): VouchError {
  const reason = r.stderr.trim().split('\n')[0] ?? '';
  return new VouchError('ERR_GIT', `git ${what} failed${reason === '' ? '' : `: ${reason}`}`, {
    details: { command: what },
  });
}

/** The real git in `cwd` (execFile, no shell). */
export const readGit: GitReader = async (cwd) => {
  const inside = await git(cwd, ['rev-parse', '--is-inside-work-tree']);
  if (inside.missing) return undefined;
  if (!inside.ok) {
    if (/not a git repository/i.test(inside.stderr)) return undefined;
    throw gitFailure('rev-parse', inside);
  }
  if (inside.stdout.trim() !== 'true') return undefined;
  const [head, ref, remote, status] = await Promise.all([
    git(cwd, ['rev-parse', '--verify', '-q', 'HEAD']),
    git(cwd, ['symbolic-ref', '-q', 'HEAD']),
    git(cwd, ['remote', 'get-url', 'origin']),
    git(cwd, ['status', '--porcelain=v1', '--untracked-files=normal']),
  ]);
  if (!status.ok) throw gitFailure('status', status);
  const commit = head.ok ? head.stdout.trim() : '';
  const branch = ref.ok ? ref.stdout.trim() : '';
  const remoteUrl = remote.ok ? remote.stdout.trim() : '';
  return {
    ...(/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit) ? { commit } : {}),
    ...(branch.startsWith('refs/') ? { ref: branch } : {}),
    ...(remoteUrl === '' ? {} : { remoteUrl }),
    dirty: status.stdout.trim() !== '',
  };
};
