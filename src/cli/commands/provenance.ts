import type { Command } from 'commander';
import { buildProvenance } from '../../attest/index.js';
import { writeFileAtomic } from '../../core/index.js';
import { type CommandContext, usage } from '../context.js';
import { emit } from '../output.js';

interface ProvenanceCliOptions {
  subject?: string[];
  output?: string;
  lockfile?: string;
  startedOn?: string;
  strict?: boolean;
  force?: boolean;
  json?: boolean;
}

export function registerProvenance(program: Command, { io }: CommandContext): void {
  program
    .command('provenance')
    .description(
      'Write SLSA Provenance v1 (an in-toto Statement) for build artifacts, describing the GitHub Actions, GitLab CI or local build it runs in.',
    )
    .option('--subject <path|glob...>', 'artifact files or globs (repeatable); names are relative to the cwd')
    .option('--output <path>', 'file to write (default: stdout)')
    .option('--lockfile <path>', 'lockfile to record (default: package-lock.json, pnpm-lock.yaml, yarn.lock)')
    .option(
      '--started-on <rfc3339>',
      'build start time (default: the CI job start, when the platform has one)',
    )
    .option(
      '--strict',
      'refuse when the source repository, commit or lockfile is missing, or the work tree is dirty',
    )
    .option('--force', 'overwrite an existing --output')
    .option('--json', 'print a JSON summary (with --output)')
    .addHelpText(
      'after',
      `
The platform is read from the environment: GitHub Actions (GITHUB_ACTIONS=true), GitLab CI (GITLAB_CI=true),
else a local build described by git in the working directory. Only documented variables are read; no token
or credential is ever written (docs/provenance.md).

Examples:
  vouch provenance --subject 'dist/*.tgz' --started-on "$BUILD_START" --strict --output provenance.json
  vouch provenance --subject app.tgz --subject app.sbom.json --lockfile pnpm-lock.yaml`,
    )
    .action(async (o: ProvenanceCliOptions) => {
      if (o.subject === undefined || o.subject.length === 0) throw usage('--subject is required');
      const result = await buildProvenance({
        subjects: o.subject,
        env: io.env,
        strict: o.strict === true,
        ...(o.lockfile === undefined ? {} : { lockfile: o.lockfile }),
        ...(o.startedOn === undefined ? {} : { startedOn: o.startedOn }),
      });
      for (const item of result.incomplete) io.stderr(`vouch: warning: incomplete provenance: ${item}\n`);
      const text = `${JSON.stringify(result.statement, null, 2)}\n`;
      if (o.output === undefined) {
        io.stdout(text);
        return;
      }
      await writeFileAtomic(o.output, text, { overwrite: o.force === true });
      const { subject } = result.statement;
      emit(
        io,
        o.json === true,
        {
          output: o.output,
          platform: result.platform,
          subjects: subject.map((s) => ({ name: s.name, sha256: s.digest['sha256'] })),
          incomplete: result.incomplete,
        },
        [`Provenance (${result.platform}) for ${subject.length} subject(s) written to ${o.output}`],
      );
    });
}
