/**
 * The types the policy's CEL sees, for the compile-time checker (cel-check.ts) and the docs. @bufbuild/cel
 * 0.6.1 evaluates but does not export a checker, so Vouch keeps its own model of the input: typed views are
 * structs whose fields are known (a misspelt field is a compile error), predicates stay `dyn`.
 * Every list and string carries a declared maximum, as Kubernetes' `maxItems`/`maxLength`, for the static
 * cost estimate; the views enforce theirs when they are built (views.ts), dyn values only assume them.
 */

export type CelT =
  | {
      readonly k:
        | 'dyn'
        | 'bool'
        | 'int'
        | 'uint'
        | 'double'
        | 'bytes'
        | 'null'
        | 'timestamp'
        | 'duration'
        | 'type';
    }
  | { readonly k: 'string'; readonly max: number }
  | { readonly k: 'list'; readonly elem: CelT; readonly max: number }
  | { readonly k: 'map'; readonly key: CelT; readonly value: CelT; readonly max: number }
  | { readonly k: 'struct'; readonly name: string; readonly fields: Readonly<Record<string, CelT>> };

/** Lists of a predicate (`dyn`): the size the cost estimate assumes. */
export const MAX_DYN_LIST = 10_000;
/** Strings of a predicate (`dyn`): the length the cost estimate assumes. */
export const MAX_DYN_STRING = 4096;
/** Signatures and attestations one decision may carry (enforced). */
export const MAX_EVIDENCE = 256;
/** SBOM components and vulnerability findings a view may hold (enforced). */
export const MAX_COMPONENTS = 100_000;
/** Short identifiers in views: names, versions, ids, severities (enforced). */
export const MAX_NAME = 512;
/** URIs, purls, subjects, sources in views (enforced). */
export const MAX_URI = 4096;
/** Licence ids per component, aliases per finding, toolchain entries, certificate extensions (enforced). */
export const MAX_SMALL_LIST = 64;

const scalar = <
  K extends 'dyn' | 'bool' | 'int' | 'uint' | 'double' | 'bytes' | 'null' | 'timestamp' | 'duration' | 'type',
>(
  k: K,
) => ({ k }) as const;

export const T = {
  dyn: scalar('dyn'),
  bool: scalar('bool'),
  int: scalar('int'),
  uint: scalar('uint'),
  double: scalar('double'),
  bytes: scalar('bytes'),
  null: scalar('null'),
  timestamp: scalar('timestamp'),
  duration: scalar('duration'),
  type: scalar('type'),
  string: (max: number): CelT => ({ k: 'string', max }),
  list: (elem: CelT, max: number): CelT => ({ k: 'list', elem, max }),
  map: (value: CelT, max: number): CelT => ({ k: 'map', key: { k: 'string', max: MAX_NAME }, value, max }),
  struct: (name: string, fields: Record<string, CelT>): CelT => ({ k: 'struct', name, fields }),
} as const;

const name = T.string(MAX_NAME);
const uri = T.string(MAX_URI);

export const SIGNER = T.struct('signer', {
  kind: name,
  keyId: name,
  name,
  subject: uri,
  issuer: uri,
  extensions: T.map(uri, MAX_SMALL_LIST),
});

const evidence = { signer: SIGNER, time: T.timestamp, source: uri, trusted: T.bool };

export const SIGNATURE = T.struct('signature', evidence);
export const ATTESTATION = T.struct('attestation', { ...evidence, predicateType: uri, predicate: T.dyn });

export const ARTIFACT = T.struct('artifact', {
  digest: name,
  name: uri,
  purl: uri,
  oci: T.struct('artifact.oci', { registry: name, repository: uri, tag: name }),
});

export const PROVENANCE = T.struct('provenance', {
  builderId: uri,
  buildType: uri,
  invocationId: uri,
  source: T.struct('provenance.source', { repository: uri, ref: uri, commit: name }),
  startedOn: T.timestamp,
  finishedOn: T.timestamp,
  toolchain: T.map(name, MAX_SMALL_LIST),
  predicate: T.dyn,
});

const COMPONENT = T.struct('sbom component', {
  name,
  version: name,
  purl: uri,
  license: uri,
  licenses: T.list(name, MAX_SMALL_LIST),
  scope: name,
});

export const SBOM = T.struct('sbom', {
  format: name,
  specVersion: name,
  root: COMPONENT,
  components: T.list(COMPONENT, MAX_COMPONENTS),
  predicate: T.dyn,
});

const FINDING = T.struct('vulns finding', {
  id: name,
  aliases: T.list(name, MAX_SMALL_LIST),
  purl: uri,
  severity: name,
  score: T.double,
  suppressed: T.bool,
  fixedIn: name,
});

export const VULNS = T.struct('vulns', {
  scanner: T.struct('vulns.scanner', { uri, version: name }),
  scanStartedOn: T.timestamp,
  scanFinishedOn: T.timestamp,
  findings: T.list(FINDING, MAX_COMPONENTS),
  notFullyScanned: T.list(uri, MAX_COMPONENTS),
  predicate: T.dyn,
});

export const LICENSES = T.struct('licenses', {
  result: name,
  evaluatedAt: T.timestamp,
  summary: T.dyn,
  licenses: T.list(T.dyn, MAX_DYN_LIST),
  components: T.list(T.dyn, MAX_COMPONENTS),
  violations: T.list(T.dyn, MAX_COMPONENTS),
  predicate: T.dyn,
});

/** The normalised views, one per kind of predicate; `null` when no trusted attestation gives one. */
export const VIEW_TYPES = { provenance: PROVENANCE, sbom: SBOM, vulns: VULNS, licenses: LICENSES } as const;
export type ViewName = keyof typeof VIEW_TYPES;
export const VIEW_NAMES = Object.keys(VIEW_TYPES) as ViewName[];

/** What a rule sees. */
export const RULE_VARIABLES: Readonly<Record<string, CelT>> = {
  artifact: ARTIFACT,
  signatures: T.list(SIGNATURE, MAX_EVIDENCE),
  attestations: T.list(ATTESTATION, MAX_EVIDENCE),
  now: T.timestamp,
  ...VIEW_TYPES,
};

/** What an attestation's condition sees: the rule variables plus the attestation being checked. */
export const CONDITION_VARIABLES: Readonly<Record<string, CelT>> = {
  ...RULE_VARIABLES,
  predicate: T.dyn,
  attestation: ATTESTATION,
};

/** `list(string)`, `sbom`, … for messages. */
export function typeName(t: CelT): string {
  switch (t.k) {
    case 'string':
      return 'string';
    case 'list':
      return `list(${typeName(t.elem)})`;
    case 'map':
      return `map(string, ${typeName(t.value)})`;
    case 'struct':
      return t.name;
    default:
      return t.k;
  }
}
