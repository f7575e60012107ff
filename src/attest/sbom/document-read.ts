import { isRecord, parseJson, readInput, VouchError } from '../../core/index.js';
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

type Json = Record<string, unknown>;

class Reader {
  constructor(readonly source: string) {}

  fail(path: string, message: string): never {
    throw new VouchError('ERR_SBOM_MALFORMED', `${this.source}: invalid SBOM: ${path} ${message}`, {
      details: { path, source: this.source },
    });
  }

  object(v: unknown, path: string): Json {
    if (!isRecord(v)) this.fail(path, 'must be a JSON object');
    return v;
  }

  /** An own property; `undefined` when absent. */
  raw(o: Json, key: string): unknown {
    return Object.hasOwn(o, key) ? o[key] : undefined;
  }

  optString(o: Json, key: string, path: string, max = MAX_ID_CHARS): string | undefined {
    const v = this.raw(o, key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(`${path}.${key}`, 'must be a string');
    if (v.length > max) this.fail(`${path}.${key}`, `is ${v.length} characters; at most ${max} are accepted`);
    return v;
  }

  string(o: Json, key: string, path: string): string {
    const v = this.optString(o, key, path);
    if (v === undefined || v === '') this.fail(`${path}.${key}`, 'is required');
    return v;
  }

  /** An array (absent means empty) of at most `max` elements, each with its path. */
  array(o: Json, key: string, path: string, max: number): { value: unknown; path: string }[] {
    const v = this.raw(o, key);
    if (v === undefined) return [];
    const at = `${path}.${key}`;
    if (!Array.isArray(v)) this.fail(at, 'must be an array');
    if (v.length > max) this.fail(at, `has ${v.length} elements; at most ${max} are accepted`);
    return v.map((value: unknown, i) => ({ value, path: `${at}[${i}]` }));
  }
}

/** A child's JSON path (`$` is the document, `$.predicate` a statement's predicate). */
function under(prefix: string, key: string): string {
  return `${prefix}.${key}`;
}

/** CycloneDX `licenses` (a LicenseChoice array): one expression, or licence objects with an id or a name. */
function cdxLicense(r: Reader, c: Json, path: string): { license?: string; licenseIsSpdx: boolean } {
  const entries = r.array(c, 'licenses', path, MAX_LICENSES).map((e) => {
    const o = r.object(e.value, e.path);
    const ack = r.optString(o, 'acknowledgement', e.path);
    const expression = r.optString(o, 'expression', e.path, MAX_LICENSE_CHARS);
    if (expression !== undefined) return { text: expression, spdx: true, concluded: ack === 'concluded' };
    const lic = r.raw(o, 'license');
    if (lic === undefined) r.fail(e.path, 'needs "expression" or "license"');
    const lo = r.object(lic, `${e.path}.license`);
    const ack2 = r.optString(lo, 'acknowledgement', `${e.path}.license`) ?? ack;
    const id = r.optString(lo, 'id', `${e.path}.license`, MAX_LICENSE_CHARS);
    const name = r.optString(lo, 'name', `${e.path}.license`, MAX_LICENSE_CHARS);
    const text = id ?? name;
    if (text === undefined || text === '') r.fail(`${e.path}.license`, 'needs "id" or "name"');
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

function cdxScope(r: Reader, c: Json, path: string): BomComponent['scope'] {
  for (const p of r.array(c, 'properties', path, MAX_PROPERTIES)) {
    const o = r.object(p.value, p.path);
    if (r.optString(o, 'name', p.path) === NPM_DEV_PROPERTY && r.optString(o, 'value', p.path) === 'true') {
      return 'dev';
    }
  }
  const scope = r.optString(c, 'scope', path);
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
      return r.fail(`${path}.scope`, `must be required, optional or excluded, got "${scope}"`);
  }
}

function cdxComponent(r: Reader, c: Json, path: string): BomComponent {
  const name = r.string(c, 'name', path);
  const group = r.optString(c, 'group', path);
  const version = r.optString(c, 'version', path);
  const purl = r.optString(c, 'purl', path);
  return {
    // Without a bom-ref the JSON path is the one identifier that is unique in the document.
    ref: r.optString(c, 'bom-ref', path) ?? path,
    // `group/name`, as a purl writes namespace and name (an npm scope is the group: `@scope/pkg`).
    name: group === undefined || group === '' ? name : `${group}/${name}`,
    ...(version === undefined || version === '' ? {} : { version }),
    ...(purl === undefined || purl === '' ? {} : { purl }),
    ...cdxLicense(r, c, path),
    scope: cdxScope(r, c, path),
  };
}

function readCycloneDx(r: Reader, bom: Json, prefix: string): SbomDocument {
  const specVersion = r.string(bom, 'specVersion', prefix);
  if (!CYCLONEDX_VERSIONS.includes(specVersion)) {
    r.fail(
      under(prefix, 'specVersion'),
      `is "${specVersion}"; CycloneDX ${CYCLONEDX_VERSIONS.join(', ')} are read`,
    );
  }
  const components: BomComponent[] = [];
  const refs = new Set<string>();
  const add = (c: BomComponent, path: string): void => {
    if (refs.has(c.ref)) r.fail(path, `repeats bom-ref "${c.ref}" (bom-refs must be unique)`);
    refs.add(c.ref);
  };
  type Item = { value: unknown; path: string; depth: number };
  const children = (o: Json, path: string, depth: number): Item[] => {
    const list = r.array(o, 'components', path, MAX_COMPONENTS);
    if (list.length > 0 && depth >= MAX_DEPTH) r.fail(`${path}.components`, `nests deeper than ${MAX_DEPTH}`);
    return list.map((c) => ({ ...c, depth: depth + 1 }));
  };
  let root: BomComponent | undefined;
  const seeds: Item[] = [];
  const metadata = r.raw(bom, 'metadata');
  if (metadata !== undefined) {
    const mpath = under(prefix, 'metadata');
    const rc = r.raw(r.object(metadata, mpath), 'component');
    if (rc !== undefined) {
      const cpath = `${mpath}.component`;
      const co = r.object(rc, cpath);
      root = cdxComponent(r, co, cpath);
      add(root, cpath);
      seeds.push(...children(co, cpath, 0));
    }
  }
  seeds.push(...children(bom, prefix, -1));
  // Depth-first in document order with an explicit stack, so a deep file cannot exhaust the call stack.
  const stack = seeds.reverse();
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (components.length >= MAX_COMPONENTS) r.fail(item.path, `exceeds ${MAX_COMPONENTS} components`);
    const o = r.object(item.value, item.path);
    const c = cdxComponent(r, o, item.path);
    add(c, item.path);
    components.push(c);
    stack.push(...children(o, item.path, item.depth).reverse());
  }
  return { format: 'cyclonedx', specVersion, ...(root === undefined ? {} : { root }), components };
}

function spdxLicense(r: Reader, p: Json, path: string): { license?: string; licenseIsSpdx: boolean } {
  // SPDX 2.3 §7.13/§7.15: the concluded licence is the analysed one; the declared one is the author's claim.
  for (const key of ['licenseConcluded', 'licenseDeclared']) {
    const v = r.optString(p, key, path, MAX_LICENSE_CHARS)?.trim();
    if (v !== undefined && v !== '' && !NO_LICENSE.has(v)) return { license: v, licenseIsSpdx: true };
  }
  return { licenseIsSpdx: false };
}

function spdxPurl(r: Reader, p: Json, path: string): string | undefined {
  for (const e of r.array(p, 'externalRefs', path, MAX_EXTERNAL_REFS)) {
    const o = r.object(e.value, e.path);
    // SPDX 2.3 Annex F: category PACKAGE-MANAGER (2.2 documents and tools also write PACKAGE_MANAGER).
    const category = r.optString(o, 'referenceCategory', e.path);
    if (
      (category === 'PACKAGE-MANAGER' || category === 'PACKAGE_MANAGER') &&
      r.optString(o, 'referenceType', e.path) === 'purl'
    ) {
      return r.string(o, 'referenceLocator', e.path);
    }
  }
  return undefined;
}

function readSpdx(r: Reader, doc: Json, prefix: string): SbomDocument {
  const specVersion = r.string(doc, 'spdxVersion', prefix);
  if (!SPDX_VERSIONS.includes(specVersion)) {
    r.fail(under(prefix, 'spdxVersion'), `is "${specVersion}"; ${SPDX_VERSIONS.join(', ')} are read`);
  }
  const packages = r.array(doc, 'packages', prefix, MAX_COMPONENTS).map((e) => {
    const p = r.object(e.value, e.path);
    const version = r.optString(p, 'versionInfo', e.path);
    const purl = spdxPurl(r, p, e.path);
    return {
      path: e.path,
      ref: r.string(p, 'SPDXID', e.path),
      name: r.string(p, 'name', e.path),
      ...(version === undefined || version === '' ? {} : { version }),
      ...(purl === undefined ? {} : { purl }),
      ...spdxLicense(r, p, e.path),
    };
  });
  const byRef = new Map<string, (typeof packages)[number]>();
  for (const p of packages) {
    if (byRef.has(p.ref)) r.fail(`${p.path}.SPDXID`, `repeats "${p.ref}" (SPDXIDs must be unique)`);
    byRef.set(p.ref, p);
  }
  const described = new Set<string>();
  const dpath = under(prefix, 'documentDescribes');
  const describes = r.raw(doc, 'documentDescribes');
  if (describes !== undefined) {
    if (!Array.isArray(describes)) r.fail(dpath, 'must be an array');
    describes.forEach((d: unknown, i) => {
      if (typeof d !== 'string') r.fail(`${dpath}[${i}]`, 'must be a string');
      described.add(d);
    });
  }
  const dev = new Set<string>();
  const optional = new Set<string>();
  const required = new Set<string>();
  const docId = r.optString(doc, 'SPDXID', prefix) ?? 'SPDXRef-DOCUMENT';
  for (const e of r.array(doc, 'relationships', prefix, MAX_RELATIONSHIPS)) {
    const o = r.object(e.value, e.path);
    const element = r.string(o, 'spdxElementId', e.path);
    const type = r.string(o, 'relationshipType', e.path);
    const related = r.string(o, 'relatedSpdxElement', e.path);
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

function readBom(r: Reader, json: Json, prefix: string): SbomDocument {
  if (Object.hasOwn(json, 'bomFormat')) {
    const format = r.raw(json, 'bomFormat');
    if (format !== 'CycloneDX') r.fail(under(prefix, 'bomFormat'), 'must be "CycloneDX"');
    return readCycloneDx(r, json, prefix);
  }
  if (Object.hasOwn(json, 'spdxVersion')) return readSpdx(r, json, prefix);
  return r.fail(
    prefix,
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
  const r = new Reader(source);
  const top = r.object(json, '$');
  if (!Object.hasOwn(top, '_type')) return readBom(r, top, '$');
  // Only the predicate matters here (no signature is checked), so the statement is read to its predicate
  // and not through parseStatement, which re-reads serialized bytes under a 64 MiB cap.
  const type = r.raw(top, '_type');
  if (type !== STATEMENT_V1 && type !== STATEMENT_V01) {
    r.fail('$._type', `must be ${STATEMENT_V1} (an in-toto Statement), got ${JSON.stringify(type)}`);
  }
  const predicateType = r.string(top, 'predicateType', '$');
  const predicate = r.object(r.raw(top, 'predicate'), '$.predicate');
  const doc = readBom(r, predicate, '$.predicate');
  const expected = doc.format === 'cyclonedx' ? CYCLONEDX_PREDICATE : SPDX_PREDICATE;
  if (!expected.test(predicateType)) {
    r.fail(
      '$.predicateType',
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
