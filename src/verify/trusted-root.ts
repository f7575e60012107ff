import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { fromBase64, isRecord, parseJson, toBase64, VouchError } from '../core/index.js';
import { algorithmForKey } from '../crypto/index.js';

/**
 * The Sigstore trust root (protobuf-specs `dev.sigstore.trustroot.v1.TrustedRoot`): the certificate
 * authorities, transparency logs, CT logs and timestamp authorities a verifier trusts, each with the period
 * in which it may vouch. Decoded once into bytes, `Date`s and `KeyObject`s so that verifying many bundles
 * never re-decodes base64 or re-parses a key.
 */

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
// protobuf-specs: clients MUST accept the old form and the `.v0.1+json` form of the same version.
const MEDIA_TYPES = new Set([TRUSTED_ROOT_MEDIA_TYPE, 'application/vnd.dev.sigstore.trustedroot.v0.1+json']);

/** protobuf-specs `TimeRange`: a closed interval; no `end` means still valid. */
export interface TimeRange {
  readonly start: Date;
  readonly end?: Date;
}

export type HashAlgorithmName = 'SHA2_256' | 'SHA2_384' | 'SHA2_512';

/** A transparency log or CT log (`TransparencyLogInstance`). */
export interface TransparencyLogInstance {
  readonly baseUrl: string;
  readonly hashAlgorithm: HashAlgorithmName;
  /** The log's key, parsed once. */
  readonly publicKey: KeyObject;
  /** The key bytes as given: SPKI DER, or PKCS#1 DER for `PKCS1_RSA_*` key details. */
  readonly rawBytes: Uint8Array;
  /** protobuf `PublicKeyDetails` name, e.g. `PKIX_ECDSA_P256_SHA_256`; kept verbatim. */
  readonly keyDetails: string;
  readonly validFor: TimeRange;
  /** The log ID bundles name the log by (SHA-256 of the SPKI for Rekor and CT logs). */
  readonly logId: Uint8Array;
  readonly checkpointKeyId?: Uint8Array;
  readonly operator?: string;
}

/** A Fulcio-style CA or an RFC 3161 TSA (`CertificateAuthority`). */
export interface CertificateAuthority {
  readonly subject: { readonly organization?: string; readonly commonName?: string };
  readonly uri: string;
  /** DER certificates, issuing certificate first and the root last. */
  readonly certChain: readonly Uint8Array[];
  readonly validFor: TimeRange;
  readonly operator?: string;
}

export interface TrustedRoot {
  readonly mediaType: string;
  readonly tlogs: readonly TransparencyLogInstance[];
  readonly certificateAuthorities: readonly CertificateAuthority[];
  readonly ctlogs: readonly TransparencyLogInstance[];
  readonly timestampAuthorities: readonly CertificateAuthority[];
}

function malformed(path: string, message: string): VouchError {
  return new VouchError('ERR_TRUST_ROOT_MALFORMED', `trusted root ${path}: ${message}`, {
    details: { path },
  });
}

/** Checks for a JSON object and names the fields read from it (each still `unknown` until checked). */
function record<K extends string>(v: unknown, path: string): { readonly [P in K]?: unknown } {
  if (!isRecord(v)) throw malformed(path, 'is not an object');
  return v as { readonly [P in K]?: unknown };
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw malformed(path, 'is not a string');
  return v;
}

function optStr(v: unknown, path: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, path);
}

function bytes(v: unknown, path: string): Buffer {
  const b = fromBase64(str(v, path), `trusted root ${path}`);
  if (b.length === 0) throw malformed(path, 'is empty');
  return b;
}

function list(v: unknown, path: string): unknown[] {
  // protobuf JSON omits empty repeated fields.
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw malformed(path, 'is not an array');
  return v;
}

// RFC 3339 as protobuf JSON writes a Timestamp (Z or an offset; up to nanosecond fractions).
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

function timestamp(v: unknown, path: string): Date {
  const s = str(v, path);
  const d = RFC3339.test(s) ? new Date(s) : undefined;
  if (d === undefined || Number.isNaN(d.getTime())) throw malformed(path, `"${s}" is not an RFC 3339 time`);
  return d;
}

function timeRange(v: unknown, path: string): TimeRange {
  const o = record<'start' | 'end'>(v, path);
  // sigstore-go refuses a key without a start: an open-ended past would trust it for any old signature.
  const start = timestamp(o.start, `${path}.start`);
  if (o.end === undefined || o.end === null) return { start };
  const end = timestamp(o.end, `${path}.end`);
  if (end.getTime() < start.getTime()) throw malformed(path, 'ends before it starts');
  return { start, end };
}

const HASH_ALGORITHMS = new Set<string>(['SHA2_256', 'SHA2_384', 'SHA2_512']);

function parseLog(v: unknown, path: string): TransparencyLogInstance {
  const o = record<'baseUrl' | 'hashAlgorithm' | 'publicKey' | 'logId' | 'checkpointKeyId' | 'operator'>(
    v,
    path,
  );
  const pk = record<'rawBytes' | 'keyDetails' | 'validFor'>(o.publicKey, `${path}.publicKey`);
  const der = bytes(pk.rawBytes, `${path}.publicKey.rawBytes`);
  const keyDetails =
    optStr(pk.keyDetails, `${path}.publicKey.keyDetails`) ?? 'PUBLIC_KEY_DETAILS_UNSPECIFIED';
  // protobuf-specs PublicKeyDetails: PKCS1_* keys are a bare RSAPublicKey (RFC 8017 A.1.1), the rest SPKI.
  const type = keyDetails.startsWith('PKCS1_') ? 'pkcs1' : 'spki';
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: der, format: 'der', type });
  } catch (e) {
    throw new VouchError('ERR_TRUST_ROOT_MALFORMED', `trusted root ${path}.publicKey is not a ${type} key`, {
      cause: e,
      details: { path: `${path}.publicKey` },
    });
  }
  const hashAlgorithm =
    o.hashAlgorithm === undefined ? 'SHA2_256' : str(o.hashAlgorithm, `${path}.hashAlgorithm`);
  if (!HASH_ALGORITHMS.has(hashAlgorithm))
    throw malformed(`${path}.hashAlgorithm`, `${hashAlgorithm} is not supported`);
  const operator = optStr(o.operator, `${path}.operator`);
  const checkpoint = o.checkpointKeyId;
  return {
    baseUrl: str(o.baseUrl, `${path}.baseUrl`),
    hashAlgorithm: hashAlgorithm as HashAlgorithmName,
    publicKey,
    rawBytes: der,
    keyDetails,
    validFor: timeRange(pk.validFor, `${path}.publicKey.validFor`),
    logId: bytes(record<'keyId'>(o.logId, `${path}.logId`).keyId, `${path}.logId.keyId`),
    ...(checkpoint === undefined || checkpoint === null
      ? {}
      : {
          checkpointKeyId: bytes(
            record<'keyId'>(checkpoint, `${path}.checkpointKeyId`).keyId,
            `${path}.checkpointKeyId.keyId`,
          ),
        }),
    ...(operator === undefined ? {} : { operator }),
  };
}

function parseAuthority(v: unknown, path: string): CertificateAuthority {
  const o = record<'subject' | 'uri' | 'certChain' | 'validFor' | 'operator'>(v, path);
  const chain = list(
    record<'certificates'>(o.certChain, `${path}.certChain`).certificates,
    `${path}.certChain.certificates`,
  );
  if (chain.length === 0) throw malformed(`${path}.certChain`, 'has no certificates');
  const certChain = chain.map((c, i) =>
    bytes(
      record<'rawBytes'>(c, `${path}.certChain.certificates[${i}]`).rawBytes,
      `${path}.certChain.certificates[${i}].rawBytes`,
    ),
  );
  const subject =
    o.subject === undefined || o.subject === null
      ? {}
      : record<'organization' | 'commonName'>(o.subject, `${path}.subject`);
  const organization = optStr(subject.organization, `${path}.subject.organization`);
  const commonName = optStr(subject.commonName, `${path}.subject.commonName`);
  const operator = optStr(o.operator, `${path}.operator`);
  return {
    subject: {
      ...(organization === undefined ? {} : { organization }),
      ...(commonName === undefined ? {} : { commonName }),
    },
    uri: optStr(o.uri, `${path}.uri`) ?? '',
    certChain,
    validFor: timeRange(o.validFor, `${path}.validFor`),
    ...(operator === undefined ? {} : { operator }),
  };
}

/**
 * Reads a `trusted_root.json` (bytes, text or already-parsed JSON) strictly: a known media type, every key
 * an SPKI, every certificate and ID valid base64, every validity period an RFC 3339 interval with a start.
 * Unknown fields are ignored (protobuf JSON forward compatibility). Failures are ERR_TRUST_ROOT_MALFORMED
 * (ERR_JSON_PARSE / ERR_INPUT_ENCODING for text that is not JSON at all).
 */
export function parseTrustedRoot(input: Uint8Array | string | unknown): TrustedRoot {
  const json =
    typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, 'trusted root') : input;
  const o = record<'mediaType' | 'tlogs' | 'certificateAuthorities' | 'ctlogs' | 'timestampAuthorities'>(
    json,
    '(document)',
  );
  const mediaType = str(o.mediaType, 'mediaType');
  if (!MEDIA_TYPES.has(mediaType)) throw malformed('mediaType', `"${mediaType}" is not a trusted root v0.1`);
  try {
    return {
      mediaType,
      tlogs: list(o.tlogs, 'tlogs').map((t, i) => parseLog(t, `tlogs[${i}]`)),
      certificateAuthorities: list(o.certificateAuthorities, 'certificateAuthorities').map((c, i) =>
        parseAuthority(c, `certificateAuthorities[${i}]`),
      ),
      ctlogs: list(o.ctlogs, 'ctlogs').map((t, i) => parseLog(t, `ctlogs[${i}]`)),
      timestampAuthorities: list(o.timestampAuthorities, 'timestampAuthorities').map((c, i) =>
        parseAuthority(c, `timestampAuthorities[${i}]`),
      ),
    };
  } catch (e) {
    // A bad base64 value is a malformed trust root, whatever layer noticed it.
    if (e instanceof VouchError && e.code === 'ERR_BASE64') {
      throw new VouchError('ERR_TRUST_ROOT_MALFORMED', e.message, { cause: e });
    }
    throw e;
  }
}

/** A log as `buildTrustedRoot` takes it: the key is enough; the log ID defaults to SHA-256 of its SPKI. */
export interface LogSpec {
  readonly baseUrl: string;
  readonly publicKey: KeyObject;
  /** Defaults to `{ start: new Date(0) }`: valid since the epoch, with no end. */
  readonly validFor?: TimeRange;
  readonly logId?: Uint8Array;
  readonly operator?: string;
}

/** A CA or TSA as `buildTrustedRoot` takes it: DER certificates, issuing certificate first, root last. */
export interface AuthoritySpec {
  readonly certChain: readonly Uint8Array[];
  readonly uri?: string;
  readonly subject?: { readonly organization?: string; readonly commonName?: string };
  /** Defaults to `{ start: new Date(0) }`. */
  readonly validFor?: TimeRange;
  readonly operator?: string;
}

export interface TrustedRootSpec {
  readonly tlogs?: readonly LogSpec[];
  readonly certificateAuthorities?: readonly AuthoritySpec[];
  readonly ctlogs?: readonly LogSpec[];
  readonly timestampAuthorities?: readonly AuthoritySpec[];
}

const EPOCH: TimeRange = { start: new Date(0) };

function buildLog(s: LogSpec): TransparencyLogInstance {
  const pub = s.publicKey.type === 'private' ? createPublicKey(s.publicKey) : s.publicKey;
  const der = pub.export({ type: 'spki', format: 'der' });
  // PKCS#1 v1.5 for RSA: what CT logs and Rekor sign with.
  const keyDetails = algorithmForKey(pub, 'pkcs1').sigstore;
  return {
    baseUrl: s.baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: pub,
    rawBytes: der,
    keyDetails,
    validFor: s.validFor ?? EPOCH,
    logId: s.logId ?? createHash('sha256').update(der).digest(),
    ...(s.operator === undefined ? {} : { operator: s.operator }),
  };
}

function buildAuthority(s: AuthoritySpec): CertificateAuthority {
  if (s.certChain.length === 0) throw new TypeError('buildTrustedRoot: an authority needs a certificate');
  return {
    subject: s.subject ?? {},
    uri: s.uri ?? '',
    certChain: s.certChain.map((c) => Buffer.from(c)),
    validFor: s.validFor ?? EPOCH,
    ...(s.operator === undefined ? {} : { operator: s.operator }),
  };
}

/** Builds a trust root from keys and certificates (tests, private deployments, the CA and log issues). */
export function buildTrustedRoot(spec: TrustedRootSpec): TrustedRoot {
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: (spec.tlogs ?? []).map(buildLog),
    certificateAuthorities: (spec.certificateAuthorities ?? []).map(buildAuthority),
    ctlogs: (spec.ctlogs ?? []).map(buildLog),
    timestampAuthorities: (spec.timestampAuthorities ?? []).map(buildAuthority),
  };
}

function timeJson(d: Date): string {
  // Whole seconds print without a fraction, as Sigstore's own trust roots do.
  return d.toISOString().replace('.000Z', 'Z');
}

function rangeJson(r: TimeRange): Record<string, string> {
  return r.end === undefined
    ? { start: timeJson(r.start) }
    : { start: timeJson(r.start), end: timeJson(r.end) };
}

function logJson(t: TransparencyLogInstance): Record<string, unknown> {
  return {
    baseUrl: t.baseUrl,
    hashAlgorithm: t.hashAlgorithm,
    publicKey: { rawBytes: toBase64(t.rawBytes), keyDetails: t.keyDetails, validFor: rangeJson(t.validFor) },
    logId: { keyId: toBase64(t.logId) },
    ...(t.checkpointKeyId === undefined ? {} : { checkpointKeyId: { keyId: toBase64(t.checkpointKeyId) } }),
    ...(t.operator === undefined ? {} : { operator: t.operator }),
  };
}

function authorityJson(c: CertificateAuthority): Record<string, unknown> {
  return {
    subject: c.subject,
    uri: c.uri,
    certChain: { certificates: c.certChain.map((der) => ({ rawBytes: toBase64(der) })) },
    validFor: rangeJson(c.validFor),
    ...(c.operator === undefined ? {} : { operator: c.operator }),
  };
}

/** The protobuf JSON form of a trust root (what `parseTrustedRoot` and other Sigstore clients read). */
export function trustedRootToJson(root: TrustedRoot): Record<string, unknown> {
  return {
    mediaType: root.mediaType,
    tlogs: root.tlogs.map(logJson),
    certificateAuthorities: root.certificateAuthorities.map(authorityJson),
    ctlogs: root.ctlogs.map(logJson),
    timestampAuthorities: root.timestampAuthorities.map(authorityJson),
  };
}
