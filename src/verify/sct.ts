import { constants, createHash, type KeyObject, verify as nodeVerify } from 'node:crypto';
import type * as asn1js from 'asn1js';
import { bytesEqual, VouchError } from '../core/index.js';
import { asn1jsLib, children, decodeStrictDer, isTag, rawOf } from '../crypto/index.js';

/** A trusted Certificate Transparency log (trusted_root.json `ctlogs`). `validFor` is a closed interval. */
export interface CtLog {
  /** SHA-256 of the log's SubjectPublicKeyInfo DER (RFC 6962 §3.2 LogID). */
  logId: Uint8Array;
  publicKey: KeyObject;
  validFor: { start: Date; end?: Date };
}

// RFC 6962 §3.3: the X.509v3 extension carrying a SignedCertificateTimestampList.
const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';
const RSA_MIN_BITS = 2048;
// A certificate is a few KiB and a dozen levels deep; these bound what an attacker-supplied one costs.
const DER_LIMITS = { maxDepth: 32, maxNodes: 4096, maxContentLength: 1 << 20, parseEmbedded: false };

/** X.690 §8.1.3 definite-length encoding of one TLV. */
function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.byteLength;
  const len: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) len.unshift(rest % 256);
  const header = n < 0x80 ? [tag, n] : [tag, 0x80 | len.length, ...len];
  return Buffer.concat([Uint8Array.from(header), content]);
}

/** The TBSCertificate fields of a DER certificate, with the `[3] extensions` wrapper located. */
function tbsFields(der: Uint8Array, what: string): asn1js.AsnType[] {
  const cert = decodeStrictDer(Uint8Array.from(der), DER_LIMITS);
  if (cert === undefined) throw new VouchError('ERR_CERT_MALFORMED', `${what} is not a DER certificate`);
  const tbs = children(cert)[0];
  if (!isTag(cert, 1, 16) || !isTag(tbs, 1, 16)) {
    throw new VouchError('ERR_CERT_MALFORMED', `${what} is not an X.509 certificate`);
  }
  return children(tbs);
}

function issuerKeyHash(issuerDer: Uint8Array): Buffer {
  const fields = tbsFields(issuerDer, 'issuer certificate');
  // RFC 5280 §4.1: [0] version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
  const spki = fields[isTag(fields[0], 3, 0) ? 6 : 5];
  if (!isTag(spki, 1, 16)) throw new VouchError('ERR_CERT_MALFORMED', 'issuer certificate has no public key');
  return createHash('sha256').update(rawOf(spki)).digest();
}

/**
 * RFC 6962 §3.2 PreCert.tbs_certificate: the leaf's TBSCertificate with the SCT list extension removed and
 * re-encoded (the log signed the precertificate's TBS, which had the poison extension instead and no SCTs).
 * Returns the rebuilt TBS and the raw SignedCertificateTimestampList.
 */
function splitLeaf(leafDer: Uint8Array): { tbs: Uint8Array; list: Uint8Array } {
  const fields = tbsFields(leafDer, 'certificate');
  const wrapper = fields.find((f) => isTag(f, 3, 3));
  const extensions = children(children(wrapper)[0]);
  const sctExts = extensions.filter((e) => children(e)[0]?.valueBlock.toString() === SCT_LIST_OID);
  const [sctExt, ...duplicates] = sctExts;
  if (sctExt === undefined) throw new VouchError('ERR_SCT_MISSING', 'the certificate carries no SCT list');
  // RFC 5280 §4.2: an extension appears at most once.
  if (duplicates.length > 0)
    throw new VouchError('ERR_SCT_INVALID', 'the certificate repeats the SCT extension');
  const extnValue = children(sctExt).at(-1);
  if (!(extnValue instanceof asn1jsLib().OctetString))
    throw new VouchError('ERR_SCT_INVALID', 'bad SCT extension');
  // The extension value is itself a DER OCTET STRING wrapping the TLS-encoded list (RFC 6962 §3.3).
  const inner = decodeStrictDer(new Uint8Array(extnValue.valueBlock.valueHexView), DER_LIMITS);
  if (!(inner instanceof asn1jsLib().OctetString) || inner.idBlock.isConstructed) {
    throw new VouchError('ERR_SCT_INVALID', 'the SCT extension is not a DER OCTET STRING');
  }
  const kept = extensions.filter((e) => e !== sctExt).map(rawOf);
  // Extensions ::= SEQUENCE SIZE (1..MAX): with nothing left the [3] field is dropped altogether.
  const rebuilt = kept.length > 0 ? tlv(0xa3, tlv(0x30, Buffer.concat(kept))) : undefined;
  const parts = fields.flatMap((f) =>
    f === wrapper ? (rebuilt === undefined ? [] : [rebuilt]) : [rawOf(f)],
  );
  return { tbs: tlv(0x30, Buffer.concat(parts)), list: new Uint8Array(inner.valueBlock.valueHexView) };
}

/** A bounds-checked reader for TLS presentation-language structures (RFC 5246 §4); input is attacker-controlled. */
class TlsReader {
  #pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get remaining(): number {
    return this.buf.byteLength - this.#pos;
  }
  bytes(n: number): Uint8Array {
    if (n > this.remaining) throw new VouchError('ERR_SCT_INVALID', 'truncated SCT data');
    const out = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
  uint(n: number): number {
    return this.bytes(n).reduce((acc, b) => acc * 256 + b, 0);
  }
}

/** RFC 6962 §3.3: opaque SerializedSCT<1..2^16-1>, in a SignedCertificateTimestampList<1..2^16-1>. */
function splitList(list: Uint8Array): Uint8Array[] {
  const r = new TlsReader(list);
  const total = r.uint(2);
  if (total !== r.remaining) throw new VouchError('ERR_SCT_INVALID', 'SCT list length mismatch');
  const out: Uint8Array[] = [];
  while (r.remaining > 0) {
    const len = r.uint(2);
    if (len === 0) throw new VouchError('ERR_SCT_INVALID', 'empty SCT in the list');
    out.push(r.bytes(len));
  }
  return out;
}

interface Sct {
  logId: Uint8Array;
  /** Milliseconds since the epoch; an 8-byte field, kept exact up to 2^53. */
  timestamp: number;
  timestampBytes: Uint8Array;
  extensions: Uint8Array;
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Uint8Array;
}

/** RFC 6962 §3.2 SignedCertificateTimestamp v1; undefined for another version (§5.2: skip, don't fail). */
function parseSct(bytes: Uint8Array): Sct | undefined {
  const r = new TlsReader(bytes);
  if (r.uint(1) !== 0) return undefined;
  const logId = r.bytes(32);
  const timestampBytes = r.bytes(8);
  const extensions = r.bytes(r.uint(2));
  const hashAlgorithm = r.uint(1);
  const signatureAlgorithm = r.uint(1);
  const signature = r.bytes(r.uint(2));
  if (r.remaining !== 0) throw new VouchError('ERR_SCT_INVALID', 'trailing bytes after an SCT');
  const timestamp = Number(Buffer.from(timestampBytes).readBigUInt64BE());
  return { logId, timestamp, timestampBytes, extensions, hashAlgorithm, signatureAlgorithm, signature };
}

function u(n: number, width: number): Uint8Array {
  const out = new Uint8Array(width);
  for (let i = width - 1, rest = n; i >= 0; i--, rest = Math.floor(rest / 256)) out[i] = rest % 256;
  return out;
}

/** RFC 6962 §3.2 digitally-signed struct for a precert_entry. */
function signedData(sct: Sct, issuerKeyHash: Uint8Array, tbs: Uint8Array): Buffer {
  return Buffer.concat([
    Uint8Array.of(0, 0), // sct_version v1, signature_type certificate_timestamp
    sct.timestampBytes,
    u(1, 2), // entry_type precert_entry
    issuerKeyHash,
    u(tbs.byteLength, 3),
    tbs,
    u(sct.extensions.byteLength, 2),
    sct.extensions,
  ]);
}

/** RFC 6962 §2.1.4: SHA-256 with ECDSA or RSASSA-PKCS1-v1_5; TLS codes from RFC 5246 §7.4.1.4.1. */
function verifySct(sct: Sct, data: Buffer, key: KeyObject): boolean {
  if (sct.hashAlgorithm !== 4) return false;
  const type = key.asymmetricKeyType;
  try {
    if (sct.signatureAlgorithm === 3 && type === 'ec') return nodeVerify('sha256', data, key, sct.signature);
    if (
      sct.signatureAlgorithm === 1 &&
      type === 'rsa' &&
      (key.asymmetricKeyDetails?.modulusLength ?? 0) >= RSA_MIN_BITS
    ) {
      return nodeVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, sct.signature);
    }
  } catch {
    return false;
  }
  return false;
}

function inValidFor(ms: number, validFor: CtLog['validFor']): boolean {
  return validFor.start.getTime() <= ms && (validFor.end === undefined || ms <= validFor.end.getTime());
}

/**
 * Verifies the SCTs embedded in a leaf issued from a precertificate (RFC 6962 §3.3), as Fulcio issues them.
 * Each v1 SCT must come from a known log whose `validFor` contains the SCT timestamp and verify over the
 * precertificate TBS (leaf TBS minus the SCT list) with issuer_key_hash = SHA-256(issuer SPKI DER). SCT
 * extensions, when present, are part of the signed data. Returns the number of distinct logs with a verified
 * SCT (so a duplicated SCT does not count twice). ERR_SCT_MISSING when the leaf has no SCT; ERR_SCT_INVALID
 * when none verifies; ERR_CERT_MALFORMED for a certificate that is not DER.
 */
export function verifyEmbeddedScts(
  leafDer: Uint8Array,
  issuerDer: Uint8Array,
  ctlogs: readonly CtLog[],
): number {
  const { tbs, list } = splitLeaf(leafDer);
  const scts = splitList(list);
  if (scts.length === 0) throw new VouchError('ERR_SCT_MISSING', 'the certificate carries an empty SCT list');
  const keyHash = issuerKeyHash(issuerDer);
  const verifiedLogs: Uint8Array[] = [];
  const reasons = new Set<string>();
  for (const bytes of scts) {
    let sct: Sct | undefined;
    try {
      sct = parseSct(bytes);
    } catch (e) {
      if (!(e instanceof VouchError)) throw e;
      reasons.add(e.message);
      continue;
    }
    if (sct === undefined) {
      reasons.add('unknown SCT version');
      continue;
    }
    const { logId, timestamp } = sct;
    const logs = ctlogs.filter((l) => bytesEqual(l.logId, logId) && inValidFor(timestamp, l.validFor));
    if (logs.length === 0) {
      reasons.add('no trusted log with that ID valid at the SCT timestamp');
      continue;
    }
    const data = signedData(sct, keyHash, tbs);
    if (!logs.some((l) => verifySct(sct, data, l.publicKey))) {
      reasons.add('the SCT signature does not verify');
      continue;
    }
    if (!verifiedLogs.some((id) => bytesEqual(id, logId))) verifiedLogs.push(logId);
  }
  if (verifiedLogs.length === 0) {
    throw new VouchError('ERR_SCT_INVALID', `no SCT verifies: ${[...reasons].join('; ')}`);
  }
  return verifiedLogs.length;
}
