import type { Command } from 'commander';
import { generateSbom, type SbomOutputFormat, sbomTimestamp } from '../../attest/index.js';
import { writeFileAtomic } from '../../core/index.js';
import { type CommandContext, usage } from '../context.js';
import { emit } from '../output.js';
import { VERSION } from '../version.js';

interface SbomOptions {
  lockfile?: string;
  format: string;
  output?: string;
  timestamp?: string;
  installed: boolean;
  force?: boolean;
  json?: boolean;
}

const FORMATS: Record<string, { format: SbomOutputFormat; label: string }> = {
  cyclonedx: { format: 'cyclonedx', label: 'CycloneDX 1.6' },
  spdx: { format: 'spdx', label: 'SPDX 2.3' },
};

export function registerSbom(program: Command, { io }: CommandContext): void {
  program
    .command('sbom')
    .description('Write a CycloneDX 1.6 or SPDX 2.3 SBOM from a lockfile (npm, pnpm, yarn), offline.')
    .argument('[dir]', 'project folder holding the lockfile', '.')
    .option('--lockfile <path>', 'lockfile to read (default: the one lockfile in <dir>)')
    .option('--format <format>', 'cyclonedx | spdx', 'cyclonedx')
    .option('--output <path>', 'file to write (default: stdout)')
    .option('--timestamp <rfc3339>', 'document time (default: SOURCE_DATE_EPOCH, else now)')
    .option('--no-installed', 'do not read licences from installed node_modules/*/package.json')
    .option('--force', 'overwrite an existing output')
    .option('--json', 'print the summary as JSON (with --output)')
    .addHelpText(
      'after',
      `
The same lockfile and timestamp give a byte-identical document.
Example:
  SOURCE_DATE_EPOCH=1700000000 vouch sbom . --format spdx --output sbom.spdx.json`,
    )
    .action(async (dir: string, o: SbomOptions) => {
      const chosen = Object.hasOwn(FORMATS, o.format) ? FORMATS[o.format] : undefined;
      if (chosen === undefined) throw usage(`--format must be cyclonedx or spdx, got "${o.format}"`);
      const timestamp = sbomTimestamp(o.timestamp, io.env['SOURCE_DATE_EPOCH'], () => new Date());
      const sbom = await generateSbom({
        dir,
        ...(o.lockfile === undefined ? {} : { lockfile: o.lockfile }),
        installed: o.installed,
        format: chosen.format,
        timestamp,
        tool: { name: 'vouch', version: VERSION },
      });
      const { lockfile } = sbom.graph;
      const summary = `${chosen.label}: ${sbom.components} components from ${lockfile.path} (${lockfile.type} lockfile v${lockfile.version})`;
      if (o.output === undefined) {
        io.stdout(sbom.text);
        io.stderr(`${summary}\n`);
        return;
      }
      await writeFileAtomic(o.output, sbom.text, { overwrite: o.force === true });
      emit(
        io,
        o.json === true,
        {
          output: o.output,
          format: chosen.format,
          components: sbom.components,
          lockfile: {
            path: lockfile.path,
            type: lockfile.type,
            version: lockfile.version,
            sha256: lockfile.sha256,
          },
        },
        [summary, `  written to ${o.output}`],
      );
    });
}
