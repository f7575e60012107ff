/**
 * What the CycloneDX and SPDX writers share: node order, licence classification, URL hygiene, timestamps and
 * content-derived identifiers. Everything here is deterministic: no locale, no clock, no randomness. The
 * code-unit order and the RFC 3339 pattern also serve the package graph, licences and provenance.
 */
import parseSpdx from 'spdx-expression-parse';
import { digestBytes, toHex } from '../../core/index.js';
import type { PackageGraph, PackageNode } from './model.js';
import { publishableUrl } from './purl.js';

/** Who wrote the document (CycloneDX metadata.tools, SPDX creators). */
export interface SbomTool {
  readonly name: string;
  readonly version: string;
}

export interface SbomWriteOptions {
  readonly timestamp: Date;
  readonly tool: SbomTool;
}

/** Code-unit order: unlike localeCompare it does not depend on the machine's locale (da_DK sorts "aa" last). */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The root followed by every other node in id order, after checking that each dependency id names a node:
 * a dangling edge is a reader bug, and an SBOM must not point at nothing.
 */
export function graphNodes(graph: PackageGraph): PackageNode[] {
  const nodes = [graph.root, ...[...graph.packages.values()].sort((a, b) => byCodeUnit(a.id, b.id))];
  for (const n of nodes) {
    for (const d of n.dependencies) {
      if (d !== graph.root.id && !graph.packages.has(d)) {
        throw new TypeError(`package graph: ${n.id} depends on ${d}, which is not in the graph`);
      }
    }
  }
  return nodes;
}

/** A node's dependency ids, sorted by code unit and unique whatever order the reader produced. */
export function dependencyIds(n: PackageNode): string[] {
  return [...new Set(n.dependencies)].sort(byCodeUnit);
}

/** `@scope/name` → group `@scope`, name `name`, as cyclonedx-npm splits scoped npm names. */
export function splitScope(name: string): { group?: string; name: string } {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  return slash > 0 ? { group: name.slice(0, slash), name: name.slice(slash + 1) } : { name };
}

/** A licence string as found, sorted into what each format can say about it. */
export type LicenseChoice =
  /** One SPDX licence id, no `+`, no exception. */
  | { readonly kind: 'id'; readonly id: string }
  /** A valid SPDX expression (SPDX 2.3 annex D): compound, `+`, `WITH`, or a `LicenseRef-`. */
  | { readonly kind: 'expression'; readonly expression: string; readonly hasRef: boolean }
  /** Anything else (`BSD`, `SEE LICENSE IN LICENSE.md`), kept verbatim. */
  | { readonly kind: 'text'; readonly text: string };

const REF = /(?:^|[\s(:])(?:LicenseRef|DocumentRef)-/;

/** Classifies with spdx-expression-parse, which checks ids against the SPDX licence list (case-sensitive). */
export function classifyLicense(raw: string): LicenseChoice {
  const text = raw.trim();
  let info: parseSpdx.Info;
  try {
    info = parseSpdx(text);
  } catch {
    return { kind: 'text', text };
  }
  const hasRef = REF.test(text);
  if ('license' in info && info.plus !== true && info.exception === undefined && !hasRef) {
    return { kind: 'id', id: info.license };
  }
  return { kind: 'expression', expression: text, hasRef };
}

/**
 * `classifyLicense` remembered per distinct string, for one document: parsing costs ~35 µs and a lockfile
 * repeats a handful of licences across thousands of packages. Scoped to a call, so input cannot grow it forever.
 */
export function licenseClassifier(): (raw: string) => LicenseChoice {
  const seen = new Map<string, LicenseChoice>();
  return (raw) => {
    let c = seen.get(raw);
    if (c === undefined) {
      c = classifyLicense(raw);
      seen.set(raw, c);
    }
    return c;
  };
}

/**
 * A `resolved` URL fit for publication, through `publishableUrl` (credentials, query and non-commit fragment
 * removed). Local sources (`file:`, `link:`, relative paths) are not distribution locations and give `undefined`.
 */
export function distributionUrl(resolved: string | undefined): string | undefined {
  if (resolved === undefined || !/^[a-z][a-z0-9+.-]*:\/\//i.test(resolved)) return undefined;
  const url = publishableUrl(resolved);
  return URL.canParse(url) ? url : undefined;
}

/** RFC 3339 §5.6 date-time (`T`/`Z` in either case, optional fraction, `Z` or a numeric offset). */
export const RFC3339_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 UTC with whole seconds (SPDX 2.3 §6.9 requires `YYYY-MM-DDThh:mm:ssZ`; CycloneDX takes the same). */
export function isoSeconds(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new TypeError('timestamp is an invalid Date');
  return `${d.toISOString().slice(0, 19)}Z`;
}

export function sha256Hex(text: string): string {
  return toHex(digestBytes('sha256', text));
}

/** A name-based UUID from a SHA-256 of the content: version 5 and variant bits set as RFC 4122 §4.3 does for SHA-1. */
export function contentUuid(text: string): string {
  const b = digestBytes('sha256', text).subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Lockfile facts every document records, so an SBOM can be traced to the exact lockfile bytes. */
export function lockfileFacts(graph: PackageGraph): { name: string; value: string }[] {
  return [
    { name: 'vouch:lockfile:sha256', value: graph.lockfile.sha256 },
    { name: 'vouch:lockfile:type', value: graph.lockfile.type },
    { name: 'vouch:lockfile:version', value: graph.lockfile.version },
  ];
}
