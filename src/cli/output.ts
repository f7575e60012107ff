import { isRecord, isVouchError } from '../core/index.js';
import type { CliIO } from './io.js';

/** Prints a command's result: the object as JSON with `--json`, else the human lines. */
export function emit(
  io: CliIO,
  json: boolean,
  result: Record<string, unknown>,
  human: readonly string[],
): void {
  if (json) io.stdout(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
  else io.stdout(`${human.join('\n')}\n`);
}

/**
 * Reports a failure in one line (`vouch: <what failed>: <message> [CODE]`), or as JSON with `--json`.
 * No stack trace reaches the user; VOUCH_DEBUG=1 prints the cause chain for bug reports.
 */
export function reportError(io: CliIO, e: unknown, json: boolean): void {
  const code = isVouchError(e) ? e.code : 'ERR_INTERNAL';
  const message = isVouchError(e) ? e.message : 'internal error (set VOUCH_DEBUG=1 for details)';
  const check =
    isVouchError(e) && typeof e.details?.['check'] === 'string' ? (e.details['check'] as string) : undefined;
  const prefix = isVouchError(e) && e.category === 'verify' ? 'verification failed' : 'error';
  if (json) {
    // A command that failed with a result to show (a denied decision, policy diagnostics, a test report)
    // puts it in details.report, so `--json` prints it beside the error.
    const report = isVouchError(e) && isRecord(e.details?.['report']) ? e.details['report'] : {};
    io.stdout(
      `${JSON.stringify({ ok: false, error: { code, message, ...(check ? { check } : {}) }, ...report }, null, 2)}\n`,
    );
  } else {
    io.stderr(`vouch: ${prefix}: ${check ? `${check}: ` : ''}${message} [${code}]\n`);
  }
  if (io.env['VOUCH_DEBUG'] === '1') io.stderr(`${formatCause(e)}\n`);
}

function formatCause(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; cur !== undefined && i < 8; i++) {
    parts.push(cur instanceof Error ? (cur.stack ?? cur.message) : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join('\ncaused by: ');
}
