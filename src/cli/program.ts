import { Command, CommanderError } from 'commander';
import { registerAttest } from './commands/attest.js';
import { registerInspect } from './commands/inspect.js';
import { registerKeygen } from './commands/keygen.js';
import { registerSign } from './commands/sign.js';
import { registerVerify } from './commands/verify.js';
import { registerVerifyAttestation } from './commands/verify-attestation.js';
import type { CommandContext } from './context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { CliIO } from './io.js';
import { reportError } from './output.js';

export const VERSION = '0.1.0';

function buildProgram(ctx: CommandContext): Command {
  const program = new Command('vouch')
    .description('Sign, attest and verify build artifacts (Sigstore bundles, DSSE/in-toto, OpenPGP, CMS).')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => ctx.io.stdout(s), writeErr: (s) => ctx.io.stderr(s) })
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 verification failed, 2 usage error, 3 input unreadable or malformed, 4 internal error.
The key passphrase comes from VOUCH_PASSWORD or a terminal prompt, never from the command line.`,
    );
  registerKeygen(program, ctx);
  registerSign(program, ctx);
  registerAttest(program, ctx);
  registerVerify(program, ctx);
  registerVerifyAttestation(program, ctx);
  registerInspect(program, ctx);
  for (const c of program.commands) c.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Runs the CLI in-process and returns the exit code (tests call this; `main.ts` wraps it). */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const program = buildProgram({ io });
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0)
        return EXIT.ok;
      if (e.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    reportError(io, e, json);
    return exitCodeFor(e);
  }
}
