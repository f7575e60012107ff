import { VouchError } from '../core/index.js';
import type { CliIO } from './io.js';

/** What every command's registration receives. */
export interface CommandContext {
  io: CliIO;
}

/** A usage error (exit code 2). */
export function usage(message: string): VouchError {
  return new VouchError('ERR_USAGE', message);
}
