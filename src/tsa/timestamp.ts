import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type * as asn1js from 'asn1js';
import type * as pkijs from 'pkijs';
import { bytesEqual, type DigestAlgorithm, digestBytes, VouchError } from '../core/index.js';
import {
  asn1jsLib,
  children,
  EKU_TIME_STAMPING,
  isTag,
  parseCertificate,
  parseStrictDer,
  pkijsLib,
  verifyAlgorithmSignature,
  verifyCertificateChain,
  type X509Certificate,
} from '../crypto/index.js';

/**
 * A trusted time-stamping authority, as Sigstore's trusted_root.json lists it. `certChain` is leaf first; when
 * its first certificate is a CA the authority is a CA only, and the signing certificate must come embedded in
 * the token. `validFor` is a closed interval that the timestamp's genTime must fall in.
 */
export interface TimestampAuthority {
  certChain: readonly Uint8Array[];
  validFor: { start: Date; end?: Date };
}

export interface ParsedTimestamp {
  genTime: Date;
  hashAlgorithm: 'sha256' | 'sha384' | 'sha512';
  messageImprint: Uint8Array;
  serialNumber: bigint;
  /** DER of every X.509 certificate in the SignedData `certificates` set, untrusted. */
  embeddedCertificates: Uint8Array[];
}

const OID = {
  signedData: '1.2.840.113549.1.7.2', // RFC 5652 §5.1
  tstInfo: '1.2.840.113549.1.9.16.1.4', // RFC 3161 §2.4.2 id-ct-TSTInfo
  contentType: '1.2.840.113549.1.9.3', // RFC 5652 §11.1
  messageDigest: '1.2.840.113549.1.9.4', // RFC 5652 §11.2
  signingCertificate: '1.2.840.113549.1.9.16.2.12', // RFC 2634 §5.4 (ESSCertID, SHA-1)
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47', // RFC 5035 §3 / RFC 5816 (ESSCertIDv2)
  subjectKeyIdentifier: '2.5.29.14',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
} as const;

const DIGESTS: Readonly<Record<string, DigestAlgorithm>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

// A token is a few KiB; these bound what an attacker-supplied one can make the parser do.
const DER_LIMITS = { maxDepth: 32, maxNodes: 8192, maxContentLength: 1 << 20, parseEmbedded: false };

function malformed(message: string, cause?: unknown): VouchError {
  return new VouchError('ERR_TIMESTAMP_MALFORMED', `RFC 3161 timestamp: ${message}`, { cause });
}

function invalid(message: string): VouchError {
  return new VouchError('ERR_TIMESTAMP_INVALID', `RFC 3161 timestamp: ${message}`);
}

function decodeDer(bytes: Uint8Array, what: string): asn1js.AsnType {
  // X.690 §10: DER has one encoding; parseStrictDer refuses BER, trailing bytes and what asn1js throws on.
  let parsed: asn1js.AsnType | undefined;
  try {
    parsed = parseStrictDer(bytes, DER_LIMITS);
  } catch (e) {
    throw malformed(`${what} is not DER`, e);
  }
  if (parsed === undefined) throw malformed(`${what} is not a single DER value`);
  return parsed;
}

/** pkijs throws plain errors on schema mismatch; convert them once, here. */
function build<T>(make: () => T, what: string): T {
  try {
    return make();
  } catch (e) {
    throw malformed(`${what} does not match its ASN.1 schema`, e);
  }
}

function octets(block: unknown, what: string): Uint8Array {
  // DER (X.690 §10.2) forbids constructed OCTET STRINGs.
  if (!(block instanceof asn1jsLib().OctetString) || block.idBlock.isConstructed) {
    throw malformed(`${what} is not a primitive OCTET STRING`);
  }
  return new Uint8Array(block.valueBlock.valueHexView);
}

interface Token {
  readonly parsed: ParsedTimestamp;
  readonly embedded: readonly CertInfo[];
  /** The eContent octets (DER TSTInfo): what the messageDigest attribute covers (RFC 5652 §5.4). */
  readonly tstInfo: Uint8Array;
  readonly signer: pkijs.SignerInfo;
  /** DER of the signed attributes with the SET OF tag: what the signature covers (RFC 5652 §5.4). */
  readonly signedAttrs: Uint8Array;
}

/** Attacker-controlled input: every field is checked for shape before it is used. */
function decodeToken(input: Uint8Array): Token {
  const top = decodeDer(Uint8Array.from(input), 'the timestamp');
  if (!isTag(top, 1, 16)) throw malformed('not a SEQUENCE');
  let contentInfo: pkijs.ContentInfo;
  if (isTag(children(top)[0], 1, 16)) {
    // RFC 3161 §2.4.2 TimeStampResp: granted(0) and grantedWithMods(1) carry a token; other statuses do not.
    const resp = build(() => new (pkijsLib().TimeStampResp)({ schema: top }), 'TimeStampResp');
    const status = resp.status.status;
    if (status !== 0 && status !== 1) throw malformed(`the TSA did not grant a timestamp (status ${status})`);
    if (resp.timeStampToken === undefined) throw malformed('the response carries no timeStampToken');
    contentInfo = resp.timeStampToken;
  } else {
    contentInfo = build(() => new (pkijsLib().ContentInfo)({ schema: top }), 'TimeStampToken');
  }
  if (contentInfo.contentType !== OID.signedData) throw malformed('the token is not CMS SignedData');
  const signedDataAsn = contentInfo.content as asn1js.AsnType;
  const signedData = build(() => new (pkijsLib().SignedData)({ schema: signedDataAsn }), 'SignedData');
  if (signedData.encapContentInfo.eContentType !== OID.tstInfo)
    throw malformed('the content is not a TSTInfo');
  const tstInfoBytes = octets(signedData.encapContentInfo.eContent, 'eContent');
  const tst = build(
    () => new (pkijsLib().TSTInfo)({ schema: decodeDer(tstInfoBytes, 'TSTInfo') }),
    'TSTInfo',
  );
  if (tst.version !== 1) throw malformed(`TSTInfo version ${tst.version} is not 1`);
  const hashAlgorithm = DIGESTS[tst.messageImprint.hashAlgorithm.algorithmId];
  if (hashAlgorithm === undefined) {
    throw malformed(`message imprint algorithm ${tst.messageImprint.hashAlgorithm.algorithmId} is not SHA-2`);
  }
  const messageImprint = octets(tst.messageImprint.hashedMessage, 'hashedMessage');
  if (messageImprint.byteLength !== digestBytes(hashAlgorithm, '').byteLength) {
    throw malformed(`message imprint is not a ${hashAlgorithm} digest`);
  }
  if (Number.isNaN(tst.genTime.getTime())) throw malformed('genTime is not a time');
  // RFC 3161 §2.4.2: the token MUST NOT carry any signature other than the TSA's.
  const [signer, ...others] = signedData.signerInfos;
  if (signer === undefined || others.length > 0)
    throw malformed('the token must have exactly one SignerInfo');
  // RFC 5652 §5.3: version 1 goes with issuerAndSerialNumber, the only identifier matched here.
  if (signer.version !== 1) throw malformed(`SignerInfo version ${signer.version} is not 1`);
  if (signer.signedAttrs === undefined) throw malformed('the SignerInfo has no signed attributes');
  // RFC 5652 §5.1: certificates [0] IMPLICIT CertificateSet; plain certificates are untagged SEQUENCEs.
  const certSet = children(signedDataAsn).find((b) => isTag(b, 3, 0));
  const embeddedCertificates = children(certSet)
    .filter((b) => isTag(b, 1, 16))
    .map((b) => new Uint8Array(b.valueBeforeDecodeView));
  const embedded = embeddedCertificates.map((der, i) => {
    try {
      return certInfo(der, `embedded certificate #${i + 1}`);
    } catch (e) {
      throw malformed(`embedded certificate #${i + 1} is not a valid X.509 certificate`, e);
    }
  });
  return {
    embedded,
    parsed: {
      genTime: tst.genTime,
      hashAlgorithm,
      messageImprint,
      serialNumber: tst.serialNumber.toBigInt(),
      embeddedCertificates,
    },
    tstInfo: tstInfoBytes,
    signer,
    signedAttrs: new Uint8Array(signer.signedAttrs.encodedValue.slice(0)),
  };
}

/** Parses a DER TimeStampResp (status granted) or a bare TimeStampToken, without verifying anything. */
export function parseRfc3161Timestamp(der: Uint8Array): ParsedTimestamp {
  return decodeToken(der).parsed;
}

// ---------------------------------------------------------------------------------------------------------
// Signed attributes (RFC 5652 §5.3, §11; RFC 5035)

function attributeValue(signer: pkijs.SignerInfo, oid: string, required: boolean): unknown {
  const found = (signer.signedAttrs?.attributes ?? []).filter((a) => a.type === oid);
  // RFC 5652 §11.1/§11.2 and RFC 5035 §5.4: one instance with one value.
  if (found.length > 1 || (found[0] !== undefined && found[0].values.length !== 1)) {
    throw malformed(`signed attribute ${oid} must have exactly one value`);
  }
  if (found.length === 0 && required) throw malformed(`signed attribute ${oid} is missing`);
  return found[0]?.values[0];
}

/** The hash of the signing certificate that the TSA signed over: ESSCertIDv2 first, then ESSCertID. */
function signingCertificateHash(signer: pkijs.SignerInfo): {
  hash: DigestAlgorithm | 'sha1';
  value: Uint8Array;
} {
  const v2 = attributeValue(signer, OID.signingCertificateV2, false) as asn1js.AsnType | undefined;
  const v1 = attributeValue(signer, OID.signingCertificate, false) as asn1js.AsnType | undefined;
  // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL }; the first
  // ESSCertID names the signing certificate (RFC 5035 §5.4).
  const first = children(children(v2 ?? v1)[0])[0];
  const fields = children(first);
  if (v2 !== undefined) {
    // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash OCTET STRING, issuerSerial OPTIONAL }
    const [head, next] = fields;
    const explicitAlg = isTag(head, 1, 16);
    const oid = explicitAlg ? children(head)[0]?.valueBlock.toString() : '2.16.840.1.101.3.4.2.1';
    const hash = DIGESTS[oid ?? ''];
    if (hash === undefined) throw invalid(`ESSCertIDv2 hash ${oid ?? '?'} is not SHA-2`);
    return { hash, value: octets(explicitAlg ? next : head, 'ESSCertIDv2 certHash') };
  }
  if (v1 !== undefined) {
    // ESSCertID's SHA-1 only names a certificate that the SignerInfo identifier and the trusted chain already
    // pin; no signature in the token relies on SHA-1.
    return { hash: 'sha1', value: octets(fields[0], 'ESSCertID certHash') };
  }
  throw malformed('the signing certificate attribute (RFC 3161 §2.4.1) is missing');
}

function checkSignedAttributes(t: Token): DigestAlgorithm {
  const oid = t.signer.digestAlgorithm.algorithmId;
  const digest = DIGESTS[oid];
  if (digest === undefined) throw invalid(`SignerInfo digest algorithm ${oid} is refused`);
  const contentType = attributeValue(t.signer, OID.contentType, true);
  if (
    !(contentType instanceof asn1jsLib().ObjectIdentifier) ||
    contentType.valueBlock.toString() !== OID.tstInfo
  ) {
    throw invalid('the content-type attribute does not name TSTInfo');
  }
  const messageDigest = octets(attributeValue(t.signer, OID.messageDigest, true), 'messageDigest');
  if (!bytesEqual(digestBytes(digest, t.tstInfo), messageDigest)) {
    throw invalid('the message-digest attribute does not match the TSTInfo');
  }
  return digest;
}

// ---------------------------------------------------------------------------------------------------------
// Matching the signer to an authority

interface CertInfo {
  readonly der: Uint8Array;
  readonly cert: X509Certificate;
  readonly asn: pkijs.Certificate;
}

function certInfo(der: Uint8Array, what: string): CertInfo {
  const cert = parseCertificate(der, what);
  try {
    return {
      der,
      cert,
      asn: new (pkijsLib().Certificate)({
        schema: asn1jsLib().fromBER(Uint8Array.from(der), DER_LIMITS).result,
      }),
    };
  } catch (e) {
    throw new VouchError('ERR_CERT_MALFORMED', `${what} is not a valid X.509 certificate`, { cause: e });
  }
}

function extension(cert: CertInfo, oid: string): pkijs.Extension | undefined {
  return cert.asn.extensions?.find((e) => e.extnID === oid);
}

function isCa(cert: CertInfo): boolean {
  const bc = extension(cert, OID.basicConstraints)?.parsedValue;
  return bc instanceof pkijsLib().BasicConstraints && bc.cA;
}

/**
 * RFC 5652 §5.3 SignerIdentifier. Only issuerAndSerialNumber (SignerInfo version 1, checked when decoding)
 * is supported: it is what RFC 3161 TSAs emit.
 */
function signerIdMatches(sid: unknown, cert: CertInfo): boolean {
  return (
    sid instanceof pkijsLib().IssuerAndSerialNumber &&
    bytesEqual(
      new Uint8Array(sid.issuer.valueBeforeDecode),
      new Uint8Array(cert.asn.issuer.valueBeforeDecode),
    ) &&
    bytesEqual(sid.serialNumber.valueBlock.valueHexView, cert.asn.serialNumber.valueBlock.valueHexView)
  );
}

function publicKeyOf(cert: CertInfo): KeyObject | undefined {
  try {
    return createPublicKey({ key: Buffer.from(cert.cert.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

function algorithmParameters(alg: pkijs.AlgorithmIdentifier): Uint8Array | undefined {
  const p: unknown = alg.algorithmParams;
  if (!(p instanceof asn1jsLib().BaseBlock) || p instanceof asn1jsLib().Null) return undefined;
  return new Uint8Array(p.valueBeforeDecodeView);
}

type Outcome = { ok: true } | { ok: false; invalid: boolean; reason: string };

function inValidFor(at: Date, validFor: TimestampAuthority['validFor']): boolean {
  const t = at.getTime();
  return validFor.start.getTime() <= t && (validFor.end === undefined || t <= validFor.end.getTime());
}

async function tryAuthority(
  t: Token,
  essCert: { hash: DigestAlgorithm | 'sha1'; value: Uint8Array },
  authority: TimestampAuthority,
): Promise<Outcome> {
  const genTime = t.parsed.genTime;
  if (!inValidFor(genTime, authority.validFor)) {
    return {
      ok: false,
      invalid: false,
      reason: `genTime ${genTime.toISOString()} is outside the authority's validity`,
    };
  }
  const chain = authority.certChain.map((der, i) => certInfo(der, `authority certificate #${i + 1}`));
  const head = chain[0];
  const root = chain[chain.length - 1];
  if (head === undefined || root === undefined)
    return { ok: false, invalid: false, reason: 'empty authority chain' };
  const headIsLeaf = !isCa(head);
  // With a leaf in the trusted chain, that leaf is the only acceptable signer and embedded certificates are
  // ignored (they are attacker-controlled). A CA-only authority needs the signer (and any intermediates) embedded.
  const candidates = headIsLeaf ? [head] : t.embedded;
  let last: Outcome = { ok: false, invalid: false, reason: 'no certificate matches the signer identifier' };
  for (const cert of candidates) {
    if (!signerIdMatches(t.signer.sid, cert)) continue;
    const certHash = createHash(essCert.hash).update(cert.der).digest();
    if (!bytesEqual(certHash, essCert.value)) {
      last = {
        ok: false,
        invalid: true,
        reason: 'the signing-certificate attribute names another certificate',
      };
      continue;
    }
    const key = publicKeyOf(cert);
    let verified = false;
    try {
      verified =
        key !== undefined &&
        verifyAlgorithmSignature({
          algorithm: t.signer.signatureAlgorithm.algorithmId,
          parameters: algorithmParameters(t.signer.signatureAlgorithm),
          digestAlgorithm: t.signer.digestAlgorithm.algorithmId,
          publicKey: key,
          data: t.signedAttrs,
          signature: t.signer.signature.valueBlock.valueHexView,
        });
    } catch (e) {
      if (!(e instanceof VouchError)) throw e;
      last = { ok: false, invalid: true, reason: e.message };
      continue;
    }
    if (!verified) {
      last = { ok: false, invalid: true, reason: 'the signature does not verify' };
      continue;
    }
    // RFC 3161 §2.3: the TSA certificate carries exactly one extended key usage, id-kp-timeStamping.
    const eku = extension(cert, OID.extKeyUsage)?.parsedValue;
    if (!(eku instanceof pkijsLib().ExtKeyUsage) || eku.keyPurposes.length !== 1) {
      last = { ok: false, invalid: false, reason: 'the TSA certificate must carry only id-kp-timeStamping' };
      continue;
    }
    const untrusted = headIsLeaf ? [] : t.embedded.filter((c) => c !== cert).map((c) => c.der);
    try {
      await verifyCertificateChain({
        certificates: [cert.der, ...untrusted, ...chain.slice(headIsLeaf ? 1 : 0, -1).map((c) => c.der)],
        anchors: [root.der],
        at: genTime,
        requiredEku: EKU_TIME_STAMPING,
      });
      return { ok: true };
    } catch (e) {
      if (!(e instanceof VouchError)) throw e;
      last = { ok: false, invalid: false, reason: e.message };
    }
  }
  return last;
}

/**
 * Verifies an RFC 3161 timestamp over `data` against trusted authorities and returns the authority that
 * vouches for genTime. Checks: message imprint = hash(data); messageDigest attribute = hash(TSTInfo);
 * content-type attribute; the CMS signature over the signed attributes; the ESSCertID(v2) binding; the
 * signer chains to the authority at genTime with id-kp-timeStamping; genTime within the authority's validFor.
 * Errors: ERR_TIMESTAMP_MALFORMED, ERR_TIMESTAMP_INVALID (imprint, attributes or signature),
 * ERR_TIMESTAMP_UNTRUSTED (no authority signed it, chain or validity failure).
 */
export async function verifyRfc3161Timestamp(
  der: Uint8Array,
  data: Uint8Array,
  authorities: readonly TimestampAuthority[],
): Promise<{ genTime: Date; authority: TimestampAuthority }> {
  const t = decodeToken(der);
  if (!bytesEqual(digestBytes(t.parsed.hashAlgorithm, data), t.parsed.messageImprint)) {
    throw invalid('the message imprint does not match the data');
  }
  checkSignedAttributes(t);
  const essCert = signingCertificateHash(t.signer);
  const reasons: string[] = [];
  let invalidSignature = false;
  for (const authority of authorities) {
    const outcome = await tryAuthority(t, essCert, authority);
    if (outcome.ok) return { genTime: t.parsed.genTime, authority };
    invalidSignature ||= outcome.invalid;
    reasons.push(outcome.reason);
  }
  if (invalidSignature) throw invalid([...new Set(reasons)].join('; '));
  throw new VouchError(
    'ERR_TIMESTAMP_UNTRUSTED',
    `RFC 3161 timestamp: no trusted authority vouches for it${reasons.length > 0 ? `: ${[...new Set(reasons)].join('; ')}` : ''}`,
  );
}
