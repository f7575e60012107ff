import { constants, createPublicKey, type KeyObject, sign as nodeSign } from 'node:crypto';
import type * as Asn1js from 'asn1js';
import type * as Pkijs from 'pkijs';
import { bytesEqual, type DigestAlgorithm, digestBytes, fromBase64, VouchError } from '../core/index.js';
import { algorithmForKey } from './algorithms.js';
import { type Artifact, artifactDigest } from './artifact.js';
import { children, isTag, rawOf } from './asn1.js';
import { asn1jsLib, pkijsLib } from './lazy.js';
import {
  EKU_CODE_SIGNING,
  parseCertificate,
  verifyAlgorithmSignature,
  verifyCertificateChain,
  type X509Certificate,
} from './x509.js';

/**
 * CMS (RFC 5652) SignedData with detached content, as `openssl cms -sign -binary` (without -nodetach)
 * writes it: one SignerInfo with signed attributes (contentType, signingTime, messageDigest), the signer's
 * certificate and chain embedded. pkijs and asn1js build and parse the structures; the signature itself is
 * node:crypto's, over the DER of the signed attributes (§5.4). The content is only ever hashed, so a file
 * of any size is streamed once and a digest-only artifact works as well.
 */
export type CmsContent = Uint8Array | Artifact;

export interface CmsVerification {
  /** The signer's certificate (first of `chain`). */
  readonly signer: X509Certificate;
  /** The signingTime attribute, when the signer included one (self-asserted). */
  readonly signingTime?: Date;
  /** Leaf first, ending at the trusted certificate. */
  readonly chain: X509Certificate[];
  readonly digestAlgorithm: DigestAlgorithm;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  // RFC 6211: binds the digest and signature algorithms into the signed attributes.
  algorithmProtection: '1.2.840.113549.1.9.52',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

// RFC 5754 §2.
const DIGEST_OIDS: Readonly<Record<DigestAlgorithm, string>> = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};

const WEAK_DIGEST_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'SHA-1',
  '1.2.840.113549.2.5': 'MD5',
};

// Limits for attacker-controlled DER: a detached SignedData is a few certificates and one SignerInfo.
const DER_LIMITS = { maxDepth: 48, maxNodes: 20_000, maxContentLength: 4 << 20, parseEmbedded: false };
const MAX_CMS_BYTES = 8 << 20;
// A signingTime later than this past the verifier's clock is refused: a signature cannot come from the
// future, and callers that report the signing time must not show an impossible one.
const CLOCK_SKEW_MS = 5 * 60_000;

function malformed(detail: string, cause?: unknown): VouchError {
  return new VouchError(
    'ERR_CMS_MALFORMED',
    `not a detached CMS signature: ${detail}`,
    cause === undefined ? undefined : { cause },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Signing

interface SigningProfile {
  readonly digest: DigestAlgorithm;
  readonly signatureAlgorithm: Pkijs.AlgorithmIdentifier;
  sign(data: Uint8Array): Buffer;
}

/** What a key signs with in CMS. The algorithm table refuses weak RSA and unknown curves. */
function profileFor(key: KeyObject): SigningProfile {
  const alg = algorithmForKey(key);
  switch (alg.keyType) {
    case 'ec': {
      // RFC 5753 §2.1.1 / RFC 5754 §3.3: ecdsa-with-SHA256 for P-256, ecdsa-with-SHA384 for P-384.
      const digest = alg.hash === 'sha384' ? 'sha384' : 'sha256';
      const oid = digest === 'sha384' ? '1.2.840.10045.4.3.3' : '1.2.840.10045.4.3.2';
      return {
        digest,
        signatureAlgorithm: new (pkijsLib().AlgorithmIdentifier)({ algorithmId: oid }),
        sign: (data) => nodeSign(digest, data, key),
      };
    }
    case 'rsa':
      // PKCS #1 v1.5 (RFC 5754 §3.2), not PSS: what `openssl cms -sign` itself makes, the widely verified form.
      if (key.asymmetricKeyType === 'rsa-pss') {
        throw new VouchError(
          'ERR_ALG_UNSUPPORTED',
          'an RSA-PSS-only key cannot make a PKCS #1 v1.5 CMS signature',
        );
      }
      return {
        digest: 'sha256',
        signatureAlgorithm: new (pkijsLib().AlgorithmIdentifier)({
          algorithmId: '1.2.840.113549.1.1.11',
          algorithmParams: new (asn1jsLib().Null)(),
        }),
        sign: (data) => nodeSign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }),
      };
    case 'ed25519':
      // RFC 8419 §3: PureEdDSA over the signed attributes, whose message digest SHOULD be SHA-512.
      return {
        digest: 'sha512',
        signatureAlgorithm: new (pkijsLib().AlgorithmIdentifier)({ algorithmId: '1.3.101.112' }),
        sign: (data) => nodeSign(null, data, key),
      };
  }
}

/** RFC 5652 §11.3: UTCTime for 1950–2049, GeneralizedTime otherwise; whole seconds, as UTCTime has no fractions. */
function timeValue(date: Date): Asn1js.UTCTime | Asn1js.GeneralizedTime {
  const valueDate = new Date(Math.floor(date.getTime() / 1000) * 1000);
  const year = valueDate.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? new (asn1jsLib().UTCTime)({ valueDate })
    : new (asn1jsLib().GeneralizedTime)({ valueDate });
}

function derOf(o: { toSchema(): Asn1js.AsnType }): Uint8Array {
  return new Uint8Array(o.toSchema().toBER(false));
}

function pkijsCertificate(der: Uint8Array, what: string): Pkijs.Certificate {
  parseCertificate(der, what);
  return pkijsLib().Certificate.fromBER(der);
}

/**
 * Signs `content` and returns a DER ContentInfo holding a detached SignedData (RFC 5652 §5), verifiable with
 * `openssl cms -verify -binary -inform DER -content <file>`. `certificate` (DER) must hold the public half of
 * `privateKey`; `chain` (DER, intermediates) is embedded after it. ECDSA P-256/P-384 sign with SHA-256/384,
 * RSA with PKCS #1 v1.5 SHA-256, Ed25519 per RFC 8419.
 */
export async function signCmsDetached(
  content: CmsContent,
  o: { certificate: Uint8Array; chain?: readonly Uint8Array[]; privateKey: KeyObject; signingTime?: Date },
): Promise<Uint8Array> {
  if (o.privateKey.type !== 'private')
    throw new TypeError('signCmsDetached: privateKey must be a private key');
  const leaf = parseCertificate(o.certificate, 'signing certificate');
  const spki = createPublicKey(o.privateKey).export({ type: 'spki', format: 'der' });
  if (!bytesEqual(spki, new Uint8Array(leaf.publicKey.rawData))) {
    throw new VouchError('ERR_KEY_MISMATCH', 'the private key does not belong to the signing certificate');
  }
  const profile = profileFor(o.privateKey);
  const digest = await contentDigest(content, profile.digest);
  const digestAlgorithm = new (pkijsLib().AlgorithmIdentifier)({ algorithmId: DIGEST_OIDS[profile.digest] });

  const attributes = [
    new (pkijsLib().Attribute)({
      type: OID.contentType,
      values: [new (asn1jsLib().ObjectIdentifier)({ value: OID.data })],
    }),
    new (pkijsLib().Attribute)({ type: OID.signingTime, values: [timeValue(o.signingTime ?? new Date())] }),
    new (pkijsLib().Attribute)({
      type: OID.messageDigest,
      values: [new (asn1jsLib().OctetString)({ valueHex: digest })],
    }),
    new (pkijsLib().Attribute)({
      type: OID.algorithmProtection,
      values: [
        new (asn1jsLib().Sequence)({
          value: [
            digestAlgorithm.toSchema(),
            new (asn1jsLib().Constructed)({
              idBlock: { tagClass: 3, tagNumber: 1 },
              value: (profile.signatureAlgorithm.toSchema() as Asn1js.Sequence).valueBlock.value,
            }),
          ],
        }),
      ],
    }),
  ]
    // DER orders a SET OF by the encodings of its elements (X.690 §11.6).
    .map((attribute) => ({ attribute, der: derOf(attribute) }))
    .sort((a, b) => Buffer.compare(a.der, b.der))
    .map((a) => a.attribute);
  const signedAttrs = new (pkijsLib().SignedAndUnsignedAttributes)({ type: 0, attributes });
  // RFC 5652 §5.4: the signature covers the attributes as an explicit SET OF, not the [0] IMPLICIT tag.
  const toSign = derOf(signedAttrs);
  toSign[0] = 0x31;

  const cert = pkijsCertificate(o.certificate, 'signing certificate');
  const signerInfo = new (pkijsLib().SignerInfo)({
    version: 1,
    sid: new (pkijsLib().IssuerAndSerialNumber)({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
    digestAlgorithm,
    signedAttrs,
    signatureAlgorithm: profile.signatureAlgorithm,
    signature: new (asn1jsLib().OctetString)({ valueHex: profile.sign(toSign) }),
  });
  const signedData = new (pkijsLib().SignedData)({
    version: 1,
    digestAlgorithms: [digestAlgorithm],
    encapContentInfo: new (pkijsLib().EncapsulatedContentInfo)({ eContentType: OID.data }),
    certificates: [
      cert,
      ...(o.chain ?? []).map((d, i) => pkijsCertificate(d, `chain certificate #${i + 1}`)),
    ],
    signerInfos: [signerInfo],
  });
  const contentInfo = new (pkijsLib().ContentInfo)({
    contentType: OID.signedData,
    content: signedData.toSchema(),
  });
  return derOf(contentInfo);
}

async function contentDigest(content: CmsContent, alg: DigestAlgorithm): Promise<Buffer> {
  return content instanceof Uint8Array ? digestBytes(alg, content) : artifactDigest(content, alg);
}

// ---------------------------------------------------------------------------------------------------------
// Verification. Everything below reads attacker-controlled bytes.

// RFC 7468 §9 names the label "CMS" (what `openssl cms` writes); §8's "PKCS7" is what older tools write.
const PEM = /^-----BEGIN (CMS|PKCS7|PKCS #7 SIGNED DATA)-----([A-Za-z0-9+/=\s]*)-----END \1-----$/;

function decodeInput(input: Uint8Array | string): Uint8Array {
  const head = typeof input === 'string' ? input : Buffer.from(input.subarray(0, 64)).toString('latin1');
  if (!head.trimStart().startsWith('-----BEGIN ')) {
    if (typeof input === 'string') throw malformed('text input is not PEM');
    return input;
  }
  const text = (typeof input === 'string' ? input : Buffer.from(input).toString('latin1')).trim();
  const m = PEM.exec(text);
  if (m === null) throw malformed('not a single PEM "CMS" or "PKCS7" block');
  try {
    return fromBase64((m[2] ?? '').replace(/\s+/g, ''), 'CMS PEM body');
  } catch (e) {
    throw malformed('PEM body is not base64', e);
  }
}

interface Parsed {
  readonly signedData: Pkijs.SignedData;
  /** The embedded certificates as received (X.509 choice only), in order. */
  readonly certificates: readonly { der: Uint8Array; cert: Pkijs.Certificate }[];
}

function parseCms(der: Uint8Array): Parsed {
  if (der.byteLength > MAX_CMS_BYTES) throw malformed(`larger than ${MAX_CMS_BYTES} bytes`);
  const asn = asn1jsLib().fromBER(der, DER_LIMITS);
  if (asn.offset === -1) throw malformed(asn.result.error || 'bad DER');
  if (asn.offset !== der.byteLength) throw malformed('trailing bytes after the ContentInfo');
  let signedData: Pkijs.SignedData;
  let sdBlock: Asn1js.AsnType;
  try {
    const contentInfo = new (pkijsLib().ContentInfo)({ schema: asn.result });
    if (contentInfo.contentType !== OID.signedData)
      throw malformed(`content type ${contentInfo.contentType}`);
    sdBlock = contentInfo.content as Asn1js.AsnType;
    signedData = new (pkijsLib().SignedData)({ schema: sdBlock });
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw malformed('bad ContentInfo or SignedData structure', e);
  }
  const certificates: { der: Uint8Array; cert: Pkijs.Certificate }[] = [];
  const certSet = children(sdBlock).find((b) => isTag(b, 3, 0));
  for (const c of certSet === undefined ? [] : children(certSet)) {
    // Only the plain X.509 choice (a SEQUENCE) of CertificateChoices (§10.2.2) is used; others are skipped.
    if (!isTag(c, 1, 16)) continue;
    try {
      certificates.push({ der: rawOf(c), cert: new (pkijsLib().Certificate)({ schema: c }) });
    } catch (e) {
      throw malformed('an embedded certificate cannot be parsed', e);
    }
  }
  return { signedData, certificates };
}

/** The single value of a signed attribute that may occur at most once (RFC 5652 §11.1–§11.3, RFC 6211 §2). */
function singleValue(
  attrs: readonly Pkijs.Attribute[],
  type: string,
  name: string,
): Asn1js.AsnType | undefined {
  const found = attrs.filter((a) => a.type === type);
  if (found.length === 0) return undefined;
  const values = found[0]?.values ?? [];
  if (found.length > 1 || values.length !== 1) throw malformed(`the ${name} attribute must have one value`);
  return values[0] as Asn1js.AsnType;
}

function digestAlgorithmOf(oid: string): DigestAlgorithm {
  const hit = (Object.keys(DIGEST_OIDS) as DigestAlgorithm[]).find((a) => DIGEST_OIDS[a] === oid);
  if (hit !== undefined) return hit;
  const weak = WEAK_DIGEST_OIDS[oid];
  if (weak !== undefined) throw new VouchError('ERR_ALG_WEAK', `digest ${weak} is refused`);
  throw new VouchError('ERR_ALG_UNSUPPORTED', `digest algorithm ${oid} is not supported`);
}

/** Parameters that matter: absent and NULL are the same (RFC 5754 §2 allows both). */
function paramsOf(alg: Pkijs.AlgorithmIdentifier): Uint8Array | undefined {
  const p = alg.algorithmParams as Asn1js.AsnType | undefined;
  if (
    p === undefined ||
    p instanceof asn1jsLib().Null ||
    (p.idBlock.tagClass === 1 && p.idBlock.tagNumber === 5)
  ) {
    return undefined;
  }
  return new Uint8Array(p.toBER(false));
}

function sameAlgorithm(a: Pkijs.AlgorithmIdentifier, b: Pkijs.AlgorithmIdentifier): boolean {
  const pa = paramsOf(a);
  const pb = paramsOf(b);
  return (
    a.algorithmId === b.algorithmId &&
    (pa === undefined ? pb === undefined : pb !== undefined && bytesEqual(pa, pb))
  );
}

/** RFC 6211 §2: when present, the protected algorithms must be the ones the SignerInfo names. */
function checkAlgorithmProtection(value: Asn1js.AsnType, si: Pkijs.SignerInfo): void {
  const [digestAlg, second] = children(value);
  let ok = false;
  try {
    ok =
      digestAlg !== undefined &&
      isTag(second, 3, 1) &&
      sameAlgorithm(new (pkijsLib().AlgorithmIdentifier)({ schema: digestAlg }), si.digestAlgorithm) &&
      sameAlgorithm(
        new (pkijsLib().AlgorithmIdentifier)({
          schema: new (asn1jsLib().Sequence)({ value: children(second) }),
        }),
        si.signatureAlgorithm,
      );
  } catch (e) {
    throw malformed('bad CMSAlgorithmProtection attribute', e);
  }
  if (!ok) {
    throw new VouchError(
      'ERR_CMS_SIGNATURE',
      "CMSAlgorithmProtection does not match the signer's algorithms",
    );
  }
}

function timeOf(value: Asn1js.AsnType): Date {
  if (value instanceof asn1jsLib().UTCTime || value instanceof asn1jsLib().GeneralizedTime) {
    const d = value.toDate();
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw malformed('signingTime is not a UTCTime or GeneralizedTime');
}

function findSigner(
  si: Pkijs.SignerInfo,
  certificates: Parsed['certificates'],
): { der: Uint8Array; cert: Pkijs.Certificate } {
  const sid = si.sid as unknown;
  const found = certificates.find(({ cert }) => {
    if (sid instanceof pkijsLib().IssuerAndSerialNumber) {
      return (
        bytesEqual(
          new Uint8Array(sid.issuer.valueBeforeDecode),
          new Uint8Array(cert.issuer.valueBeforeDecode),
        ) && bytesEqual(sid.serialNumber.valueBlock.valueHexView, cert.serialNumber.valueBlock.valueHexView)
      );
    }
    // SignerIdentifier [0] SubjectKeyIdentifier (§5.3): match the certificate's SKI extension.
    const ski = cert.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier)?.parsedValue as unknown;
    return (
      sid instanceof asn1jsLib().Primitive &&
      isTag(sid, 3, 0) &&
      ski instanceof asn1jsLib().OctetString &&
      bytesEqual(sid.valueBlock.valueHexView, ski.valueBlock.valueHexView)
    );
  });
  if (found === undefined) throw malformed("the signer's certificate is not embedded");
  return found;
}

/**
 * Verifies a detached CMS signature (DER, or PEM "CMS"/"PKCS7") over `content`:
 * exactly one SignerInfo with signed attributes; contentType = id-data in the attributes and the
 * encapsulated content info; the signature over the signed attributes with the signer's certificate;
 * CMSAlgorithmProtection when present; the chain to one of `anchors` with `requiredEku` (default code
 * signing) at the verification time; and messageDigest = hash(content), the content streamed once.
 *
 * The verification time is `at` when given (a trusted time, e.g. from an RFC 3161 timestamp), else now, as
 * `openssl cms -verify` does. The signingTime attribute is reported but never decides: the signer alone
 * asserts it, so trusting it would let a holder of an expired certificate's key backdate signatures.
 *
 * Errors: ERR_CMS_MALFORMED (structure), ERR_CMS_SIGNATURE (signature, attributes or content do not match),
 * ERR_CERT_CHAIN / ERR_CERT_VALIDITY / ERR_CERT_EKU / ERR_CERT_MALFORMED (chain), ERR_ALG_WEAK (SHA-1, MD5,
 * RSA < 2048), ERR_ALG_UNSUPPORTED.
 */
export async function verifyCmsDetached(
  content: CmsContent,
  cms: Uint8Array | string,
  o: { anchors: readonly Uint8Array[]; at?: Date; requiredEku?: string },
): Promise<CmsVerification> {
  const { signedData, certificates } = parseCms(decodeInput(cms));
  const eci = signedData.encapContentInfo;
  if (eci.eContentType !== OID.data) throw malformed(`encapsulated content type ${eci.eContentType}`);
  if (eci.eContent !== undefined) throw malformed('the content is embedded (not a detached signature)');
  const [si, ...more] = signedData.signerInfos;
  if (si === undefined || more.length > 0) {
    throw malformed(`expected one signer, found ${signedData.signerInfos.length}`);
  }
  // Without signed attributes the signature covers the content itself (§5.4). Vouch requires them (openssl
  // adds them unless told -noattr), so the content is only ever digested, once, after every other check.
  const attrs = si.signedAttrs?.attributes;
  if (si.signedAttrs === undefined || attrs === undefined || attrs.length === 0) {
    throw malformed('signed attributes are required');
  }
  const contentType = singleValue(attrs, OID.contentType, 'contentType');
  const messageDigest = singleValue(attrs, OID.messageDigest, 'messageDigest');
  const signingTimeValue = singleValue(attrs, OID.signingTime, 'signingTime');
  const protection = singleValue(attrs, OID.algorithmProtection, 'CMSAlgorithmProtection');
  // §11.1: contentType MUST be present and equal the eContentType; §11.2: messageDigest MUST be present.
  if (
    !(contentType instanceof asn1jsLib().ObjectIdentifier) ||
    contentType.valueBlock.toString() !== OID.data
  ) {
    throw malformed('the contentType attribute is missing or not id-data');
  }
  if (!(messageDigest instanceof asn1jsLib().OctetString))
    throw malformed('the messageDigest attribute is missing');
  const digestAlgorithm = digestAlgorithmOf(si.digestAlgorithm.algorithmId);
  if (protection !== undefined) checkAlgorithmProtection(protection, si);

  const signer = findSigner(si, certificates);
  const leaf = parseCertificate(signer.der, "signer's certificate");
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(leaf.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (e) {
    throw new VouchError('ERR_CERT_MALFORMED', "the signer's public key cannot be read", { cause: e });
  }
  const valid = verifyAlgorithmSignature({
    algorithm: si.signatureAlgorithm.algorithmId,
    parameters: paramsOf(si.signatureAlgorithm),
    digestAlgorithm: si.digestAlgorithm.algorithmId,
    publicKey,
    // pkijs keeps the attributes as received with the tag already rewritten to SET OF (§5.4).
    data: new Uint8Array(si.signedAttrs.encodedValue),
    signature: si.signature.valueBlock.valueHexView,
  });
  if (!valid) throw new VouchError('ERR_CMS_SIGNATURE', 'the CMS signature does not verify');

  const signingTime = signingTimeValue === undefined ? undefined : timeOf(signingTimeValue);
  if (signingTime !== undefined && signingTime.getTime() > Date.now() + CLOCK_SKEW_MS) {
    throw new VouchError(
      'ERR_CMS_SIGNATURE',
      `the signingTime ${signingTime.toISOString()} is in the future`,
    );
  }
  const chain = await verifyCertificateChain({
    certificates: [signer.der, ...certificates.filter((c) => c !== signer).map((c) => c.der)],
    anchors: o.anchors,
    at: o.at ?? new Date(),
    requiredEku: o.requiredEku ?? EKU_CODE_SIGNING,
  });

  // Last, as the most expensive step: one streamed pass over the content.
  const actual = await contentDigest(content, digestAlgorithm);
  if (!bytesEqual(actual, messageDigest.valueBlock.valueHexView)) {
    throw new VouchError('ERR_CMS_SIGNATURE', 'the content does not match the signed message digest');
  }
  const result = { signer: chain[0] ?? leaf, chain, digestAlgorithm };
  return signingTime === undefined ? result : { ...result, signingTime };
}
