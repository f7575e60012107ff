import type { BomComponent, SbomDocument } from '../sbom/document.js';
import { byCodeUnit } from '../sbom/sbom-write-common.js';
import { type LicenseStatus, type ParsedLicense, parseLicense } from './expression.js';

export interface LicenseGroup {
  /** The canonical SPDX expression, or the free text as found; absent for components without a licence. */
  readonly license?: string;
  readonly status: LicenseStatus;
  readonly count: number;
  readonly components: readonly BomComponent[];
}

/** A component with its licence classified once (summary and policy both use it). */
export interface ClassifiedComponent {
  readonly component: BomComponent;
  readonly parsed: ParsedLicense;
  /** Grouping key: canonical expression, trimmed free text, or undefined. */
  readonly key?: string;
}

export function classify(c: BomComponent): ClassifiedComponent {
  const parsed = parseLicense(c.license);
  const key = parsed.status === 'spdx' ? parsed.canonical : c.license?.trim();
  return { component: c, parsed, ...(key === undefined || key === '' ? {} : { key }) };
}

/** Groups classified components by licence: most frequent first, then by licence text, no licence last. */
export function groupByLicense(items: readonly ClassifiedComponent[]): LicenseGroup[] {
  const groups = new Map<string, { license?: string; status: LicenseStatus; components: BomComponent[] }>();
  for (const it of items) {
    // The status is part of the key: an empty-string key never collides with a real licence.
    const id = `${it.parsed.status}\u0000${it.key ?? ''}`;
    let g = groups.get(id);
    if (g === undefined) {
      g = { ...(it.key === undefined ? {} : { license: it.key }), status: it.parsed.status, components: [] };
      groups.set(id, g);
    }
    g.components.push(it.component);
  }
  return [...groups.values()]
    .map((g) => ({ ...g, count: g.components.length }))
    .sort(
      (a, b) =>
        b.count - a.count ||
        Number(a.license === undefined) - Number(b.license === undefined) ||
        byCodeUnit(a.license ?? '', b.license ?? ''),
    );
}

/**
 * Licences of an SBOM's components (the root, the project itself, is not counted): per licence expression
 * the number of components and which ones, with `unknown` (no licence) and `non-spdx` (free text, or an
 * expression spdx-expression-parse rejects; LicenseRef-* is SPDX) flagged.
 */
export function summarizeLicenses(doc: SbomDocument): LicenseGroup[] {
  return groupByLicense(doc.components.map(classify));
}
