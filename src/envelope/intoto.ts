import { failAt, fromBase64, isRecord, toHex, VouchError } from '../core/index.js';
import { Fields, parseDocument, readContext } from './fields.js';

// in-toto Attestation Framework: github.com/in-toto/attestation spec/v1 (statement.md, resource_descriptor.md,
// digest_set.md). Statement v0.1 is read too, for older bundles (npm, SLSA v0.2 provenance).

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** resource_descriptor.md; as a Statement subject, `digest` is required (statement.md). */
export interface ResourceDescriptor {
  readonly name?: string;
  readonly uri?: string;
  /** DigestSet (digest_set.md): algorithm name → hex digest. Own properties only. */
  readonly digest: Readonly<Record<string, string>>;
  /** Base64 text, kept as written. */
  readonly content?: string;
  readonly downloadLocation?: string;
  readonly mediaType?: string;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface Statement {
  readonly _type: string;
  readonly subject: readonly ResourceDescriptor[];
  readonly predicateType: string;
  readonly predicate?: Readonly<Record<string, unknown>>;
}

const CONTEXT = readContext('ERR_INTOTO_MALFORMED', 'in-toto statement', false);

/** Bounds for attacker-controlled statements: subjects, digests per subject, and predicate nesting. */
const MAX_SUBJECTS = 1024;
const MAX_DIGESTS = 32;
const MAX_DEPTH = 256;

/**
 * Hex lengths of the fixed-size algorithms digest_set.md names. Vouch writes these only as lowercase hex of
 * the right length; it reads any string (spec examples abbreviate digests) and such a value simply never
 * matches an artifact.
 */
const HEX_LENGTHS: Readonly<Record<string, readonly number[]>> = {
  sha256: [64],
  sha224: [56],
  sha384: [96],
  sha512: [128],
  sha512_224: [56],
  sha512_256: [64],
  sha3_224: [56],
  sha3_256: [64],
  sha3_384: [96],
  sha3_512: [128],
  sha1: [40],
  md5: [32],
  gitBlob: [40, 64],
  gitCommit: [40, 64],
  gitTree: [40, 64],
  dirHash: [64],
};

function readDigestSet(f: Fields, strict: boolean): Record<string, string> {
  const set = f.optObject('digest');
  if (set === undefined) return f.fail('digest', 'is required for a subject');
  const algs = set.keys();
  if (algs.length === 0) f.fail('digest', 'must name at least one algorithm');
  if (algs.length > MAX_DIGESTS)
    f.fail('digest', `has ${algs.length} entries; at most ${MAX_DIGESTS} are accepted`);
  const entries = algs.map((alg) => {
    const value = set.string(alg, { nonEmpty: true });
    const lengths = Object.hasOwn(HEX_LENGTHS, alg) ? HEX_LENGTHS[alg] : undefined;
    if (strict && lengths !== undefined && !(/^[0-9a-f]*$/.test(value) && lengths.includes(value.length))) {
      set.fail(alg, `must be ${lengths.join(' or ')} lowercase hex characters`);
    }
    return [alg, value] as const;
  });
  // Object.fromEntries defines own properties, so a "__proto__" algorithm name stays an ordinary key.
  return Object.fromEntries(entries);
}

/** Checks that a value is plain JSON (what a predicate must be), bounded in depth. */
function assertJson(value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) failAt(CONTEXT, path, `nests deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) failAt(CONTEXT, path, 'is not a finite number');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      assertJson(v, `${path}[${i}]`, depth + 1);
    });
    return;
  }
  const proto: unknown = isRecord(value) ? Object.getPrototypeOf(value) : undefined;
  if (isRecord(value) && (proto === Object.prototype || proto === null)) {
    for (const [k, v] of Object.entries(value)) assertJson(v, `${path}.${k}`, depth + 1);
    return;
  }
  failAt(CONTEXT, path, 'is not JSON');
}

function readSubject(f: Fields, strict: boolean): ResourceDescriptor {
  const digest = readDigestSet(f, strict);
  const name = f.optString('name');
  const uri = f.optString('uri');
  const content = f.optString('content');
  if (content !== undefined) {
    try {
      fromBase64(content);
    } catch {
      f.fail('content', 'is not valid base64');
    }
  }
  const downloadLocation = f.optString('downloadLocation');
  const mediaType = f.optString('mediaType');
  const annotationsRaw = f.raw('annotations');
  let annotations: Record<string, unknown> | undefined;
  if (annotationsRaw !== undefined) {
    if (!isRecord(annotationsRaw)) f.fail('annotations', 'must be a JSON object');
    assertJson(annotationsRaw, f.at('annotations'), 0);
    annotations = annotationsRaw;
  }
  return {
    ...(name === undefined ? {} : { name }),
    ...(uri === undefined ? {} : { uri }),
    digest,
    ...(content === undefined ? {} : { content }),
    ...(downloadLocation === undefined ? {} : { downloadLocation }),
    ...(mediaType === undefined ? {} : { mediaType }),
    ...(annotations === undefined ? {} : { annotations }),
  };
}

function readStatement(value: unknown, strict: boolean): Statement {
  const f: Fields = new Fields(value, '', CONTEXT);
  const type = f.string('_type');
  if (type !== STATEMENT_V1 && (strict || type !== STATEMENT_V01)) {
    f.fail('_type', `must be ${STATEMENT_V1}${strict ? '' : ` or ${STATEMENT_V01}`}, got "${type}"`);
  }
  const subject = f.objects('subject', MAX_SUBJECTS).map((s) => readSubject(s, strict));
  if (subject.length === 0) f.fail('subject', 'must name at least one artifact');
  const predicateType = f.string('predicateType', { nonEmpty: true });
  const predicate = f.raw('predicate');
  if (predicate !== undefined) {
    if (!isRecord(predicate)) f.fail('predicate', 'must be a JSON object');
    assertJson(predicate, 'predicate', 0);
  }
  return {
    _type: type,
    subject,
    predicateType,
    ...(predicate === undefined ? {} : { predicate }),
  };
}

/**
 * Builds an in-toto Statement v1, validating what Vouch will sign: at least one subject, each with a digest
 * set whose well-known algorithms are lowercase hex of the right length, a non-empty predicate type and a
 * plain-JSON object predicate (or none).
 */
export function buildStatement(o: {
  subjects: readonly ResourceDescriptor[];
  predicateType: string;
  predicate: unknown;
}): Statement {
  const st = readStatement(
    {
      _type: STATEMENT_V1,
      subject: o.subjects,
      predicateType: o.predicateType,
      ...(o.predicate === undefined ? {} : { predicate: o.predicate }),
    },
    true,
  );
  // A deep copy, so a caller changing its predicate object later cannot change what gets signed.
  return structuredClone(st);
}

/**
 * Parses a DSSE payload as an in-toto Statement (v1, or v0.1 from older bundles). Attacker-controlled: the
 * structure is checked strictly, sizes are bounded, unknown fields are ignored ("consumers MUST ignore
 * unrecognized fields", spec/v1). Every failure, including bad UTF-8 or JSON, is ERR_INTOTO_MALFORMED.
 */
export function parseStatement(payload: Uint8Array): Statement {
  return readStatement(parseDocument(payload, CONTEXT, true), false);
}

/** The bytes Vouch signs for a statement: JSON with the spec's field order, no whitespace. */
export function serializeStatement(st: Statement): Buffer {
  const text = JSON.stringify({
    _type: st._type,
    subject: st.subject.map((s) => ({
      name: s.name,
      uri: s.uri,
      digest: s.digest,
      content: s.content,
      downloadLocation: s.downloadLocation,
      mediaType: s.mediaType,
      annotations: s.annotations,
    })),
    predicateType: st.predicateType,
    predicate: st.predicate,
  });
  return Buffer.from(text, 'utf8');
}

const DIGEST_BYTES = { sha256: 32, sha384: 48, sha512: 64 } as const;

/**
 * Returns the first subject whose digest set holds `digest` under its algorithm's name (statement.md: subjects
 * are matched purely by digest). Hex case is ignored; a subject without that algorithm never matches.
 */
export function assertSubjectMatches(
  st: Statement,
  digest: { algorithm: 'sha256' | 'sha384' | 'sha512'; digest: Uint8Array },
): ResourceDescriptor {
  if (DIGEST_BYTES[digest.algorithm] !== digest.digest.byteLength) {
    throw new TypeError(
      `assertSubjectMatches: a ${digest.algorithm} digest has ${DIGEST_BYTES[digest.algorithm]} bytes`,
    );
  }
  const want = toHex(digest.digest);
  const found = st.subject.find((s) => {
    const have = Object.hasOwn(s.digest, digest.algorithm) ? s.digest[digest.algorithm] : undefined;
    return have !== undefined && have.toLowerCase() === want;
  });
  if (found === undefined) {
    throw new VouchError(
      'ERR_INTOTO_SUBJECT_MISMATCH',
      `no subject of the statement has ${digest.algorithm}:${want}`,
      { details: { algorithm: digest.algorithm, digest: want, subjects: st.subject.length } },
    );
  }
  return found;
}

export function assertPredicateType(st: Statement, type: string): void {
  if (st.predicateType !== type) {
    throw new VouchError(
      'ERR_INTOTO_PREDICATE_TYPE',
      `the statement's predicate type is "${st.predicateType}", expected "${type}"`,
      { details: { check: 'predicate-type', expected: type, actual: st.predicateType } },
    );
  }
}
