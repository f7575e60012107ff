import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { CliIO } from '../../src/cli/io.js';
import { run } from '../../src/cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output and a given environment. */
export async function vouch(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  opts: { tty?: boolean } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
    stderrIsTTY: opts.tty === true,
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

const MAIN = resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

/** Runs the real entry point in a child process (argv, exit code, streams as a user sees them). */
export function vouchProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env['PATH'], ...env },
    encoding: 'utf8',
    ...(cwd === undefined ? {} : { cwd }),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts `vouch server <args>` from the real entry point in a child process and waits for the address it logs
 * (an https one when `tls`); the child is killed if it does not listen within `timeoutMs`.
 */
export async function vouchServer(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  o: { tls: boolean; timeoutMs: number },
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'server', ...args], {
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const listening = o.tls
    ? /listening on (https:\/\/127\.0\.0\.1:\d+)/
    : /listening on (http:\/\/127\.0\.0\.1:\d+)/;
  const started = Date.now();
  for (;;) {
    const m = listening.exec(stderr);
    if (m !== null) return { child, url: m[1] as string };
    if (child.exitCode !== null || Date.now() - started > o.timeoutMs) {
      child.kill('SIGTERM');
      throw new Error(`vouch server did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
