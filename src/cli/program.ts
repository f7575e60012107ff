import { Command, CommanderError } from 'commander';
import type { CommandContext } from './context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { CliIO } from './io.js';
import { reportError } from './output.js';
import { VERSION } from './version.js';

type Register = (program: Command, ctx: CommandContext) => void;

/**
 * Commands in help order, each loaded only when it runs: a command's module pulls in its library layers,
 * and start-up time is part of every CI step (`vouch sbom` must not pay for X.509 or SQLite).
 */
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  keygen: async () => (await import('./commands/keygen.js')).registerKeygen,
  sign: async () => (await import('./commands/sign.js')).registerSign,
  attest: async () => (await import('./commands/attest.js')).registerAttest,
  verify: async () => (await import('./commands/verify.js')).registerVerify,
  'verify-attestation': async () =>
    (await import('./commands/verify-attestation.js')).registerVerifyAttestation,
  inspect: async () => (await import('./commands/inspect.js')).registerInspect,
  policy: async () => (await import('./commands/policy.js')).registerPolicy,
  oci: async () => (await import('./commands/oci.js')).registerOci,
  provenance: async () => (await import('./commands/provenance.js')).registerProvenance,
  sbom: async () => (await import('./commands/sbom.js')).registerSbom,
  licenses: async () => (await import('./commands/licenses.js')).registerLicenses,
  vuln: async () => (await import('./commands/vuln.js')).registerVuln,
  scan: async () => (await import('./commands/scan.js')).registerScan,
  server: async () => (await import('./commands/server.js')).registerServer,
};

/** The command named by argv; none for `--version`; every command otherwise (help, a typo). */
async function commandsFor(argv: readonly string[]): Promise<Register[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first === undefined && (argv.includes('-v') || argv.includes('--version'))) return [];
  const one = first !== undefined && Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  const loaders = one === undefined ? Object.values(COMMANDS) : [one];
  return Promise.all(loaders.map((load) => load()));
}

function buildProgram(ctx: CommandContext, commands: readonly Register[]): Command {
  const program = new Command('vouch')
    .description(
      'Sign, attest and verify build artifacts: Sigstore bundles, in-toto attestations (SLSA provenance, CycloneDX/SPDX SBOMs, licences, vulnerabilities), OpenPGP, CMS.',
    )
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
  for (const register of commands) register(program, ctx);
  for (const c of program.commands) c.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Runs the CLI in-process and returns the exit code (tests call this; `main.ts` wraps it). */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const json = argv.includes('--json');
  try {
    const program = buildProgram({ io }, await commandsFor(argv));
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
