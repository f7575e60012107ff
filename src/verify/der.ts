import { VouchError } from '../core/index.js';

/**
 * A minimal DER (X.690 §10) reader for the certificate fields the verifier reads on every bundle.
 * asn1js builds a full object tree for a whole certificate (about 1 ms for a Fulcio certificate); walking
 * the bytes to the extensions costs microseconds. Input is attacker-controlled: every length is
 * bounds-checked and only definite, minimal-form lengths are accepted.
 */

export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  readonly tag: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset just past the content. */
  readonly end: number;
}

const TAG_BOOLEAN = 0x01;
const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_UTF8_STRING = 0x0c;
export const TAG_SEQUENCE = 0x30;
/** [3] EXPLICIT, constructed: TBSCertificate.extensions. */
const TAG_EXTENSIONS = 0xa3;

function bad(what: string): VouchError {
  return new VouchError('ERR_CERT_MALFORMED', `certificate is not valid DER: ${what}`);
}

/** Reads one TLV at `offset`, which must lie within `[offset, limit)`. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw bad('truncated header');
  const tag = buf[offset] as number;
  // High tag numbers (0x1f) never occur in the structures read here.
  if ((tag & 0x1f) === 0x1f) throw bad('high tag number');
  let len = buf[offset + 1] as number;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // X.690 §10.1: no indefinite length; four length octets cover any certificate.
    if (n === 0 || n > 4) throw bad('unsupported length form');
    if (start + n > limit) throw bad('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] as number);
    if (len < 0x80 || (n > 1 && buf[start] === 0)) throw bad('non-minimal length');
    start += n;
  }
  const end = start + len;
  if (end > limit) throw bad('content runs past its container');
  return { tag, start, end };
}

/** Reads every TLV inside a constructed value. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = readTlv(buf, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t === undefined || t.tag !== tag) throw bad(`${what} is missing or has the wrong type`);
  return t;
}

/** Dotted-decimal form of an OBJECT IDENTIFIER's content (X.690 §8.19). */
export function oidString(buf: Uint8Array, t: Tlv): string {
  if (t.end === t.start) throw bad('empty OID');
  const arcs: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    const b = buf[i] as number;
    if (v === 0 && b === 0x80) throw bad('non-minimal OID arc');
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw bad('OID arc too large');
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  if ((buf[t.end - 1] as number) & 0x80) throw bad('truncated OID');
  const first = arcs[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING's content. */
  readonly value: Uint8Array;
}

/** What the verifier reads from a certificate without a full parse (RFC 5280 §4.1). */
export interface CertificateFields {
  readonly extensions: readonly Extension[];
  /** OID of the outer signatureAlgorithm. */
  readonly signatureAlgorithm: string;
  /** RFC 5280 §4.1.1.2: the outer algorithm must equal the one inside the signed TBSCertificate. */
  readonly algorithmsAgree: boolean;
  /** RFC 5280 §4.1.2.5 validity, both bounds inclusive. */
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
// RFC 5280 §4.1.2.5.1/.2: seconds present, no fraction, always Z.
const UTC_FORMAT = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_FORMAT = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/** A certificate Time (UTCTime or GeneralizedTime, RFC 5280 §4.1.2.5). */
function time(buf: Uint8Array, t: Tlv | undefined, what: string): Date {
  if (t === undefined || (t.tag !== UTC_TIME && t.tag !== GENERALIZED_TIME))
    throw bad(`${what} is not a Time`);
  const text = Buffer.from(buf.subarray(t.start, t.end)).toString('latin1');
  const m = (t.tag === UTC_TIME ? UTC_FORMAT : GENERALIZED_FORMAT).exec(text);
  if (m === null) throw bad(`${what} is not a valid time`);
  const [, y, mo, d, h, mi, sec] = m.map(Number) as [number, number, number, number, number, number, number];
  // §4.1.2.5.1: a two-digit year YY >= 50 is 19YY, otherwise 20YY.
  const year = t.tag === UTC_TIME ? (y >= 50 ? 1900 + y : 2000 + y) : y;
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, sec));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) {
    throw bad(`${what} is not a valid time`);
  }
  return date;
}

function sameBytes(buf: Uint8Array, a: Tlv, b: Tlv): boolean {
  if (a.end - a.start !== b.end - b.start) return false;
  for (let i = 0; i < a.end - a.start; i++) if (buf[a.start + i] !== buf[b.start + i]) return false;
  return true;
}

/** Reads a DER certificate's validity, extensions and signature algorithm; ERR_CERT_MALFORMED when malformed. */
export function certificateFields(der: Uint8Array): CertificateFields {
  const cert = expectTag(readTlv(der, 0), TAG_SEQUENCE, 'Certificate');
  if (cert.end !== der.length) throw bad('trailing bytes after the certificate');
  const [tbsTlv, algTlv] = children(der, cert);
  const tbs = expectTag(tbsTlv, TAG_SEQUENCE, 'TBSCertificate');
  const outer = expectTag(algTlv, TAG_SEQUENCE, 'signatureAlgorithm');
  const fields = children(der, tbs);
  // [0] version is optional; then serialNumber and the inner signature AlgorithmIdentifier.
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const inner = expectTag(fields[first + 1], TAG_SEQUENCE, 'signature');
  // serialNumber, signature, issuer, then Validity ::= SEQUENCE { notBefore Time, notAfter Time }.
  const [from, to] = children(der, expectTag(fields[first + 3], TAG_SEQUENCE, 'validity'));
  const signatureAlgorithm = oidString(der, expectTag(children(der, outer)[0], TAG_OID, 'algorithm'));
  // Extensions are the last, optional, field of the TBSCertificate.
  const extField = fields.find((f) => f.tag === TAG_EXTENSIONS);
  const extensions: Extension[] = [];
  if (extField !== undefined) {
    const seq = expectTag(children(der, extField)[0], TAG_SEQUENCE, 'Extensions');
    for (const ext of children(der, seq)) {
      const parts = children(der, expectTag(ext, TAG_SEQUENCE, 'Extension'));
      const oid = oidString(der, expectTag(parts[0], TAG_OID, 'extnID'));
      const hasCritical = parts[1]?.tag === TAG_BOOLEAN;
      const critical = hasCritical && der[(parts[1] as Tlv).start] === 0xff;
      const value = expectTag(parts[hasCritical ? 2 : 1], TAG_OCTET_STRING, 'extnValue');
      extensions.push({ oid, critical, value: der.subarray(value.start, value.end) });
    }
  }
  return {
    extensions,
    signatureAlgorithm,
    algorithmsAgree: sameBytes(der, inner, outer),
    notBefore: time(der, from, 'notBefore'),
    notAfter: time(der, to, 'notAfter'),
  };
}
