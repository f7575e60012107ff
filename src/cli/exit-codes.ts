import { type ErrorCategory, isVouchError } from '../core/index.js';

/** The CLI's exit codes, one table (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The input was well-formed but the signature, certificate, log proof, timestamp or binding did not hold. */
  verifyFailed: 1,
  /** Bad flags or arguments, or a request that cannot be done as asked. */
  usage: 2,
  /** An input could not be read or parsed (missing file, malformed JSON, bad key, wrong passphrase). */
  input: 3,
  /** A bug or an environment failure. */
  internal: 4,
} as const;

const BY_CATEGORY: Record<ErrorCategory, number> = {
  verify: EXIT.verifyFailed,
  usage: EXIT.usage,
  input: EXIT.input,
  internal: EXIT.internal,
};

export function exitCodeFor(e: unknown): number {
  return isVouchError(e) ? BY_CATEGORY[e.category] : EXIT.internal;
}
