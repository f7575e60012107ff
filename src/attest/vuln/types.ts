/**
 * OSV records as Vouch holds them (OSV schema 1.6, https://ossf.github.io/osv-schema/), and the result of
 * matching components against them. `osv.ts`/`match.ts` own the logic; `db.ts` stores and looks up records.
 */

/** OSV range types (OSV §affected[].ranges[].type). GIT ranges are stored but never match a package version. */
export type OsvRangeType = 'SEMVER' | 'ECOSYSTEM' | 'GIT';

/** One event; exactly one key is set (OSV §ranges[].events). */
export type OsvEvent =
  | { readonly introduced: string }
  | { readonly fixed: string }
  | { readonly last_affected: string }
  | { readonly limit: string };

export interface OsvRange {
  readonly type: OsvRangeType;
  readonly events: readonly OsvEvent[];
}

export interface OsvAffected {
  /** OSV ecosystem as written (`npm`, `PyPI`, `Go`, `Maven`, `crates.io`, `Debian:12`, …). */
  readonly ecosystem: string;
  /** Package name as the ecosystem spells it (Maven `group:artifact`, Go module path). */
  readonly name: string;
  readonly purl?: string;
  readonly ranges: readonly OsvRange[];
  /** Explicitly enumerated affected versions (OSV §affected[].versions). */
  readonly versions: readonly string[];
}

export interface OsvSeverity {
  /** `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`, … */
  readonly type: string;
  readonly score: string;
}

export interface OsvRecord {
  readonly id: string;
  /** RFC 3339; the import is incremental on (id, modified, content hash). */
  readonly modified: string;
  readonly published?: string;
  /** Set on withdrawn records; matching ignores them. */
  readonly withdrawn?: string;
  readonly aliases: readonly string[];
  readonly summary?: string;
  readonly severity: readonly OsvSeverity[];
  /** GHSA `database_specific.severity` (LOW/MODERATE/HIGH/CRITICAL), used when no CVSS vector is given. */
  readonly databaseSeverity?: string;
  readonly affected: readonly OsvAffected[];
}

/** A component to scan, as a SBOM describes it; `purl` decides ecosystem, name and version. */
export interface ScanTarget {
  readonly ref: string;
  readonly purl: string;
}

export type SeverityRating = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' | 'UNKNOWN';

export interface Finding {
  readonly target: ScanTarget;
  readonly ecosystem: string;
  readonly name: string;
  readonly version: string;
  readonly id: string;
  readonly aliases: readonly string[];
  readonly summary?: string;
  /** Highest CVSS base score among the record's vectors, with its method (`CVSSv31`, `CVSSv4`, …). */
  readonly score?: { readonly method: string; readonly vector: string; readonly value: number };
  readonly rating: SeverityRating;
  /** First `fixed` version of the matching range, when there is one. */
  readonly fixed?: string;
  /** Present when an OpenVEX statement suppressed this finding. */
  readonly suppressedBy?: {
    readonly document: string;
    readonly status: 'not_affected' | 'fixed';
    readonly justification?: string;
    readonly statement?: string;
  };
}

/** How `match.ts` asks storage for candidates: records naming (ecosystem, normalised name). */
export type CandidateLookup = (ecosystem: string, name: string) => readonly OsvRecord[];
