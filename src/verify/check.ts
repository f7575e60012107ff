import { VouchError, type VouchErrorCode } from '../core/index.js';

/**
 * Every rejection of the verifier names the check that made it in `details.check` (a stable id such as
 * `tlog.set` or `certificate.chain`), so callers and the CLI can report which step failed.
 */

export function reject(
  code: VouchErrorCode,
  check: string,
  message: string,
  details: Record<string, unknown> = {},
): VouchError {
  return new VouchError(code, message, { details: { ...details, check } });
}

/** Tags a VouchError from a lower layer with the check it failed; other errors (bugs, misuse) pass through. */
export function tag(e: unknown, check: string): unknown {
  if (!(e instanceof VouchError)) return e;
  const { check: existing } = e.details ?? {};
  if (existing !== undefined) return e;
  return new VouchError(e.code, e.message, { cause: e, details: { ...e.details, check } });
}

/** Runs one step of a check, tagging what it throws. */
export function run<T>(check: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw tag(e, check);
  }
}

/** `run` for asynchronous steps. */
export async function step<T>(check: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw tag(e, check);
  }
}
