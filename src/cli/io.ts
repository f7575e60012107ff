import { isatty } from 'node:tty';
import { VouchError } from '../core/index.js';

/** Everything a command touches outside the library, so tests can run commands in-process. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal (progress lines are drawn only there). */
  stderrIsTTY?: boolean;
  /** Reads a secret without echo; absent when there is no terminal. */
  readSecret?: (prompt: string) => Promise<string>;
}

/**
 * The key passphrase: `VOUCH_PASSWORD`, else a prompt on the terminal. Never argv (visible in `ps`), never logged.
 */
export function passphraseSource(io: CliIO, opts: { confirm?: boolean } = {}): () => Promise<string> {
  let cached: string | undefined;
  return async () => {
    if (cached !== undefined) return cached;
    const fromEnv = io.env['VOUCH_PASSWORD'];
    if (fromEnv !== undefined && fromEnv !== '') {
      cached = fromEnv;
      return cached;
    }
    if (io.readSecret === undefined) {
      throw new VouchError(
        'ERR_KEY_PASSWORD_MISSING',
        'a passphrase is needed: set VOUCH_PASSWORD or run in a terminal',
      );
    }
    const first = await io.readSecret('Enter passphrase for the private key: ');
    if (opts.confirm === true) {
      const second = await io.readSecret('Enter the same passphrase again: ');
      if (first !== second) throw new VouchError('ERR_USAGE', 'the passphrases do not match');
    }
    if (first === '') throw new VouchError('ERR_KEY_PASSWORD_MISSING', 'an empty passphrase is refused');
    cached = first;
    return cached;
  };
}

/** Reads a line from the controlling terminal with echo off (raw mode), for `readSecret`. */
function terminalSecretReader(): CliIO['readSecret'] {
  // isatty(0), not process.stdin.isTTY: touching process.stdin builds a stream, a cost every command paid.
  if (!isatty(0)) return undefined;
  return (prompt: string) =>
    new Promise<string>((resolve, reject) => {
      const stdin = process.stdin;
      process.stderr.write(prompt);
      let value = '';
      stdin.setRawMode(true);
      stdin.resume();
      stdin.setEncoding('utf8');
      const done = (err?: Error) => {
        stdin.setRawMode(false);
        stdin.pause();
        stdin.removeListener('data', onData);
        process.stderr.write('\n');
        if (err) reject(err);
        else resolve(value);
      };
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
          if (ch === '\u0003') return done(new VouchError('ERR_USAGE', 'interrupted'));
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
}

export function processIO(): CliIO {
  const reader = terminalSecretReader();
  // `vouch … | head`: the reader left, so stop writing, quietly, as cat and git do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
    ...(reader === undefined ? {} : { readSecret: reader }),
  };
}
