/**
 * SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/) from a package graph: one package per node, the
 * dependency graph as relationships. Deterministic like the CycloneDX writer: nodes in id order, the document
 * namespace derived from the content.
 */
import type { HashAlg, PackageGraph, PackageNode } from './model.js';
import {
  byCodeUnit,
  dependencyIds,
  distributionUrl,
  graphNodes,
  isoSeconds,
  type LicenseChoice,
  licenseClassifier,
  type SbomWriteOptions,
  sha256Hex,
} from './sbom-write-common.js';

type Classify = (raw: string) => LicenseChoice;

export const SPDX_VERSION = 'SPDX-2.3';

/** Vouch's namespace prefix; SPDX 2.3 §6.5 asks for a unique URI, which need not resolve. */
const NAMESPACE_BASE = 'https://vouch.dev/spdx/';

const CHECKSUM_ALG: Record<HashAlg, string> = {
  'SHA-1': 'SHA1',
  'SHA-256': 'SHA256',
  'SHA-384': 'SHA384',
  'SHA-512': 'SHA512',
};

export interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  downloadLocation: string;
  filesAnalyzed: false;
  checksums?: { algorithm: string; checksumValue: string }[];
  licenseConcluded: 'NOASSERTION';
  licenseDeclared: string;
  licenseComments?: string;
  copyrightText: 'NOASSERTION';
  externalRefs: { referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string }[];
  primaryPackagePurpose: 'APPLICATION' | 'LIBRARY';
}

export interface SpdxRelationship {
  spdxElementId: string;
  relationshipType: 'DESCRIBES' | 'DEPENDS_ON' | 'DEV_DEPENDENCY_OF' | 'OPTIONAL_DEPENDENCY_OF';
  relatedSpdxElement: string;
}

export interface SpdxDocument {
  spdxVersion: string;
  dataLicense: 'CC0-1.0';
  SPDXID: 'SPDXRef-DOCUMENT';
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[]; comment: string };
  packages: SpdxPackage[];
  hasExtractedLicensingInfos?: { licenseId: string; extractedText: string; name: string }[];
  relationships: SpdxRelationship[];
}

/** SPDX 2.3 §7.2: an SPDXID is `SPDXRef-` followed by letters, digits, `.` and `-`. */
function idString(s: string): string {
  const t = s
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120);
  return t === '' ? 'unnamed' : t;
}

/** Gives each key a readable id; a clash (two keys that sanitise alike) gets a digest of its key appended. */
function uniqueIds(keys: readonly string[], make: (key: string) => string): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const k of keys) {
    let id = make(k);
    if (used.has(id)) id = `${id}-${sha256Hex(k).slice(0, 12)}`;
    used.add(id);
    ids.set(k, id);
  }
  return ids;
}

/**
 * Licence strings that are not plain SPDX expressions become `LicenseRef-` ids with the text as
 * hasExtractedLicensingInfos (SPDX 2.3 §10). An expression naming its own LicenseRef is kept whole the same
 * way: the lockfile gives no text for the ref, so it could not be defined on its own.
 */
function licenseRefs(nodes: readonly PackageNode[], classify: Classify): Map<string, string> {
  const texts = new Set<string>();
  for (const n of nodes) {
    if (n.license === undefined || n.license.trim() === '') continue;
    const c = classify(n.license);
    if (c.kind === 'text') texts.add(c.text);
    else if (c.kind === 'expression' && c.hasRef) texts.add(c.expression);
  }
  return uniqueIds([...texts].sort(byCodeUnit), (t) => `LicenseRef-${idString(t)}`);
}

function declared(raw: string | undefined, refs: ReadonlyMap<string, string>, classify: Classify): string {
  if (raw === undefined || raw.trim() === '') return 'NOASSERTION';
  const c = classify(raw);
  const key = c.kind === 'id' ? c.id : c.kind === 'text' ? c.text : c.expression;
  return refs.get(key) ?? key;
}

function spdxPackage(
  n: PackageNode,
  spdxId: string,
  refs: ReadonlyMap<string, string>,
  classify: Classify,
): SpdxPackage {
  const checksums = n.hashes
    .map((h) => ({ algorithm: CHECKSUM_ALG[h.alg], checksumValue: h.hex }))
    .sort((a, b) => byCodeUnit(a.algorithm, b.algorithm));
  const source = n.license === undefined ? undefined : n.licenseSource;
  return {
    SPDXID: spdxId,
    name: n.name,
    ...(n.version === '' ? {} : { versionInfo: n.version }),
    downloadLocation: distributionUrl(n.resolved) ?? 'NOASSERTION',
    filesAnalyzed: false,
    ...(checksums.length === 0 ? {} : { checksums }),
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: declared(n.license, refs, classify),
    ...(source === undefined
      ? {}
      : {
          licenseComments:
            source === 'lockfile' ? 'declared in the lockfile' : 'declared in the installed package.json',
        }),
    copyrightText: 'NOASSERTION',
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: n.purl }],
    primaryPackagePurpose: n.kind === 'package' ? 'LIBRARY' : 'APPLICATION',
  };
}

/**
 * The graph as an SPDX 2.3 document. Relationships: the document DESCRIBES the root; every edge is
 * `A DEPENDS_ON B`; every dev node is `DEV_DEPENDENCY_OF` the root and every optional node
 * `OPTIONAL_DEPENDENCY_OF` the root (SPDX 2.3 §11.1), which is how a reader learns its scope.
 * licenseConcluded is NOASSERTION: Vouch reports what packages declare and concludes nothing.
 */
export function toSpdx(graph: PackageGraph, opts: SbomWriteOptions): SpdxDocument {
  const nodes = graphNodes(graph);
  const root = graph.root;
  const spdxIds = uniqueIds(
    nodes.map((n) => n.id),
    (id) => {
      const n = id === root.id ? root : graph.packages.get(id);
      return `SPDXRef-Package-${idString(n === undefined ? id : `${n.name}-${n.version}`)}`;
    },
  );
  const sid = (id: string): string => spdxIds.get(id) ?? id;
  const classify = licenseClassifier();
  const refs = licenseRefs(nodes, classify);
  const packages = nodes.map((n) => spdxPackage(n, sid(n.id), refs, classify));
  const rootId = sid(root.id);
  const relationships: SpdxRelationship[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: rootId },
  ];
  for (const n of nodes) {
    for (const d of dependencyIds(n)) {
      relationships.push({
        spdxElementId: sid(n.id),
        relationshipType: 'DEPENDS_ON',
        relatedSpdxElement: sid(d),
      });
    }
  }
  for (const n of nodes) {
    if (n.kind === 'root') continue;
    if (n.dev) {
      relationships.push({
        spdxElementId: sid(n.id),
        relationshipType: 'DEV_DEPENDENCY_OF',
        relatedSpdxElement: rootId,
      });
    }
    if (n.optional) {
      relationships.push({
        spdxElementId: sid(n.id),
        relationshipType: 'OPTIONAL_DEPENDENCY_OF',
        relatedSpdxElement: rootId,
      });
    }
  }
  const name = root.version === '' ? root.name : `${root.name}@${root.version}`;
  const { lockfile } = graph;
  const creationInfo = {
    created: isoSeconds(opts.timestamp),
    creators: [`Tool: ${opts.tool.name}-${opts.tool.version}`],
    comment: `From ${lockfile.type} lockfile version ${lockfile.version}, sha256 ${lockfile.sha256}.`,
  };
  const extracted = [...refs].map(([text, licenseId]) => ({ licenseId, extractedText: text, name: text }));
  const body = {
    creationInfo,
    packages,
    ...(extracted.length === 0 ? {} : { hasExtractedLicensingInfos: extracted }),
    relationships,
  };
  return {
    spdxVersion: SPDX_VERSION,
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: `${NAMESPACE_BASE}${idString(name)}-${sha256Hex(JSON.stringify({ name, ...body }))}`,
    ...body,
  };
}
