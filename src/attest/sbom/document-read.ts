import {
  type FieldsContext,
  failAt,
  JsonFields,
  parseJson,
  readInput,
  VouchError,
} from '../../core/index.js';
import { STATEMENT_V1, STATEMENT_V01 } from '../../envelope/index.js';
import type { BomComponent, SbomDocument } from './document.js';

// Readers for CycloneDX 1.4–1.6 JSON (cyclonedx.org/docs/1.6/json), SPDX 2.2/2.3 JSON (spdx.github.io/spdx-spec/v2.3)
// and an in-toto Statement v1 carrying one of them. Every SBOM is attacker-controlled: fields are read one by
// one as own properties, counts, lengths and nesting are capped, and each failure names its JSON path.

/** SBOM files above this are refused before reading; real SBOMs of large monorepos stay far below it. */
export const MAX_SBOM_BYTES = 256 * 1024 * 1024;
const MAX_COMPONENTS = 1_000_000;
const MAX_RELATIONSHIPS = 10_000_000;
const MAX_LICENSES = 256;
const MAX_PROPERTIES = 4096;
const MAX_EXTERNAL_REFS = 4096;
/** CycloneDX components nest (`components[].components`); a deeper tree only comes from a hostile file. */
const MAX_DEPTH = 256;
/** Names, versions, purls and refs; longer strings are not identifiers. */
const MAX_ID_CHARS = 4096;
/** Licence expressions and names (an SPDX expression of a few hundred ids still fits). */
const MAX_LICENSE_CHARS = 16_384;

const CYCLONEDX_VERSIONS = ['1.4', '1.5', '1.6'];
const SPDX_VERSIONS = ['SPDX-2.2', 'SPDX-2.3'];
/** in-toto predicate types for SBOMs (in-toto/attestation spec/predicates: cyclonedx.md, spdx.md). */
const CYCLONEDX_PREDICATE = /^https:\/\/cyclonedx\.org\/bom(?:\/v1\.[0-9]+)?$/;
const SPDX_PREDICATE = /^https:\/\/spdx\.dev\/Document(?:\/v2\.[0-9]+)?$/;
/** SPDX 2.3 §7.1/§7.2: these say "no licence information", not a licence. */
const NO_LICENSE = new Set(['NOASSERTION', 'NONE']);
/** cyclonedx-npm marks dev dependencies with this property (CycloneDX property taxonomy, cdx:npm). */
const NPM_DEV_PROPERTY = 'cdx:npm:package:development';

/** Ids, names, versions, purls and refs; a required one that is `''` is missing. */
const ID = { max: MAX_ID_CHARS, emptyIsAbsent: true } as const;
const LICENSE_TEXT = { max: MAX_LICENSE_CHARS } as const;

/** Every failure is `<source>: invalid SBOM: <path> <problem>`; paths start at `$`, the document. */
function sbomContext(source: string): FieldsContext {
  return {
    code: 'ERR_SBOM_MALFORMED',
    message: (path, problem) => `${source}: invalid SBOM: ${path} ${problem}`,
    details: { source },
  };
}

/** CycloneDX `licenses` (a LicenseChoice array): one expression, or licence objects with an id or a name. */
function cdxLicense(c: JsonFields): { license?: string; licenseIsSpdx: boolean } {
  const entries = c.array('licenses', MAX_LICENSES).map((e) => {
    const o = c.child(e.value, e.path);
    const ack = o.optString('acknowledgement', ID);
    const expression = o.optString('expression', LICENSE_TEXT);
    if (expression !== undefined) return { text: expression, spdx: true, concluded: ack === 'concluded' };
    const lo: JsonFields = o.optObject('license') ?? o.fail('', 'needs "expression" or "license"');
    const ack2 = lo.optString('acknowledgement', ID) ?? ack;
    const id = lo.optString('id', LICENSE_TEXT);
    const name = lo.optString('name', LICENSE_TEXT);
    const text = id ?? name;
    if (text === undefined || text === '') lo.fail('', 'needs "id" or "name"');
    return { text, spdx: id !== undefined, concluded: ack2 === 'concluded' };
  });
  // CycloneDX 1.6 `acknowledgement`: a concluded licence is the analysed result, preferred like SPDX's
  // licenseConcluded over licenseDeclared.
  const concluded = entries.filter((e) => e.concluded);
  const chosen = (concluded.length > 0 ? concluded : entries).filter((e) => !NO_LICENSE.has(e.text));
  if (chosen.length === 0) return { licenseIsSpdx: false };
  const first = chosen[0];
  if (chosen.length === 1 && first !== undefined) return { license: first.text, licenseIsSpdx: first.spdx };
  // Several licences on one component all apply (CycloneDX LicenseChoice), hence AND.
  return {
    license: chosen.map((e) => (/\s/.test(e.text) ? `(${e.text})` : e.text)).join(' AND '),
    licenseIsSpdx: chosen.every((e) => e.spdx),
  };
}

function cdxScope(c: JsonFields): BomComponent['scope'] {
  for (const p of c.array('properties', MAX_PROPERTIES)) {
    const o = c.child(p.value, p.path);
    if (o.optString('name', ID) === NPM_DEV_PROPERTY && o.optString('value', ID) === 'true') {
      return 'dev';
    }
  }
  const scope = c.optString('scope', ID);
  switch (scope) {
    case undefined:
    case 'required':
      return 'required';
    case 'optional':
      return 'optional';
    // "excluded": used only for tests or other non-runtime purposes (CycloneDX 1.6 component.scope).
    case 'excluded':
      return 'dev';
    default:
      return c.fail('scope', `must be required, optional or excluded, got "${scope}"`);
  }
}

function cdxComponent(c: JsonFields): BomComponent {
  const name = c.string('name', ID);
  const group = c.optString('group', ID);
  const version = c.optString('version', ID);
  const purl = c.optString('purl', ID);
  return {
    // Without a bom-ref the JSON path is the one identifier that is unique in the document.
    ref: c.optString('bom-ref', ID) ?? c.path,
    // `group/name`, as a purl writes namespace and name (an npm scope is the group: `@scope/pkg`).
    name: group === undefined || group === '' ? name : `${group}/${name}`,
    ...(version === undefined || version === '' ? {} : { version }),
    ...(purl === undefined || purl === '' ? {} : { purl }),
    ...cdxLicense(c),
    scope: cdxScope(c),
  };
}

function readCycloneDx(bom: JsonFields): SbomDocument {
  const specVersion = bom.string('specVersion', ID);
  if (!CYCLONEDX_VERSIONS.includes(specVersion)) {
    bom.fail('specVersion', `is "${specVersion}"; CycloneDX ${CYCLONEDX_VERSIONS.join(', ')} are read`);
  }
  const components: BomComponent[] = [];
  const refs = new Set<string>();
  const add = (c: BomComponent, o: JsonFields): void => {
    if (refs.has(c.ref)) o.fail('', `repeats bom-ref "${c.ref}" (bom-refs must be unique)`);
    refs.add(c.ref);
  };
  type Item = { value: unknown; path: string; depth: number };
  const children = (o: JsonFields, depth: number): Item[] => {
    const list = o.array('components', MAX_COMPONENTS);
    if (list.length > 0 && depth >= MAX_DEPTH) o.fail('components', `nests deeper than ${MAX_DEPTH}`);
    return list.map((c) => ({ ...c, depth: depth + 1 }));
  };
  let root: BomComponent | undefined;
  const seeds: Item[] = [];
  const co = bom.optObject('metadata')?.optObject('component');
  if (co !== undefined) {
    root = cdxComponent(co);
    add(root, co);
    seeds.push(...children(co, 0));
  }
  seeds.push(...children(bom, -1));
  // Depth-first in document order with an explicit stack, so a deep file cannot exhaust the call stack.
  const stack = seeds.reverse();
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (components.length >= MAX_COMPONENTS)
      failAt(bom.ctx, item.path, `exceeds ${MAX_COMPONENTS} components`);
    const o = bom.child(item.value, item.path);
    const c = cdxComponent(o);
    add(c, o);
    components.push(c);
    stack.push(...children(o, item.depth).reverse());
  }
  return { format: 'cyclonedx', specVersion, ...(root === undefined ? {} : { root }), components };
}

function spdxLicense(p: JsonFields): { license?: string; licenseIsSpdx: boolean } {
  // SPDX 2.3 §7.13/§7.15: the concluded licence is the analysed one; the declared one is the author's claim.
  for (const key of ['licenseConcluded', 'licenseDeclared']) {
    const v = p.optString(key, LICENSE_TEXT)?.trim();
    if (v !== undefined && v !== '' && !NO_LICENSE.has(v)) return { license: v, licenseIsSpdx: true };
  }
  return { licenseIsSpdx: false };
}

function spdxPurl(p: JsonFields): string | undefined {
  for (const e of p.array('externalRefs', MAX_EXTERNAL_REFS)) {
    const o = p.child(e.value, e.path);
    // SPDX 2.3 Annex F: category PACKAGE-MANAGER (2.2 documents and tools also write PACKAGE_MANAGER).
    const category = o.optString('referenceCategory', ID);
    if (
      (category === 'PACKAGE-MANAGER' || category === 'PACKAGE_MANAGER') &&
      o.optString('referenceType', ID) === 'purl'
    ) {
      return o.string('referenceLocator', ID);
    }
  }
  return undefined;
}

function readSpdx(doc: JsonFields): SbomDocument {
  const specVersion = doc.string('spdxVersion', ID);
  if (!SPDX_VERSIONS.includes(specVersion)) {
    doc.fail('spdxVersion', `is "${specVersion}"; ${SPDX_VERSIONS.join(', ')} are read`);
  }
  const packages = doc.array('packages', MAX_COMPONENTS).map((e) => {
    const p = doc.child(e.value, e.path);
    const version = p.optString('versionInfo', ID);
    const purl = spdxPurl(p);
    return {
      path: e.path,
      ref: p.string('SPDXID', ID),
      name: p.string('name', ID),
      ...(version === undefined || version === '' ? {} : { version }),
      ...(purl === undefined ? {} : { purl }),
      ...spdxLicense(p),
    };
  });
  const byRef = new Map<string, (typeof packages)[number]>();
  for (const p of packages) {
    if (byRef.has(p.ref)) failAt(doc.ctx, `${p.path}.SPDXID`, `repeats "${p.ref}" (SPDXIDs must be unique)`);
    byRef.set(p.ref, p);
  }
  const described = new Set<string>(doc.strings('documentDescribes', Number.POSITIVE_INFINITY));
  const dev = new Set<string>();
  const optional = new Set<string>();
  const required = new Set<string>();
  const docId = doc.optString('SPDXID', ID) ?? 'SPDXRef-DOCUMENT';
  for (const e of doc.array('relationships', MAX_RELATIONSHIPS)) {
    const o = doc.child(e.value, e.path);
    const element = o.string('spdxElementId', ID);
    const type = o.string('relationshipType', ID);
    const related = o.string('relatedSpdxElement', ID);
    // SPDX 2.3 §11.1: "A DEV_DEPENDENCY_OF B" — A is a development dependency of B.
    if (type === 'DESCRIBES' && element === docId) described.add(related);
    else if (type === 'DEV_DEPENDENCY_OF') dev.add(element);
    else if (type === 'OPTIONAL_DEPENDENCY_OF') optional.add(element);
    else if (type === 'DEPENDENCY_OF' || type === 'RUNTIME_DEPENDENCY_OF') required.add(element);
  }
  // The described package is the root when exactly one package is described (files may be described too).
  const describedPackages = [...described].filter((id) => byRef.has(id));
  const rootRef = describedPackages.length === 1 ? describedPackages[0] : undefined;
  const scopeOf = (ref: string): BomComponent['scope'] => {
    // An explicit runtime edge wins: a package that is a dev dependency of one package and a runtime
    // dependency of another ships.
    if (required.has(ref)) return 'required';
    if (dev.has(ref)) return 'dev';
    return optional.has(ref) ? 'optional' : 'required';
  };
  let root: BomComponent | undefined;
  const components: BomComponent[] = [];
  for (const { path: _path, ...p } of packages) {
    const c: BomComponent = { ...p, scope: scopeOf(p.ref) };
    if (p.ref === rootRef) root = c;
    else components.push(c);
  }
  return { format: 'spdx', specVersion, ...(root === undefined ? {} : { root }), components };
}

function readBom(json: JsonFields): SbomDocument {
  const keys = json.keys();
  if (keys.includes('bomFormat')) {
    if (json.raw('bomFormat') !== 'CycloneDX') json.fail('bomFormat', 'must be "CycloneDX"');
    return readCycloneDx(json);
  }
  if (keys.includes('spdxVersion')) return readSpdx(json);
  return json.fail(
    '',
    'is neither a CycloneDX JSON BOM (bomFormat "CycloneDX"), an SPDX JSON document (spdxVersion) nor an ' +
      'in-toto Statement whose predicate is one of them',
  );
}

/**
 * Reads a parsed SBOM: CycloneDX 1.4–1.6 JSON, SPDX 2.2/2.3 JSON, or an in-toto Statement (v1, or v0.1)
 * whose predicate is one of them. `source` names the input in messages. Every structural failure is
 * ERR_SBOM_MALFORMED with the JSON path of the offending field.
 */
export function readSbom(json: unknown, source: string): SbomDocument {
  const top = new JsonFields(json, '$', sbomContext(source));
  if (!top.keys().includes('_type')) return readBom(top);
  // Only the predicate matters here (no signature is checked), so the statement is read to its predicate
  // and not through parseStatement, which re-reads serialized bytes under a 64 MiB cap.
  const type = top.raw('_type');
  if (type !== STATEMENT_V1 && type !== STATEMENT_V01) {
    top.fail('_type', `must be ${STATEMENT_V1} (an in-toto Statement), got ${JSON.stringify(type)}`);
  }
  const predicateType = top.string('predicateType', ID);
  const doc = readBom(top.child(top.raw('predicate'), top.at('predicate')));
  const expected = doc.format === 'cyclonedx' ? CYCLONEDX_PREDICATE : SPDX_PREDICATE;
  if (!expected.test(predicateType)) {
    top.fail(
      'predicateType',
      `is "${predicateType}", which does not name the ${doc.format} predicate it carries`,
    );
  }
  return doc;
}

/** Parses SBOM bytes (JSON) and reads them; JSON and UTF-8 failures are ERR_SBOM_MALFORMED too. */
export function parseSbom(bytes: Uint8Array, source: string): SbomDocument {
  let json: unknown;
  try {
    json = parseJson(bytes, source);
  } catch (e) {
    throw new VouchError('ERR_SBOM_MALFORMED', (e as Error).message, { cause: e, details: { source } });
  }
  return readSbom(json, source);
}

/** Reads an SBOM file, size-capped before reading (MAX_SBOM_BYTES). */
export async function readSbomFile(path: string): Promise<SbomDocument> {
  return parseSbom(await readInput(path, MAX_SBOM_BYTES), path);
}
