import { JsonFields, sourceContext } from '../../core/index.js';
import { parsePurl } from '../sbom/purl.js';
import { isTimestamp } from './osv.js';
import type { Finding } from './types.js';

// OpenVEX v0.2.0 (https://github.com/openvex/spec/blob/main/OPENVEX-SPEC.md). A VEX document decides which
// findings a report hides, so it is read strictly: ERR_VEX_MALFORMED names the file and the JSON path.

const CODE = 'ERR_VEX_MALFORMED';
const CONTEXT = /^https:\/\/openvex\.dev\/ns(?:\/v0\.[0-9]+\.[0-9]+)?$/;
const STATUSES = ['not_affected', 'affected', 'fixed', 'under_investigation'] as const;
/** OpenVEX §Status Justifications. */
const JUSTIFICATIONS = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
];
const MAX_STATEMENTS = 100_000;
const MAX_PRODUCTS = 100_000;
const MAX_ALIASES = 1024;
const MAX_DEPTH = 8;
const MAX_TEXT = 64 * 1024;
const MAX_ID = 4096;
/** Ids, names and purls; a required one that is `''` is missing. */
const ID = { max: MAX_ID, emptyIsAbsent: true } as const;

export type VexStatus = (typeof STATUSES)[number];

/**
 * A purl reduced to what matching compares: type, namespace, name, and the version and qualifiers when it has
 * them (purl-spec: qualifiers such as `vcs_url` or `repository_url` tell a fork or a mirror from the
 * registry package, so a statement about one must not speak for the other).
 */
interface ProductPurl {
  readonly type: string;
  readonly namespace: string;
  readonly name: string;
  readonly version?: string;
  readonly qualifiers: Readonly<Record<string, string>>;
}

/**
 * One entry of a statement's `products`. OpenVEX v0.2.0 §Product: the product is what the statement is
 * about; `subcomponents` are the components inside that product through which the vulnerability reaches it.
 * So a subcomponent speaks only for the scanned artifact when the product is that artifact.
 */
interface VexProduct {
  /** `@id` as written (an IRI, a purl, or a name). */
  readonly id?: string;
  /** The product's purls (`@id` and `identifiers.purl` when they are package URLs). */
  readonly purls: readonly ProductPurl[];
  /** Purls of its subcomponents, nested ones included (they are inside the product too). */
  readonly subcomponents: readonly ProductPurl[];
}

export interface VexStatement {
  /** Upper-cased vulnerability name and aliases. */
  readonly vulnerabilities: ReadonlySet<string>;
  readonly products: readonly VexProduct[];
  readonly status: VexStatus;
  readonly justification?: string;
  readonly impactStatement?: string;
  /** The statement's timestamp, else the document's (OpenVEX §Statement: timestamp inherits). */
  readonly time: number;
}

export interface VexDocument {
  /** The document's `@id`. */
  readonly id: string;
  readonly source: string;
  readonly statements: readonly VexStatement[];
}

function productPurl(purl: string): ProductPurl | undefined {
  const p = parsePurl(purl);
  if (p === undefined) return undefined;
  return {
    type: p.type,
    namespace: p.namespace ?? '',
    name: p.name,
    ...(p.version === undefined || p.version === null || p.version === '' ? {} : { version: p.version }),
    qualifiers: { ...(p.qualifiers ?? {}) },
  };
}

/** The purls a product or subcomponent names in `@id` and `identifiers.purl`. */
function purlsOf(c: JsonFields): ProductPurl[] {
  const out: ProductPurl[] = [];
  const ids = [c.optString('@id', ID), c.optObject('identifiers')?.optString('purl', ID)];
  for (const [i, id] of ids.entries()) {
    if (id === undefined || !id.startsWith('pkg:')) continue;
    const p = productPurl(id);
    if (p === undefined) c.fail(i === 0 ? '@id' : 'identifiers.purl', 'is not a valid package URL');
    out.push(p);
  }
  return out;
}

function readSubcomponents(c: JsonFields, out: ProductPurl[], depth: number): void {
  if (depth > MAX_DEPTH) c.fail('subcomponents', `nests deeper than ${MAX_DEPTH}`);
  for (const sub of c.objects('subcomponents', MAX_PRODUCTS)) {
    out.push(...purlsOf(sub));
    readSubcomponents(sub, out, depth + 1);
  }
}

function readProduct(c: JsonFields): VexProduct {
  const id = c.optString('@id', ID);
  const subcomponents: ProductPurl[] = [];
  readSubcomponents(c, subcomponents, 0);
  return { ...(id === undefined ? {} : { id }), purls: purlsOf(c), subcomponents };
}

function time(o: JsonFields, key: string): number | undefined {
  const v = o.optString(key, { max: 64 });
  if (v === undefined) return undefined;
  if (!isTimestamp(v)) o.fail(key, 'must be an RFC 3339 date-time');
  return Date.parse(v);
}

function readStatement(s: JsonFields, docTime: number): VexStatement {
  const vulnerabilities = new Set<string>();
  const vraw = s.raw('vulnerability');
  if (typeof vraw === 'string' && vraw !== '') {
    // OpenVEX v0.0.x spelled the vulnerability as a plain string.
    vulnerabilities.add(vraw.toUpperCase());
  } else {
    const v = s.optObject('vulnerability');
    if (v === undefined) s.fail('vulnerability', 'is required');
    vulnerabilities.add(v.string('name', ID).toUpperCase());
    for (const a of v.strings('aliases', MAX_ALIASES, MAX_ID)) vulnerabilities.add(a.toUpperCase());
  }
  const status = s.string('status', { max: 32, emptyIsAbsent: true }) as VexStatus;
  if (!STATUSES.includes(status)) s.fail('status', `must be one of ${STATUSES.join(', ')}`);
  const justification = s.optString('justification', { max: 64 });
  if (justification !== undefined && !JUSTIFICATIONS.includes(justification)) {
    s.fail('justification', `must be one of ${JUSTIFICATIONS.join(', ')}`);
  }
  const impactStatement = s.optString('impact_statement', { max: MAX_TEXT });
  // OpenVEX §Statement: not_affected MUST carry a justification or an impact statement.
  if (status === 'not_affected' && justification === undefined && impactStatement === undefined) {
    s.fail('justification', 'is required (or impact_statement) for status not_affected');
  }
  const productObjects = s.objects('products', MAX_PRODUCTS);
  if (productObjects.length === 0) s.fail('products', 'must list at least one product');
  const products = productObjects.map(readProduct);
  return {
    vulnerabilities,
    products,
    status,
    ...(justification === undefined ? {} : { justification }),
    ...(impactStatement === undefined ? {} : { impactStatement }),
    time: time(s, 'timestamp') ?? docTime,
  };
}

/** Reads an OpenVEX document (already parsed JSON); `source` names it in errors. */
export function parseOpenVex(json: unknown, source: string): VexDocument {
  const d = new JsonFields(json, '', sourceContext(CODE, source));
  const context = d.string('@context', { max: 256, emptyIsAbsent: true });
  if (!CONTEXT.test(context)) d.fail('@context', `${JSON.stringify(context)} is not an OpenVEX context`);
  const id = d.string('@id', ID);
  d.string('author', ID);
  const docTime = time(d, 'timestamp') ?? d.fail('timestamp', 'is required');
  const version = d.raw('version');
  if (!Number.isSafeInteger(version) || (version as number) < 1) {
    d.fail('version', 'must be a positive integer');
  }
  const statements = d.objects('statements', MAX_STATEMENTS).map((s) => readStatement(s, docTime));
  if (statements.length === 0) d.fail('statements', 'must not be empty');
  return { id, source, statements };
}

function purlMatches(p: ProductPurl, target: ProductPurl): boolean {
  // A product purl without a version speaks for every version of the package (OpenVEX §Product); one with
  // qualifiers only for a package with the same qualifier values.
  return (
    p.type === target.type &&
    p.namespace === target.namespace &&
    p.name === target.name &&
    (p.version === undefined || p.version === target.version) &&
    Object.entries(p.qualifiers).every(
      ([k, v]) => Object.hasOwn(target.qualifiers, k) && target.qualifiers[k] === v,
    )
  );
}

/** Whether `s` is a package URL VEX matching can compare (checks `vouch scan --vex-product`). */
export function isPackageUrl(s: string): boolean {
  return s.startsWith('pkg:') && productPurl(s) !== undefined;
}

/**
 * What the scan is about, for VEX statements with subcomponents: the SBOM's root component (its purl, or its
 * name when it has none) and any product purls the user names (`vouch scan --vex-product`).
 */
export interface VexArtifact {
  readonly purls: readonly string[];
  readonly names: readonly string[];
}

/** Decides, per finding, which VEX statement applies; built once per scan. */
export type VexSuppressor = (finding: Finding) => Finding['suppressedBy'];

/**
 * The statement that decides a finding: among statements naming one of its ids and its component, the one
 * with the latest timestamp (a later one in document order breaks a tie). It suppresses the finding only when
 * its status is `not_affected` or `fixed`; `affected` and `under_investigation` leave the finding standing.
 * A product names the component when one of its purls matches the component's; a subcomponent does only
 * when its product is the scanned artifact (another vendor's "lodash is not affected inside our image" says
 * nothing about lodash in this one).
 */
export function vexSuppressor(docs: readonly VexDocument[], artifact: VexArtifact): VexSuppressor {
  const artifactPurls = artifact.purls.map(productPurl).filter((p) => p !== undefined);
  const isArtifact = (p: VexProduct): boolean =>
    (p.id !== undefined && artifact.names.includes(p.id)) ||
    p.purls.some((pp) => artifactPurls.some((a) => purlMatches(pp, a)));
  const names = (p: VexProduct, target: ProductPurl): boolean =>
    p.purls.some((pp) => purlMatches(pp, target)) ||
    (p.subcomponents.some((sub) => purlMatches(sub, target)) && isArtifact(p));
  return (finding) => {
    const target = productPurl(finding.target.purl);
    if (target === undefined) return undefined;
    const ids = [finding.id, ...finding.aliases].map((i) => i.toUpperCase());
    let decided: { doc: VexDocument; s: VexStatement } | undefined;
    for (const doc of docs) {
      for (const s of doc.statements) {
        if (!ids.some((i) => s.vulnerabilities.has(i))) continue;
        if (!s.products.some((p) => names(p, target))) continue;
        if (decided === undefined || s.time >= decided.s.time) decided = { doc, s };
      }
    }
    if (decided === undefined) return undefined;
    const { doc, s } = decided;
    if (s.status !== 'not_affected' && s.status !== 'fixed') return undefined;
    return {
      document: doc.id,
      status: s.status,
      ...(s.justification === undefined ? {} : { justification: s.justification }),
      ...(s.impactStatement === undefined ? {} : { statement: s.impactStatement }),
    };
  };
}
