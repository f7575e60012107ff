import { execFile } from 'node:child_process';
import { arch, platform, release } from 'node:os';

/** The tools the build ran with, as far as the process can see them. */
export interface Toolchain {
  /** Node.js version without the leading `v` (`20.17.0`). */
  readonly node: string;
  /** npm version, when npm is found. */
  readonly npm?: string;
  readonly os: { readonly platform: string; readonly release: string; readonly arch: string };
}

/** Probes the toolchain; `userAgent` is `npm_config_user_agent` when the environment has it. */
export type ToolchainProbe = (userAgent: string | undefined) => Promise<Toolchain>;

const VERSION = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/;

/** `npm/10.8.2 node/v20.17.0 linux x64 workspaces/false` → `10.8.2`; pnpm and yarn write `npm/?`. */
export function npmFromUserAgent(userAgent: string | undefined): string | undefined {
  const m = /(?:^|\s)npm\/(\S+)/.exec(userAgent ?? '');
  return m?.[1] !== undefined && VERSION.test(m[1]) ? m[1] : undefined;
}

function npmVersion(): Promise<string | undefined> {
  return new Promise((resolve) => {
    // npm is a script on Windows (npm.cmd), which execFile cannot start without a shell.
    const cmd = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFile(
      cmd,
      ['--version'],
      { timeout: 15_000, windowsHide: true, shell: process.platform === 'win32' },
      (err, stdout) => {
        const v = stdout.trim();
        resolve(err === null && VERSION.test(v) ? v : undefined);
      },
    );
  });
}

/** The running process: `process.version`, npm from the user agent else `npm --version`, `os` release. */
export const probeToolchain: ToolchainProbe = async (userAgent) => {
  const npm = npmFromUserAgent(userAgent) ?? (await npmVersion());
  return {
    node: process.version.replace(/^v/, ''),
    ...(npm === undefined ? {} : { npm }),
    os: { platform: platform(), release: release(), arch: arch() },
  };
};
