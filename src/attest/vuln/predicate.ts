import type { IncompleteScan } from './match.js';
import type { Finding } from './types.js';

/** in-toto vulns predicate v0.2 (in-toto/attestation spec/predicates/vulns_02.md). */
export const VULNS_PREDICATE_TYPE = 'https://in-toto.io/attestation/vulns/v0.2';

export interface VulnsMeta {
  readonly scanner: { readonly uri: string; readonly version: string };
  readonly db: { readonly uri?: string; readonly version?: string; readonly lastUpdate: string };
  readonly scanStartedOn: Date;
  readonly scanFinishedOn: Date;
  /** Components some candidate records could not be decided for (see `scanComponents`). */
  readonly incomplete?: readonly IncompleteScan[];
}

export interface VulnsResult {
  readonly id: string;
  readonly severity: readonly { readonly method: string; readonly score: string }[];
  readonly annotations: readonly Readonly<Record<string, unknown>>[];
}

export interface VulnsPredicate {
  readonly scanner: {
    readonly uri: string;
    readonly version: string;
    readonly db: { readonly uri?: string; readonly version?: string; readonly lastUpdate: string };
    readonly result: readonly VulnsResult[];
  };
  readonly metadata: {
    readonly scanStartedOn: string;
    readonly scanFinishedOn: string;
    /** Vouch's addition, present only when some component was not fully scanned (purl, ref, record ids). */
    readonly notFullyScanned?: readonly {
      readonly purl: string;
      readonly ref: string;
      readonly ids: readonly string[];
    }[];
  };
}

/**
 * One result per (component, vulnerability). `severity` carries the CVSS base score (method `CVSSv31`,
 * `CVSSv4`, …) when there is one and always the qualitative rating (method `rating`). Annotations, one key
 * each: the component (`purl`, `ref`), `aliases`, `fixedIn`, the CVSS `vector`, and for a finding an
 * OpenVEX statement suppressed, `suppressed: true` with the VEX document, status and justification — a
 * consumer that ignores annotations sees every match, one that reads them sees the VEX decision.
 * `metadata.notFullyScanned` lists the components whose result is not a proof of absence.
 */
export function toVulnsPredicate(findings: readonly Finding[], meta: VulnsMeta): VulnsPredicate {
  const result = findings.map((f): VulnsResult => {
    const severity = [
      ...(f.score === undefined ? [] : [{ method: f.score.method, score: f.score.value.toFixed(1) }]),
      { method: 'rating', score: f.rating },
    ];
    const notes: Record<string, unknown> = {
      purl: f.target.purl,
      ref: f.target.ref,
      ...(f.aliases.length === 0 ? {} : { aliases: f.aliases }),
      ...(f.fixed === undefined ? {} : { fixedIn: f.fixed }),
      ...(f.score === undefined ? {} : { vector: f.score.vector }),
      ...(f.summary === undefined ? {} : { summary: f.summary }),
      ...(f.suppressedBy === undefined
        ? {}
        : {
            suppressed: true,
            vexDocument: f.suppressedBy.document,
            vexStatus: f.suppressedBy.status,
            ...(f.suppressedBy.justification === undefined
              ? {}
              : { vexJustification: f.suppressedBy.justification }),
            ...(f.suppressedBy.statement === undefined
              ? {}
              : { vexImpactStatement: f.suppressedBy.statement }),
          }),
    };
    return { id: f.id, severity, annotations: Object.entries(notes).map(([k, v]) => ({ [k]: v })) };
  });
  return {
    scanner: {
      uri: meta.scanner.uri,
      version: meta.scanner.version,
      db: {
        ...(meta.db.uri === undefined ? {} : { uri: meta.db.uri }),
        ...(meta.db.version === undefined ? {} : { version: meta.db.version }),
        lastUpdate: meta.db.lastUpdate,
      },
      result,
    },
    metadata: {
      scanStartedOn: meta.scanStartedOn.toISOString(),
      scanFinishedOn: meta.scanFinishedOn.toISOString(),
      // in-toto attestation framework: consumers ignore fields they do not know, so an extra metadata field
      // is safe; a result entry per component would read as a vulnerability.
      ...(meta.incomplete === undefined || meta.incomplete.length === 0
        ? {}
        : {
            notFullyScanned: meta.incomplete.map((i) => ({
              purl: i.target.purl,
              ref: i.target.ref,
              ids: i.ids,
            })),
          }),
    },
  };
}
