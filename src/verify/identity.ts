import { fileURLToPath } from 'node:url';
import type * as Re2 from '@bufbuild/re2';
import { decodeUtf8, lazyRequire, VouchError } from '../core/index.js';
import {
  certificateFields,
  children,
  type Extension,
  oidString,
  readTlv,
  TAG_OID,
  TAG_SEQUENCE,
  TAG_UTF8_STRING,
  type Tlv,
} from './der.js';

/**
 * Who a Fulcio certificate names: its subject alternative names and the OIDC issuer that vouched for them,
 * plus the other Fulcio extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md).
 */

/** What the caller trusts. Regexps are RE2 and must match the whole value, as cosign's flags do. */
export interface IdentityPolicy {
  readonly subject?: string;
  readonly subjectRegExp?: string;
  readonly issuer?: string;
  readonly issuerRegExp?: string;
}

export interface SubjectAlternativeName {
  readonly type: 'email' | 'uri' | 'dns' | 'otherName';
  readonly value: string;
}

export interface CertificateIdentity {
  readonly sans: readonly SubjectAlternativeName[];
  /** The OIDC issuer (1.3.6.1.4.1.57264.1.8, or the deprecated 1.3.6.1.4.1.57264.1.1). */
  readonly issuer?: string;
  /** The Fulcio extensions present, by name (`sourceRepositoryURI`, `buildSignerURI`, ...). */
  readonly extensions: FulcioExtensions;
}

const OID_SAN = '2.5.29.17';
const FULCIO = '1.3.6.1.4.1.57264.1.';
/** Fulcio's otherName SAN for a username identity (UTF8String). */
const OID_USERNAME = '1.3.6.1.4.1.57264.1.7';

/**
 * Fulcio extension arcs and names. Arcs 1–6 are deprecated and hold the raw string bytes; arcs 8 and later
 * hold a DER UTF8String.
 */
const FULCIO_EXTENSIONS = {
  1: 'issuerV1',
  2: 'githubWorkflowTrigger',
  3: 'githubWorkflowSha',
  4: 'githubWorkflowName',
  5: 'githubWorkflowRepository',
  6: 'githubWorkflowRef',
  8: 'issuer',
  9: 'buildSignerURI',
  10: 'buildSignerDigest',
  11: 'runnerEnvironment',
  12: 'sourceRepositoryURI',
  13: 'sourceRepositoryDigest',
  14: 'sourceRepositoryRef',
  15: 'sourceRepositoryIdentifier',
  16: 'sourceRepositoryOwnerURI',
  17: 'sourceRepositoryOwnerIdentifier',
  18: 'buildConfigURI',
  19: 'buildConfigDigest',
  20: 'buildTrigger',
  21: 'runInvocationURI',
  22: 'sourceRepositoryVisibilityAtSigning',
} as const;

type FulcioExtensionName = Exclude<(typeof FULCIO_EXTENSIONS)[keyof typeof FULCIO_EXTENSIONS], 'issuerV1'>;
/** Fulcio certificate extensions by name; the issuer is the 1.8 value, or the deprecated 1.1 one. */
export type FulcioExtensions = { readonly [K in FulcioExtensionName]?: string };
const FIRST_DER_ARC = 8;

function malformed(what: string): VouchError {
  return new VouchError('ERR_CERT_MALFORMED', `certificate ${what} is malformed`);
}

function derUtf8(value: Uint8Array, what: string): string {
  const t = readTlv(value, 0);
  if (t.tag !== TAG_UTF8_STRING || t.end !== value.length) throw malformed(what);
  return decodeUtf8(value.subarray(t.start, t.end), `certificate ${what}`);
}

function text(buf: Uint8Array, t: Tlv, what: string): string {
  return decodeUtf8(buf.subarray(t.start, t.end), `certificate ${what}`);
}

/** RFC 5280 §4.2.1.6 GeneralNames; only the forms Fulcio issues are read, others are skipped. */
function parseSans(value: Uint8Array): SubjectAlternativeName[] {
  const seq = readTlv(value, 0);
  if (seq.tag !== TAG_SEQUENCE || seq.end !== value.length) throw malformed('subject alternative name');
  const out: SubjectAlternativeName[] = [];
  for (const name of children(value, seq)) {
    switch (name.tag) {
      case 0x81:
        out.push({ type: 'email', value: text(value, name, 'email SAN') });
        break;
      case 0x82:
        out.push({ type: 'dns', value: text(value, name, 'DNS SAN') });
        break;
      case 0x86:
        out.push({ type: 'uri', value: text(value, name, 'URI SAN') });
        break;
      case 0xa0: {
        // OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY } (implicitly tagged [0]).
        const [typeId, explicit] = children(value, name);
        if (typeId === undefined || explicit === undefined || explicit.tag !== 0xa0)
          throw malformed('otherName SAN');
        if (typeId.tag !== TAG_OID || oidString(value, typeId) !== OID_USERNAME) break;
        out.push({
          type: 'otherName',
          value: derUtf8(value.subarray(explicit.start, explicit.end), 'username SAN'),
        });
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/**
 * Reads the identity from a DER certificate's extensions. The certificate is attacker-controlled until its
 * chain verified; this only decodes, it trusts nothing. ERR_CERT_MALFORMED for undecodable values or two
 * issuer extensions that disagree.
 */
export function certificateIdentity(der: Uint8Array): CertificateIdentity {
  return identityFromExtensions(certificateFields(der).extensions);
}

/** `certificateIdentity` over extensions already read (the verifier reads them once per bundle). */
export function identityFromExtensions(extensions: readonly Extension[]): CertificateIdentity {
  let sans: SubjectAlternativeName[] = [];
  const named: { [K in FulcioExtensionName | 'issuerV1']?: string } = {};
  for (const ext of extensions) {
    if (ext.oid === OID_SAN) {
      sans = parseSans(ext.value);
      continue;
    }
    if (!ext.oid.startsWith(FULCIO)) continue;
    const arc = Number(ext.oid.slice(FULCIO.length));
    const name = (FULCIO_EXTENSIONS as Readonly<Record<number, FulcioExtensionName | 'issuerV1'>>)[arc];
    if (name === undefined) continue;
    named[name] =
      arc >= FIRST_DER_ARC
        ? derUtf8(ext.value, `extension ${ext.oid}`)
        : decodeUtf8(ext.value, `extension ${ext.oid}`);
  }
  const { issuerV1: v1, issuer: v2, ...rest } = named;
  // Fulcio writes both issuer extensions with one value; two different values is a forged certificate.
  if (v1 !== undefined && v2 !== undefined && v1 !== v2)
    throw malformed('issuer extensions (1.1 and 1.8 differ)');
  const issuer = v2 ?? v1;
  return {
    sans,
    ...(issuer === undefined ? {} : { issuer }),
    extensions: issuer === undefined ? rest : { ...rest, issuer },
  };
}

let re2: typeof Re2 | undefined;

/**
 * @bufbuild/re2, the engine `vouch policy check` validates identity regexps with and the policy layer matches
 * them with: the same syntax (`(?i)`, no lookaround or backreferences) and linear time over subjects and
 * issuers, which are attacker-chosen until the chain verifies. Its `require` condition names a separate
 * CommonJS build; requiring the file its `import` resolves to loads the ESM build the policy layer imports,
 * one module (require(esm), Node >= 20.19), and only when a regexp is given.
 */
function re2Lib(): typeof Re2 {
  re2 ??= lazyRequire<typeof Re2>(fileURLToPath(import.meta.resolve('@bufbuild/re2')))();
  return re2;
}

/** A compiled identity regexp; `matches` is true when it matches the whole value. */
export interface IdentityMatcher {
  matches(value: string): boolean;
}

function anchored(re: string, flag: string): IdentityMatcher {
  try {
    // RE2JS `matches` is a full match (Java's Matcher.matches), as cosign anchors its regexp flags.
    return re2Lib().RE2JS.compile(re);
  } catch (e) {
    throw new VouchError('ERR_USAGE', `${flag} is not a valid RE2 regular expression`, { cause: e });
  }
}

/** A policy compiled once: exact values and anchored regexps. */
export interface CompiledIdentityPolicy {
  readonly subject?: string;
  readonly subjectRegExp?: IdentityMatcher;
  readonly issuer?: string;
  readonly issuerRegExp?: IdentityMatcher;
}

/**
 * Validates and compiles a policy. A policy must name the subject (exactly or by regexp): an empty policy
 * would trust anyone, which the caller has to ask for explicitly (`allowAnyIdentity`). ERR_USAGE otherwise.
 */
export function compileIdentityPolicy(p: IdentityPolicy): CompiledIdentityPolicy {
  if (p.subject === undefined && p.subjectRegExp === undefined) {
    throw new VouchError('ERR_USAGE', 'an identity policy needs a subject or a subject regexp');
  }
  return {
    ...(p.subject === undefined ? {} : { subject: p.subject }),
    ...(p.subjectRegExp === undefined
      ? {}
      : { subjectRegExp: anchored(p.subjectRegExp, 'the subject regexp') }),
    ...(p.issuer === undefined ? {} : { issuer: p.issuer }),
    ...(p.issuerRegExp === undefined ? {} : { issuerRegExp: anchored(p.issuerRegExp, 'the issuer regexp') }),
  };
}

function subjectMatches(p: CompiledIdentityPolicy, value: string): boolean {
  if (p.subject !== undefined && value !== p.subject) return false;
  if (p.subjectRegExp !== undefined && !p.subjectRegExp.matches(value)) return false;
  return true;
}

/**
 * Checks an identity against a policy and returns the matching subject. A SAN matches when it satisfies
 * every subject constraint given; the issuer likewise. ERR_CERT_IDENTITY when no SAN matches,
 * ERR_CERT_ISSUER when the issuer is absent or does not match.
 */
export function matchIdentity(
  id: CertificateIdentity,
  p: CompiledIdentityPolicy,
): { subject: string; issuer?: string } {
  const san = id.sans.find((s) => subjectMatches(p, s.value));
  if (san === undefined) {
    throw new VouchError(
      'ERR_CERT_IDENTITY',
      `certificate subject ${id.sans.map((s) => s.value).join(', ') || '(none)'} does not match the policy`,
      { details: { check: 'identity', sans: id.sans.map((s) => s.value) } },
    );
  }
  if (p.issuer !== undefined || p.issuerRegExp !== undefined) {
    const issuer = id.issuer;
    const ok =
      issuer !== undefined &&
      (p.issuer === undefined || issuer === p.issuer) &&
      (p.issuerRegExp === undefined || p.issuerRegExp.matches(issuer));
    if (!ok) {
      throw new VouchError(
        'ERR_CERT_ISSUER',
        `certificate OIDC issuer ${issuer ?? '(none)'} does not match the policy`,
        { details: { check: 'identity', issuer } },
      );
    }
  }
  return { subject: san.value, ...(id.issuer === undefined ? {} : { issuer: id.issuer }) };
}
