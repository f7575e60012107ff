/**
 * Reading SBOM documents back (CycloneDX 1.4–1.6 JSON, SPDX 2.2/2.3 JSON, or an in-toto Statement whose
 * predicate is one of them) into a flat component list that `licenses` and `scan` consume.
 * SBOMs are attacker-controlled input: read field by field, cap sizes, name the JSON path in errors.
 */

export type SbomFormat = 'cyclonedx' | 'spdx';

export interface BomComponent {
  /** `bom-ref` (CycloneDX) or `SPDXID` (SPDX); unique within the document. */
  readonly ref: string;
  readonly name: string;
  readonly version?: string;
  /** Package URL when the document gives one (CycloneDX `purl`, SPDX externalRefs PACKAGE-MANAGER purl). */
  readonly purl?: string;
  /**
   * Licence as one SPDX expression when the document gives one (CycloneDX `expression`, licence ids joined
   * with AND; SPDX `licenseConcluded`, else `licenseDeclared`), else the raw names found; absent when none
   * (SPDX NOASSERTION / NONE count as absent).
   */
  readonly license?: string;
  /** Whether `license` is already known to be an SPDX expression (id or expression), not a free-text name. */
  readonly licenseIsSpdx: boolean;
  /** CycloneDX scope / SPDX relationship: dev and optional components are marked so. */
  readonly scope: 'required' | 'optional' | 'dev';
}

export interface SbomDocument {
  readonly format: SbomFormat;
  /** `1.6`, `SPDX-2.3`, … */
  readonly specVersion: string;
  /** The described root (CycloneDX metadata.component, SPDX documentDescribes), when present. */
  readonly root?: BomComponent;
  readonly components: readonly BomComponent[];
}
