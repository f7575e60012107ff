/**
 * CycloneDX 1.6 JSON (https://cyclonedx.org/docs/1.6/json/) from a package graph. Written by hand rather than
 * with @cyclonedx/cyclonedx-library: its sorted output depends on the machine's locale and loading it costs
 * more than writing the document (decision 009). Component shapes follow @cyclonedx/cyclonedx-npm.
 */
import type { PackageGraph, PackageNode } from './model.js';
import {
  byCodeUnit,
  contentUuid,
  dependencyIds,
  distributionUrl,
  graphNodes,
  isoSeconds,
  type LicenseChoice,
  licenseClassifier,
  lockfileFacts,
  type SbomWriteOptions,
  splitScope,
} from './sbom-write-common.js';

export const CYCLONEDX_SPEC_VERSION = '1.6';

type CdxLicense =
  | { expression: string; acknowledgement: 'declared' }
  | { license: { id: string; acknowledgement: 'declared' } }
  | { license: { name: string; acknowledgement: 'declared' } };

export interface CdxComponent {
  type: 'application' | 'library';
  'bom-ref': string;
  group?: string;
  name: string;
  version?: string;
  scope?: 'required' | 'optional';
  hashes?: { alg: string; content: string }[];
  licenses?: CdxLicense[];
  purl: string;
  externalReferences?: { type: 'distribution'; url: string }[];
  properties?: { name: string; value: string }[];
}

export interface CycloneDxBom {
  $schema: string;
  bomFormat: 'CycloneDX';
  specVersion: string;
  serialNumber: string;
  version: 1;
  metadata: {
    timestamp: string;
    tools: { components: { type: 'application'; name: string; version: string }[] };
    component: CdxComponent;
    properties: { name: string; value: string }[];
  };
  components: CdxComponent[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

function license(c: LicenseChoice): CdxLicense {
  switch (c.kind) {
    case 'id':
      return { license: { id: c.id, acknowledgement: 'declared' } };
    case 'expression':
      return { expression: c.expression, acknowledgement: 'declared' };
    case 'text':
      return { license: { name: c.text, acknowledgement: 'declared' } };
  }
}

/** cyclonedx-npm: optional → scope optional; dev is a property and leaves scope unset (not needed at run time,
 * yet not "optional" either). The root has no scope: it is the subject, not a dependency. */
function scope(n: PackageNode): Pick<CdxComponent, 'scope'> {
  if (n.kind === 'root') return {};
  if (n.optional) return { scope: 'optional' };
  return n.dev ? {} : { scope: 'required' };
}

function component(n: PackageNode, classify: (raw: string) => LicenseChoice): CdxComponent {
  const { group, name } = splitScope(n.name);
  const url = distributionUrl(n.resolved);
  const properties: { name: string; value: string }[] = [];
  if (n.dev) properties.push({ name: 'cdx:npm:package:development', value: 'true' });
  if (n.license !== undefined && n.licenseSource !== undefined) {
    properties.push({ name: 'vouch:license:source', value: n.licenseSource });
  }
  if (n.kind === 'workspace') properties.push({ name: 'vouch:workspace', value: 'true' });
  const hashes = n.hashes
    .map((h) => ({ alg: h.alg, content: h.hex }))
    .sort((a, b) => byCodeUnit(a.alg, b.alg));
  return {
    type: n.kind === 'root' ? 'application' : 'library',
    'bom-ref': n.id,
    ...(group === undefined ? {} : { group }),
    name,
    ...(n.version === '' ? {} : { version: n.version }),
    ...scope(n),
    ...(hashes.length === 0 ? {} : { hashes }),
    ...(n.license === undefined || n.license.trim() === ''
      ? {}
      : { licenses: [license(classify(n.license))] }),
    purl: n.purl,
    ...(url === undefined ? {} : { externalReferences: [{ type: 'distribution', url }] }),
    ...(properties.length === 0 ? {} : { properties }),
  };
}

/**
 * The graph as a CycloneDX 1.6 BOM: the root as metadata.component, every other node as a library component
 * (bom-ref = purl), and `dependencies` listing every node, leaves included (CycloneDX 1.6: components without
 * dependencies are declared with an empty list). The same graph and options give byte-identical JSON: lists
 * are sorted by code unit and serialNumber is derived from the content.
 */
export function toCycloneDx(graph: PackageGraph, opts: SbomWriteOptions): CycloneDxBom {
  const [root, ...rest] = graphNodes(graph);
  if (root === undefined) throw new TypeError('package graph has no root');
  const classify = licenseClassifier();
  const metadata: CycloneDxBom['metadata'] = {
    timestamp: isoSeconds(opts.timestamp),
    tools: { components: [{ type: 'application', name: opts.tool.name, version: opts.tool.version }] },
    component: component(root, classify),
    properties: lockfileFacts(graph),
  };
  const components = rest.map((n) => component(n, classify));
  const dependencies = [root, ...rest].map((n) => ({ ref: n.id, dependsOn: dependencyIds(n) }));
  const body = { metadata, components, dependencies };
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: CYCLONEDX_SPEC_VERSION,
    serialNumber: `urn:uuid:${contentUuid(JSON.stringify(body))}`,
    version: 1,
    ...body,
  };
}
