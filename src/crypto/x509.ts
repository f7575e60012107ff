import { constants, createPublicKey, type KeyObject, verify as nodeVerify } from 'node:crypto';
import type { X509Certificate } from '@peculiar/x509';
import type * as Asn1js from 'asn1js';
import { bytesEqual, fromBase64, VouchError } from '../core/index.js';
import { children, decodeStrictDer, isTag, rawOf } from './asn1.js';
import { asn1jsLib, x509Lib } from './lazy.js';

export type { X509Certificate } from '@peculiar/x509';

/** RFC 5280 §4.2.1.12 id-kp-codeSigning: what Fulcio puts on every signing certificate. */
export const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
/** RFC 3161 §2.3 id-kp-timeStamping: the only purpose a TSA signing certificate may carry. */
export const EKU_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

const EKU_ANY = '2.5.29.37.0';

// ---------------------------------------------------------------------------------------------------------
// Raw DER views. Signatures and name chaining are checked over the bytes as received, never a re-encoding.

interface RawCertificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  /** The outer signatureAlgorithm (RFC 5280 §4.1.1.2). */
  readonly sigAlg: string;
  readonly sigParams: Uint8Array | undefined;
  readonly signature: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
}

// Limits for attacker-controlled DER: a certificate is a few KiB and a dozen levels deep.
const DER_LIMITS = { maxDepth: 32, maxNodes: 4096, maxContentLength: 1 << 20, parseEmbedded: false };

function malformed(what: string, detail: string): VouchError {
  return new VouchError('ERR_CERT_MALFORMED', `${what} is not a valid X.509 certificate: ${detail}`);
}

function splitCertificate(der: Uint8Array, what: string): RawCertificate {
  // RFC 5280 §4.1: certificates are DER (X.690 §10); anything else is refused, not normalised.
  const top = decodeStrictDer(der, DER_LIMITS);
  if (top === undefined) throw malformed(what, 'not a single DER value');
  const [tbs, alg, sig, ...extra] = children(top);
  if (!isTag(top, 1, 16) || !isTag(tbs, 1, 16) || !isTag(alg, 1, 16)) {
    throw malformed(what, 'not a SEQUENCE of tbsCertificate, signatureAlgorithm, signature');
  }
  if (!isTag(sig, 1, 3) || extra.length > 0) throw malformed(what, 'bad signature field');
  const fields = children(tbs);
  const offset = isTag(fields[0], 3, 0) ? 1 : 0;
  const [, innerAlg, issuer, , subject] = fields.slice(offset);
  if (!isTag(innerAlg, 1, 16) || !isTag(issuer, 1, 16) || !isTag(subject, 1, 16)) {
    throw malformed(what, 'bad tbsCertificate');
  }
  // RFC 5280 §4.1.1.2: the outer algorithm MUST equal the one inside the signed TBS; otherwise an attacker
  // could relabel the signature.
  if (!bytesEqual(rawOf(innerAlg), rawOf(alg))) throw malformed(what, 'signature algorithm mismatch');
  const [oid, params] = children(alg);
  if (!(oid instanceof asn1jsLib().ObjectIdentifier)) throw malformed(what, 'bad signature algorithm');
  const bits = sig as Asn1js.BitString;
  if (bits.valueBlock.unusedBits !== 0) throw malformed(what, 'signature has unused bits');
  return {
    der,
    tbs: rawOf(tbs),
    sigAlg: oid.valueBlock.toString(),
    sigParams: params === undefined || isTag(params, 1, 5) ? undefined : rawOf(params),
    signature: new Uint8Array(bits.valueBlock.valueHexView),
    issuer: rawOf(issuer),
    subject: rawOf(subject),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

function pemBlocks(text: string, what: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (m[1] !== 'CERTIFICATE') throw malformed(what, `unexpected PEM block "${m[1] ?? ''}"`);
    const body = (m[2] ?? '').replace(/\s+/g, '');
    try {
      out.push(fromBase64(body, what));
    } catch {
      throw malformed(what, 'PEM body is not base64');
    }
  }
  const begins = text.match(/-----BEGIN /g)?.length ?? 0;
  if (begins !== out.length) throw malformed(what, 'unterminated PEM block');
  return out;
}

function fromDer(der: Uint8Array, what: string): { cert: X509Certificate; raw: RawCertificate } {
  const raw = splitCertificate(Uint8Array.from(der), what);
  try {
    return { cert: new (x509Lib().X509Certificate)(raw.der), raw };
  } catch (e) {
    throw new VouchError('ERR_CERT_MALFORMED', `${what} is not a valid X.509 certificate`, { cause: e });
  }
}

function isPemBytes(input: Uint8Array): boolean {
  return Buffer.from(input.buffer, input.byteOffset, Math.min(input.byteLength, 64))
    .toString('latin1')
    .trimStart()
    .startsWith('-----BEGIN ');
}

/** Parses one certificate from DER bytes or PEM (text or bytes). Anything else is ERR_CERT_MALFORMED. */
export function parseCertificate(input: Uint8Array | string, what = 'certificate'): X509Certificate {
  if (typeof input !== 'string' && !isPemBytes(input)) return fromDer(input, what).cert;
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const blocks = pemBlocks(text, what);
  const [der] = blocks;
  if (der === undefined || blocks.length !== 1) {
    throw malformed(what, `expected one PEM certificate, found ${blocks.length}`);
  }
  return fromDer(der, what).cert;
}

/** Parses a PEM bundle (text between blocks is ignored); at least one certificate is required. */
export function parseCertificates(pem: string, what = 'certificate bundle'): X509Certificate[] {
  const blocks = pemBlocks(pem, what);
  if (blocks.length === 0) throw malformed(what, 'no PEM certificate found');
  return blocks.map((der, i) => fromDer(der, `${what} #${i + 1}`).cert);
}

// ---------------------------------------------------------------------------------------------------------
// Signature algorithms: data, resolved by OID (STYLE §5). SHA-1 and MD5 are refused, not merely unknown.

type Hash = 'sha256' | 'sha384' | 'sha512';
type Scheme = 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss' | 'ed25519';

const DIGEST_OIDS: Readonly<Record<string, Hash>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const SIGNATURE_OIDS: Readonly<Record<string, { scheme: Scheme; hash: Hash | null }>> = {
  '1.2.840.10045.4.3.2': { scheme: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { scheme: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { scheme: 'ecdsa', hash: 'sha512' },
  '1.2.840.113549.1.1.11': { scheme: 'rsa-pkcs1', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { scheme: 'rsa-pkcs1', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { scheme: 'rsa-pkcs1', hash: 'sha512' },
  // RFC 4055 §3.1: the hash comes from the RSASSA-PSS-params.
  '1.2.840.113549.1.1.10': { scheme: 'rsa-pss', hash: null },
  // RFC 8410 §6: PureEdDSA, no separate hash.
  '1.3.101.112': { scheme: 'ed25519', hash: null },
  // RFC 5652 §5.3 lets a CMS SignerInfo name only the key algorithm; the hash is then its digestAlgorithm.
  '1.2.840.113549.1.1.1': { scheme: 'rsa-pkcs1', hash: null },
  '1.2.840.10045.2.1': { scheme: 'ecdsa', hash: null },
};

const WEAK_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'SHA-1',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.2.5': 'MD5',
};

const RSA_MIN_BITS = 2048;

function weak(message: string): VouchError {
  return new VouchError('ERR_ALG_WEAK', message);
}

function unsupported(message: string): VouchError {
  return new VouchError('ERR_ALG_UNSUPPORTED', message);
}

function digestOid(oid: string): Hash {
  const hash = DIGEST_OIDS[oid];
  if (hash !== undefined) return hash;
  if (WEAK_OIDS[oid] !== undefined) throw weak(`digest ${WEAK_OIDS[oid]} is refused`);
  throw unsupported(`digest algorithm ${oid} is not supported`);
}

/** The hash and salt length of RSASSA-PSS-params (RFC 4055 §3.1); SHA-1 defaults are refused. */
function pssParams(params: Uint8Array | undefined): { hash: Hash; saltLength: number } {
  const parsed = params === undefined ? undefined : decodeStrictDer(params, DER_LIMITS);
  if (parsed === undefined || !isTag(parsed, 1, 16)) {
    throw weak('RSASSA-PSS without parameters defaults to SHA-1 and is refused');
  }
  let hash: Hash | undefined;
  let mgfHash: Hash | undefined;
  let saltLength = 20;
  for (const field of children(parsed)) {
    const [inner] = children(field);
    if (field.idBlock.tagClass !== 3 || inner === undefined) throw unsupported('bad RSASSA-PSS parameters');
    switch (field.idBlock.tagNumber) {
      case 0:
        hash = digestOid(children(inner)[0]?.valueBlock.toString() ?? '');
        break;
      case 1: {
        // MaskGenAlgorithm ::= { id-mgf1, HashAlgorithm }
        const [mgf, mgfAlg] = children(inner);
        if (mgf?.valueBlock.toString() !== '1.2.840.113549.1.1.8' || mgfAlg === undefined) {
          throw unsupported('RSASSA-PSS mask generation other than MGF1 is not supported');
        }
        mgfHash = digestOid(children(mgfAlg)[0]?.valueBlock.toString() ?? '');
        break;
      }
      case 2:
        if (!(inner instanceof asn1jsLib().Integer)) throw unsupported('bad RSASSA-PSS salt length');
        saltLength = inner.valueBlock.valueDec;
        break;
      case 3:
        if (!(inner instanceof asn1jsLib().Integer) || inner.valueBlock.valueDec !== 1) {
          throw unsupported('RSASSA-PSS trailer field must be 1');
        }
        break;
      default:
        throw unsupported('bad RSASSA-PSS parameters');
    }
  }
  if (hash === undefined || mgfHash === undefined) throw weak('RSASSA-PSS with default SHA-1 is refused');
  // node:crypto uses the signature hash for MGF1 as well.
  if (mgfHash !== hash) throw unsupported('RSASSA-PSS with a different MGF1 hash is not supported');
  if (saltLength < 0 || saltLength > 1024) throw unsupported('bad RSASSA-PSS salt length');
  return { hash, saltLength };
}

/**
 * Verifies a signature named by an ASN.1 AlgorithmIdentifier (X.509 or CMS SignerInfo) with node:crypto.
 * Returns false when the signature does not verify or the key does not fit the algorithm; throws
 * ERR_ALG_WEAK for SHA-1/MD5 or an RSA modulus under 2048 bits, ERR_ALG_UNSUPPORTED for unknown algorithms.
 * `digestAlgorithm` (an OID) is used only when `algorithm` names a bare key type, as CMS allows.
 */
export function verifyAlgorithmSignature(o: {
  algorithm: string;
  parameters?: Uint8Array | undefined;
  digestAlgorithm?: string | undefined;
  publicKey: KeyObject;
  data: Uint8Array;
  signature: Uint8Array;
}): boolean {
  if (WEAK_OIDS[o.algorithm] !== undefined)
    throw weak(`signature algorithm ${WEAK_OIDS[o.algorithm]} is refused`);
  const row = SIGNATURE_OIDS[o.algorithm];
  if (row === undefined) throw unsupported(`signature algorithm ${o.algorithm} is not supported`);
  const keyType = o.publicKey.asymmetricKeyType;
  const bits = o.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  let hash: Hash | null = row.hash;
  let key: Parameters<typeof nodeVerify>[2];
  switch (row.scheme) {
    case 'ecdsa':
      if (keyType !== 'ec') return false;
      key = o.publicKey;
      break;
    case 'ed25519':
      if (keyType !== 'ed25519') return false;
      key = o.publicKey;
      break;
    case 'rsa-pkcs1':
      if (keyType !== 'rsa') return false;
      if (bits < RSA_MIN_BITS) throw weak(`RSA key of ${bits} bits is refused (minimum ${RSA_MIN_BITS})`);
      key = { key: o.publicKey, padding: constants.RSA_PKCS1_PADDING };
      break;
    case 'rsa-pss': {
      if (keyType !== 'rsa' && keyType !== 'rsa-pss') return false;
      if (bits < RSA_MIN_BITS) throw weak(`RSA key of ${bits} bits is refused (minimum ${RSA_MIN_BITS})`);
      const pss = pssParams(o.parameters);
      hash = pss.hash;
      key = { key: o.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength };
      break;
    }
  }
  if (hash === null && row.scheme !== 'ed25519') {
    if (o.digestAlgorithm === undefined) throw unsupported(`${o.algorithm} needs a digest algorithm`);
    hash = digestOid(o.digestAlgorithm);
  }
  try {
    return nodeVerify(hash, o.data, key, o.signature);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Chain validation (RFC 5280 §6.1, the subset Sigstore needs: no policies, name constraints or revocation).

/** Extensions whose semantics are enforced (or harmless) here; any other critical one rejects (§4.2). */
const HANDLED_CRITICAL = new Set([
  '2.5.29.15', // keyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.37', // extKeyUsage
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
]);

// Bounds for attacker-supplied chains: depth, pool size and signature checks during path search.
const MAX_PATH = 8;
const MAX_UNTRUSTED = 16;
const MAX_SIGNATURE_CHECKS = 256;

interface Node {
  readonly cert: X509Certificate;
  readonly raw: RawCertificate;
  readonly anchor: boolean;
}

function describe(cert: X509Certificate): string {
  return cert.subject === '' ? `certificate ${cert.serialNumber}` : `"${cert.subject}"`;
}

function publicKeyOf(cert: X509Certificate): KeyObject | undefined {
  try {
    return createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** Why `issuer` cannot sign `child` (signature, algorithm strength), or undefined when it can. */
function signatureProblem(child: Node, issuer: Node): string | undefined {
  const key = publicKeyOf(issuer.cert);
  if (key === undefined) return `the key of ${describe(issuer.cert)} is not usable`;
  try {
    const ok = verifyAlgorithmSignature({
      algorithm: child.raw.sigAlg,
      parameters: child.raw.sigParams,
      publicKey: key,
      data: child.raw.tbs,
      signature: child.raw.signature,
    });
    return ok ? undefined : `the signature on ${describe(child.cert)} does not verify`;
  } catch (e) {
    if (e instanceof VouchError) return `the signature on ${describe(child.cert)}: ${e.message}`;
    throw e;
  }
}

function unhandledCritical(cert: X509Certificate): string | undefined {
  const ext = cert.extensions.find((e) => e.critical && !HANDLED_CRITICAL.has(e.type));
  return ext === undefined ? undefined : `${describe(cert)} has an unhandled critical extension ${ext.type}`;
}

/** RFC 5280 §4.2.1.9 / §4.2.1.3: may `issuer` sign certificates, given the intermediates already below it? */
function issuerProblem(issuer: Node, below: readonly Node[]): string | undefined {
  const bc = issuer.cert.getExtension(x509Lib().BasicConstraintsExtension);
  if (bc === null || !bc.ca) return `issuer ${describe(issuer.cert)} is not a CA`;
  const ku = issuer.cert.getExtension(x509Lib().KeyUsagesExtension);
  if (ku !== null && (ku.usages & x509Lib().KeyUsageFlags.keyCertSign) === 0) {
    return `issuer ${describe(issuer.cert)} lacks keyCertSign`;
  }
  if (bc.pathLength !== undefined) {
    // Intermediates that follow this CA, excluding the leaf and self-issued certificates.
    const intermediates = below.slice(1).filter((n) => !bytesEqual(n.raw.subject, n.raw.issuer)).length;
    if (intermediates > bc.pathLength) {
      return `issuer ${describe(issuer.cert)} allows ${bc.pathLength} intermediates below it, found ${intermediates}`;
    }
  }
  return unhandledCritical(issuer.cert);
}

/** AKI/SKI (RFC 5280 §4.2.1.1) only narrow the search; a mismatch when both are present rules a candidate out. */
function keyIdsDisagree(child: X509Certificate, issuer: X509Certificate): boolean {
  const aki = child.getExtension(x509Lib().AuthorityKeyIdentifierExtension)?.keyId;
  const ski = issuer.getExtension(x509Lib().SubjectKeyIdentifierExtension)?.keyId;
  return aki !== undefined && ski !== undefined && aki.toLowerCase() !== ski.toLowerCase();
}

function validAt(cert: X509Certificate, at: Date): boolean {
  // RFC 5280 §4.1.2.5: both bounds are inclusive.
  return cert.notBefore.getTime() <= at.getTime() && at.getTime() <= cert.notAfter.getTime();
}

function checkEku(path: readonly Node[], eku: string): void {
  const [leaf, ...cas] = path;
  const leafUsages = leaf?.cert.getExtension(x509Lib().ExtendedKeyUsageExtension)?.usages ?? [];
  if (!leafUsages.map(String).includes(eku)) {
    throw new VouchError('ERR_CERT_EKU', `the certificate does not carry extended key usage ${eku}`);
  }
  // As Go's crypto/x509 does: an EKU on a CA constrains what it may issue for.
  for (const ca of cas) {
    const usages = ca.cert.getExtension(x509Lib().ExtendedKeyUsageExtension)?.usages.map(String);
    if (usages !== undefined && !usages.includes(eku) && !usages.includes(EKU_ANY)) {
      throw new VouchError('ERR_CERT_EKU', `CA ${describe(ca.cert)} is not allowed to issue for ${eku}`);
    }
  }
}

/**
 * Builds and validates a path from the leaf (`certificates[0]`) to one of `anchors`, using the other
 * certificates as untrusted intermediates in any order. Every certificate on the path, the anchor included,
 * must be valid at `at`; issuers must be CAs with keyCertSign within their pathLen; every signature on the
 * path is checked with node:crypto. SHA-1/MD5 signatures and RSA keys under 2048 bits on the path are refused
 * as ERR_CERT_CHAIN (a verification failure of this chain, not a usage error), naming the reason.
 * The certificates are attacker-controlled: the search is bounded in depth, pool size and signature checks.
 */
export async function verifyCertificateChain(o: {
  certificates: readonly Uint8Array[];
  anchors: readonly Uint8Array[];
  at: Date;
  requiredEku?: string;
}): Promise<X509Certificate[]> {
  if (Number.isNaN(o.at.getTime())) throw new TypeError('verifyCertificateChain: invalid date');
  const [leafDer, ...untrusted] = o.certificates;
  if (leafDer === undefined) throw new VouchError('ERR_CERT_CHAIN', 'no certificate to verify');
  if (o.anchors.length === 0) throw new VouchError('ERR_CERT_CHAIN', 'no trusted certificate given');
  if (untrusted.length > MAX_UNTRUSTED) {
    throw new VouchError('ERR_CERT_CHAIN', `too many untrusted certificates (limit ${MAX_UNTRUSTED})`);
  }
  const anchors = o.anchors.map((der, i) => fromDer(der, `trusted certificate #${i + 1}`));
  const isAnchor = (der: Uint8Array): boolean => anchors.some((a) => bytesEqual(a.raw.der, der));
  const node = ({ cert, raw }: { cert: X509Certificate; raw: RawCertificate }): Node => ({
    cert,
    raw,
    anchor: isAnchor(raw.der),
  });
  const leaf = node(fromDer(leafDer, 'certificate'));
  const pool: Node[] = [];
  // Anchors first: the shortest path wins, and an anchor ends the search.
  for (const parsed of [...anchors, ...untrusted.map((d, i) => fromDer(d, `chain certificate #${i + 2}`))]) {
    const n = node(parsed);
    if (!pool.some((p) => bytesEqual(p.raw.der, n.raw.der))) pool.push(n);
  }

  const leafProblem = unhandledCritical(leaf.cert);
  if (leafProblem !== undefined) throw new VouchError('ERR_CERT_CHAIN', leafProblem);

  const reasons: string[] = [];
  let expired: X509Certificate | undefined;
  let checks = 0;
  const search = (path: Node[]): Node[] | undefined => {
    const current = path[path.length - 1] as Node;
    if (current.anchor) {
      const invalid = path.find((n) => !validAt(n.cert, o.at));
      if (invalid === undefined) return path;
      expired ??= invalid.cert;
      return undefined;
    }
    if (path.length >= MAX_PATH) {
      reasons.push(`path longer than ${MAX_PATH} certificates`);
      return undefined;
    }
    for (const candidate of pool) {
      if (path.some((n) => n === candidate)) continue;
      if (!bytesEqual(candidate.raw.subject, current.raw.issuer)) continue;
      if (keyIdsDisagree(current.cert, candidate.cert)) continue;
      if (++checks > MAX_SIGNATURE_CHECKS)
        throw new VouchError('ERR_CERT_CHAIN', 'path search limit reached');
      const problem = signatureProblem(current, candidate) ?? issuerProblem(candidate, path);
      if (problem !== undefined) {
        reasons.push(problem);
        continue;
      }
      const found = search([...path, candidate]);
      if (found !== undefined) return found;
    }
    return undefined;
  };

  const path = search([leaf]);
  if (path === undefined) {
    if (expired !== undefined) {
      const c = expired;
      throw new VouchError(
        'ERR_CERT_VALIDITY',
        `${describe(c)} is valid from ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}, not at ${o.at.toISOString()}`,
        { details: { notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() } },
      );
    }
    const why = reasons.length > 0 ? [...new Set(reasons)].join('; ') : 'no issuer found';
    throw new VouchError('ERR_CERT_CHAIN', `no path to a trusted certificate: ${why}`);
  }
  if (o.requiredEku !== undefined) checkEku(path, o.requiredEku);
  return path.map((n) => n.cert);
}
