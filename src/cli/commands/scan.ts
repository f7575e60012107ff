import type { Command } from 'commander';
import {
  type Finding,
  type IncompleteScan,
  isPackageUrl,
  openVulnDb,
  parseOpenVex,
  purlToPackage,
  RATING_ORDER,
  readSbomFile,
  type ScanTarget,
  type SeverityRating,
  scanComponents,
  toVulnsPredicate,
  type VexDocument,
  VULNS_PREDICATE_TYPE,
} from '../../attest/index.js';
import { parseJson, readInput, VouchError, writeFileAtomic } from '../../core/index.js';
import { type CommandContext, usage } from '../context.js';
import { emit } from '../output.js';
import { VERSION } from '../version.js';
import { vulnDbPath } from './vuln.js';

interface ScanFlags {
  db?: string;
  vex: string[];
  vexProduct: string[];
  json?: boolean;
  output?: string;
  failOn?: string;
  force?: boolean;
}

/** VEX documents are small statements lists; this stops a runaway input early. */
const MAX_VEX_BYTES = 64 * 1024 * 1024;
const FAIL_ON: readonly string[] = ['low', 'medium', 'high', 'critical'];

/** SBOM names and versions are attacker-controlled: no control characters reach the terminal. */
function clean(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function table(findings: readonly Finding[]): string[] {
  const rows = findings.map((f) => [
    clean(f.name),
    clean(f.version),
    f.id,
    f.score === undefined ? f.rating : `${f.rating} ${f.score.value.toFixed(1)}`,
    f.fixed === undefined ? '-' : clean(f.fixed),
    f.suppressedBy === undefined
      ? 'affected'
      : `${f.suppressedBy.status} (VEX${f.suppressedBy.justification === undefined ? '' : `: ${f.suppressedBy.justification}`})`,
  ]);
  const head = ['PACKAGE', 'VERSION', 'ID', 'SEVERITY', 'FIXED IN', 'STATUS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  return [head, ...rows].map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * `--fail-on`: unsuppressed findings rated at or above the level. A finding without any severity (UNKNOWN)
 * counts at every level: a gate should not pass because a record lacks a score.
 */
function failing(findings: readonly Finding[], level: string): Finding[] {
  const min = RATING_ORDER.indexOf(level.toUpperCase() as SeverityRating);
  return findings.filter(
    (f) => f.suppressedBy === undefined && (f.rating === 'UNKNOWN' || RATING_ORDER.indexOf(f.rating) >= min),
  );
}

async function readVex(paths: readonly string[]): Promise<VexDocument[]> {
  const docs: VexDocument[] = [];
  for (const p of paths) docs.push(parseOpenVex(parseJson(await readInput(p, MAX_VEX_BYTES), p), p));
  return docs;
}

export function registerScan(program: Command, { io }: CommandContext): void {
  program
    .command('scan')
    .description(
      'Match the components of an SBOM against the local OSV database; in-toto vulns predicate v0.2.',
    )
    .argument('<sbom>', 'CycloneDX or SPDX JSON SBOM (or an in-toto Statement carrying one)')
    .option('--db <path>', 'database file (default: $XDG_DATA_HOME/vouch/vulns.db)')
    .option(
      '--vex <path>',
      'OpenVEX document; not_affected/fixed statements suppress findings (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option(
      '--vex-product <purl>',
      'the scanned artifact as VEX documents name it, besides the SBOM root (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--json', 'print the result and the predicate as JSON')
    .option('--output <path>', 'write the vulns predicate (for `vouch attest --type vulns`) to a file')
    .option('--force', 'overwrite an existing --output')
    .option(
      '--fail-on <severity>',
      'exit 1 when a finding not suppressed by VEX is at or above: low | medium | high | critical',
    )
    .addHelpText(
      'after',
      `
Findings without any severity count at every --fail-on level, and so do components not fully scanned
(records whose version ranges Vouch cannot evaluate, e.g. cargo, gem, nuget, composer): exit 1. A VEX statement about a product's
subcomponents applies only when that product is the scanned artifact: the SBOM root (its purl, or its name
when it has none) or a --vex-product.
Example:
  vouch scan sbom.cdx.json --vex vex.json --output vulns.json --fail-on high`,
    )
    .action(async (sbomPath: string, o: ScanFlags) => {
      if (o.failOn !== undefined && !FAIL_ON.includes(o.failOn)) {
        throw usage(`--fail-on must be one of ${FAIL_ON.join(', ')}, got "${o.failOn}"`);
      }
      for (const p of o.vexProduct) {
        if (!isPackageUrl(p)) throw usage(`--vex-product must be a package URL, got "${p}"`);
      }
      const dbPath = vulnDbPath(o.db, io.env);
      const sbom = await readSbomFile(sbomPath);
      const vex = await readVex(o.vex);
      const root = sbom.root;
      const artifact = {
        purls: [...(root?.purl === undefined ? [] : [root.purl]), ...o.vexProduct],
        names: root === undefined || root.purl !== undefined ? [] : [root.name],
      };
      const targets: ScanTarget[] = [];
      for (const c of sbom.components) if (c.purl !== undefined) targets.push({ ref: c.ref, purl: c.purl });
      const unscanned =
        sbom.components.length - targets.filter((t) => purlToPackage(t.purl) !== undefined).length;

      const store = openVulnDb(dbPath);
      let findings: Finding[];
      let incomplete: IncompleteScan[];
      let predicate: ReturnType<typeof toVulnsPredicate>;
      try {
        const info = store.info();
        const scanStartedOn = new Date();
        ({ findings, incomplete } = scanComponents(targets, store.lookup, { vex, artifact }));
        predicate = toVulnsPredicate(findings, {
          incomplete,
          scanner: { uri: `pkg:npm/vouch@${VERSION}`, version: VERSION },
          db: {
            ...(info.source === undefined ? {} : { uri: info.source }),
            ...(info.version === undefined ? {} : { version: info.version }),
            lastUpdate: info.lastUpdate ?? new Date(0).toISOString(),
          },
          scanStartedOn,
          scanFinishedOn: new Date(),
        });
      } finally {
        store.close();
      }
      if (o.output !== undefined) {
        await writeFileAtomic(o.output, `${JSON.stringify(predicate, null, 2)}\n`, {
          overwrite: o.force === true,
        });
      }

      const suppressed = findings.filter((f) => f.suppressedBy !== undefined).length;
      const bad = o.failOn === undefined ? [] : failing(findings, o.failOn);
      const partial = new Set(incomplete.map((i) => i.target.ref)).size;
      const summary =
        `${findings.length} vulnerabilities (${suppressed} suppressed by VEX) in ` +
        `${new Set(findings.map((f) => f.target.ref)).size} of ${sbom.components.length} components` +
        (unscanned > 0 ? `; ${unscanned} without a purl Vouch can match were not scanned` : '') +
        (partial > 0 ? `; ${partial} not fully scanned` : '');
      if (partial > 0) {
        const ecosystems = [...new Set(incomplete.map((i) => i.ecosystem))].sort().join(', ');
        io.stderr(
          `warning: ${partial} components not fully scanned: records with version ranges Vouch cannot evaluate ` +
            `(${ecosystems}): ${incomplete
              .slice(0, 5)
              .map((i) => `${clean(i.name)}@${clean(i.version)} (${i.ids.slice(0, 3).join(', ')})`)
              .join(', ')}${partial > 5 ? ', …' : ''}\n`,
        );
      }
      // With --json a failing gate prints only the error object, so stdout stays one JSON document;
      // --output keeps the predicate either way.
      const gateFails = bad.length > 0 || (o.failOn !== undefined && partial > 0);
      if (!(o.json === true && gateFails)) {
        emit(
          io,
          o.json === true,
          {
            predicateType: VULNS_PREDICATE_TYPE,
            ...(o.output === undefined ? {} : { output: o.output }),
            summary: {
              components: sbom.components.length,
              unscanned,
              notFullyScanned: partial,
              findings: findings.length,
              suppressed,
            },
            predicate,
          },
          [
            ...(findings.length === 0 ? [] : table(findings)),
            summary,
            ...(o.output === undefined ? [] : [`  predicate written to ${o.output}`]),
          ],
        );
      }
      if (bad.length > 0) {
        throw new VouchError(
          'ERR_VULNS_FOUND',
          `${bad.length} vulnerabilities at or above ${o.failOn} not suppressed by VEX: ${[...new Set(bad.map((f) => f.id))].slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}`,
          { details: { count: bad.length } },
        );
      }
      if (gateFails) {
        // Deny by default: a component that could not be checked does not pass a gate.
        throw new VouchError(
          'ERR_SCAN_INCOMPLETE',
          `${partial} components not fully scanned (version ranges Vouch cannot evaluate); --fail-on does not pass them: ${[...new Set(incomplete.map((i) => `${clean(i.name)}@${clean(i.version)}`))].slice(0, 5).join(', ')}${partial > 5 ? ', …' : ''}`,
          { details: { count: partial } },
        );
      }
    });
}
