import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import { importOsv, openVulnDb } from '../../attest/index.js';
import { VouchError } from '../../core/index.js';
import type { CommandContext } from '../context.js';
import type { CliIO } from '../io.js';
import { emit } from '../output.js';

interface ImportFlags {
  db?: string;
  json?: boolean;
}

/** How many skipped files the human output names; all are counted, and `--json` lists the first 100. */
const SHOWN_FAILURES = 10;

/**
 * `--db`, else `$XDG_DATA_HOME/vouch/vulns.db`, else `~/.local/share/vouch/vulns.db` (XDG Base Directory
 * spec: a relative XDG_DATA_HOME is invalid and ignored).
 */
export function vulnDbPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined) return flag;
  const xdg = env['XDG_DATA_HOME'];
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'vouch', 'vulns.db');
  const home = env['HOME'];
  if (home === undefined || home === '') {
    throw new VouchError(
      'ERR_USAGE',
      'no data directory (HOME and XDG_DATA_HOME are unset): give --db <path>',
    );
  }
  return join(home, '.local', 'share', 'vouch', 'vulns.db');
}

/** Terminal-only progress, redrawn at most five times a second and erased at the end. */
function progress(io: CliIO): ((done: number, total: number) => void) | undefined {
  if (io.stderrIsTTY !== true) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < 200) return;
    last = now;
    io.stderr(done >= total ? '\r\u001b[2K' : `\r\u001b[2Kimporting OSV records: ${done} of ${total}`);
  };
}

export function registerVuln(program: Command, { io }: CommandContext): void {
  const vuln = program
    .command('vuln')
    .description('Manage the local vulnerability database (OSV records) that `vouch scan` matches against.');
  const db = vuln.command('db').description('The OSV database in SQLite.');
  db.command('import')
    .description(
      'Load OSV records from a zip (e.g. npm/all.zip of the osv-vulnerabilities bucket) or a directory.',
    )
    .argument('<source>', 'OSV zip, directory tree of *.json records, or one record')
    .option('--db <path>', 'database file (default: $XDG_DATA_HOME/vouch/vulns.db)')
    .option('--json', 'print the import report as JSON')
    .addHelpText(
      'after',
      `
Imports are incremental: unchanged records (same id, modified time and bytes) are skipped, changed ones
replaced. Malformed records are counted and named, the import goes on without them, and then exits 3
(ERR_OSV_MALFORMED). A range that cannot be used is left out of its record with a warning.
Example:
  curl -O https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip
  vouch vuln db import all.zip`,
    )
    .action(async (source: string, o: ImportFlags) => {
      const path = vulnDbPath(o.db, io.env);
      await mkdir(dirname(path), { recursive: true }).catch((e: unknown) => {
        throw new VouchError(
          'ERR_OUTPUT_WRITE',
          `cannot create ${dirname(path)}: ${(e as NodeJS.ErrnoException).code}`,
        );
      });
      const store = openVulnDb(path, { create: true });
      try {
        const onProgress = progress(io);
        const report = await importOsv(store, source, onProgress === undefined ? {} : { onProgress });
        const info = store.info();
        if (o.json !== true) {
          for (const f of report.failures.slice(0, SHOWN_FAILURES)) io.stderr(`skipped ${f.message}\n`);
          if (report.failed > SHOWN_FAILURES) io.stderr(`skipped ${report.failed - SHOWN_FAILURES} more\n`);
          for (const r of report.skipped.slice(0, SHOWN_FAILURES)) io.stderr(`warning: ${r.message}\n`);
          if (report.skippedRanges > SHOWN_FAILURES) {
            io.stderr(`warning: ${report.skippedRanges - SHOWN_FAILURES} more ranges skipped\n`);
          }
        }
        // With --json a failed import prints only the error object, so stdout stays one JSON document.
        if (!(o.json === true && report.failed > 0)) {
          emit(io, o.json === true, { db: path, source, ...report, records: info.records }, [
            `Imported ${source} into ${path}: ${report.added} added, ${report.updated} updated, ` +
              `${report.unchanged} unchanged, ${report.withdrawn} withdrawn, ${report.failed} failed, ` +
              `${report.skippedRanges} ranges skipped (${info.records} records)`,
          ]);
        }
        if (report.failed > 0) {
          // The rest is imported and usable, but a record left out is a vulnerability scans cannot see.
          throw new VouchError(
            'ERR_OSV_MALFORMED',
            `${report.failed} records in ${source} could not be imported (first: ${report.failures[0]?.message ?? '?'}); the other records were imported`,
            { details: { failed: report.failed } },
          );
        }
      } finally {
        store.close();
      }
    });
  for (const c of [vuln, db, ...db.commands]) c.exitOverride().configureOutput(program.configureOutput());
}
