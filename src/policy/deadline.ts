import { createContext, Script } from 'node:vm';

/**
 * A wall-clock bound on synchronous work (issue 5 §5: a hostile policy or input cannot hang the gate).
 * CEL evaluation is synchronous, so no timer callback could interrupt it; node:vm's `timeout` can: a
 * watchdog thread terminates whatever JavaScript runs on the isolate when the time is up, including
 * functions of the main realm called from the script. The work must be restartable: state it was
 * mutating when cut off is left as it was (the evaluator only fills a results array).
 */

let context: { run?: (() => void) | undefined } | undefined;
let script: Script | undefined;

/** Runs `work`; false when it was cut off after `ms` milliseconds. Errors it throws propagate. */
export function withinDeadline(work: () => void, ms: number): boolean {
  context ??= createContext(Object.create(null) as object) as { run?: () => void };
  script ??= new Script('run()', { filename: 'vouch-policy-deadline' });
  context.run = work;
  try {
    script.runInContext(context, { timeout: Math.max(1, Math.ceil(ms)) });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException | undefined)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return false;
    throw e;
  } finally {
    context.run = undefined;
  }
}
