/**
 * `vouch sbom` as a library call: lockfile → package graph → CycloneDX 1.6 or SPDX 2.3 JSON text.
 */
import { VouchError } from '../../core/index.js';
import { toCycloneDx } from './cyclonedx.js';
import { type ReadLockfileOptions, readLockfile } from './lockfile.js';
import type { PackageGraph } from './model.js';
import { RFC3339_DATE_TIME, type SbomTool } from './sbom-write-common.js';
import { toSpdx } from './spdx.js';

export type { SbomTool, SbomWriteOptions } from './sbom-write-common.js';

export type SbomOutputFormat = 'cyclonedx' | 'spdx';

export interface GenerateSbomOptions extends ReadLockfileOptions {
  readonly format: SbomOutputFormat;
  readonly timestamp: Date;
  readonly tool: SbomTool;
}

export interface GeneratedSbom {
  readonly graph: PackageGraph;
  /** The document as JSON text: 2-space indentation and a final newline. */
  readonly text: string;
  /** Packages in the document besides the root. */
  readonly components: number;
}

/** Serialises a document the one way Vouch writes SBOMs, so equal documents are equal bytes. */
export function serializeSbom(doc: object): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export async function generateSbom(opts: GenerateSbomOptions): Promise<GeneratedSbom> {
  const { format, timestamp, tool, ...read } = opts;
  const graph = await readLockfile(read);
  const write = { timestamp, tool };
  const doc = format === 'spdx' ? toSpdx(graph, write) : toCycloneDx(graph, write);
  return { graph, text: serializeSbom(doc), components: graph.packages.size };
}

/**
 * The document timestamp: `--timestamp` (RFC 3339), else SOURCE_DATE_EPOCH (reproducible-builds.org: decimal
 * seconds since the epoch; a malformed value must fail the build, not fall back), else the clock.
 */
export function sbomTimestamp(
  given: string | undefined,
  sourceDateEpoch: string | undefined,
  now: () => Date,
): Date {
  if (given !== undefined) {
    const t = RFC3339_DATE_TIME.test(given) ? Date.parse(given.toUpperCase()) : Number.NaN;
    if (Number.isNaN(t)) {
      throw new VouchError(
        'ERR_USAGE',
        `--timestamp "${given}" is not an RFC 3339 date-time (e.g. 2024-05-01T12:00:00Z)`,
      );
    }
    return new Date(t);
  }
  if (sourceDateEpoch !== undefined && sourceDateEpoch !== '') {
    // At most 12 digits keeps the instant inside the Date range (±8.64e12 s).
    if (!/^\d{1,12}$/.test(sourceDateEpoch)) {
      throw new VouchError(
        'ERR_USAGE',
        `SOURCE_DATE_EPOCH "${sourceDateEpoch}" is not a count of seconds since 1970`,
      );
    }
    return new Date(Number(sourceDateEpoch) * 1000);
  }
  return now();
}
