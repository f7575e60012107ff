import { X509Certificate } from 'node:crypto';
import { VouchError } from '../core/index.js';
import { EKU_CODE_SIGNING, verifyCertificateChain } from '../crypto/index.js';
import { reject } from './check.js';
import { type CertificateFields, certificateFields, type Extension, readTlv } from './der.js';
import type { CertificateAuthority } from './trusted-root.js';

/**
 * Chaining a signing certificate to a trusted-root CA. A CA's own chain (intermediates up to its root) is the
 * same for every bundle, so it is parsed and validated once, by `verifyCertificateChain` (RFC 5280 §6.1 as
 * crypto implements it). A leaf then costs one link: issued by the CA's first certificate (names and key
 * identifiers), its signature, its critical extensions and code signing usage. Leaves outside that shape (a
 * CA chain in another order, RSA-PSS or unusual algorithms) take the full path search instead.
 */

/** A signing certificate, parsed once per bundle. */
export interface Leaf {
  readonly der: Uint8Array;
  readonly cert: X509Certificate;
  readonly fields: CertificateFields;
}

export interface PreparedCa {
  readonly authority: CertificateAuthority;
  readonly root: Uint8Array;
  readonly intermediates: readonly Uint8Array[];
  /** The first certificate of the chain: the issuer of Fulcio leaves. */
  readonly issuer: X509Certificate;
  readonly issuerDer: Uint8Array;
  /** `[notBefore, notAfter]` of every certificate of the CA chain, in ms (RFC 5280 §4.1.2.5, inclusive). */
  readonly windows: readonly (readonly [number, number])[];
  /** Why leaves cannot take the one-link path under this CA, if they cannot. */
  readonly slowPathReason: string | undefined;
  /** The CA chain's own validation, run once on first use. */
  validated?: Promise<void>;
}

const EKU_ANY = '2.5.29.37.0';
const OID_KEY_USAGE = '2.5.29.15';
/** Extensions the one-link check enforces or that constrain nothing; any other critical one rejects (§4.2). */
const HANDLED_CRITICAL = new Set([
  OID_KEY_USAGE,
  '2.5.29.17', // subjectAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.37', // extKeyUsage
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
]);
/** ECDSA and PKCS#1 v1.5 with SHA-2, and Ed25519: signatures OpenSSL checks with no parameters to vet. */
const ONE_LINK_ALGORITHMS = new Set([
  '1.2.840.10045.4.3.2',
  '1.2.840.10045.4.3.3',
  '1.2.840.10045.4.3.4',
  '1.2.840.113549.1.1.11',
  '1.2.840.113549.1.1.12',
  '1.2.840.113549.1.1.13',
  '1.3.101.112',
]);
const RSA_MIN_BITS = 2048;

/** RFC 5280 §4.2.1.3 keyUsage: bit 5 is keyCertSign. Absent means unrestricted. */
function allowsCertSign(ext: Extension | undefined): boolean {
  if (ext === undefined) return true;
  const bits = readTlv(ext.value, 0);
  return (
    bits.tag === 0x03 && bits.end - bits.start >= 2 && ((ext.value[bits.start + 1] as number) & 0x04) !== 0
  );
}

/** Why the first certificate of a CA chain cannot issue code signing leaves on the one-link path. */
function issuerProblem(issuer: X509Certificate, keyUsage: Extension | undefined): string | undefined {
  if (!issuer.ca) return 'its first certificate is not a CA';
  if (!allowsCertSign(keyUsage)) return 'its first certificate lacks keyCertSign';
  const eku = issuer.keyUsage;
  // As Go's crypto/x509: an EKU on a CA constrains the leaves it may issue.
  if (eku !== undefined && !eku.includes(EKU_CODE_SIGNING) && !eku.includes(EKU_ANY)) {
    return 'its first certificate may not issue code signing certificates';
  }
  const key = issuer.publicKey;
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < RSA_MIN_BITS) {
    return 'its key is a weak RSA key';
  }
  return undefined;
}

/**
 * Parses a trusted-root CA once. Its certificates are trusted input, but a root that does not parse is
 * ERR_TRUST_ROOT_MALFORMED (raised when a leaf needs this CA, so other CAs keep working).
 */
export function prepareCa(authority: CertificateAuthority): PreparedCa {
  const issuerDer = authority.certChain[0] as Uint8Array;
  try {
    const fields = authority.certChain.map((der) => certificateFields(der));
    const issuer = new X509Certificate(issuerDer);
    return {
      authority,
      root: authority.certChain[authority.certChain.length - 1] as Uint8Array,
      intermediates: authority.certChain.slice(0, -1),
      issuer,
      issuerDer,
      windows: fields.map((f) => [f.notBefore.getTime(), f.notAfter.getTime()] as const),
      slowPathReason: issuerProblem(
        issuer,
        fields[0]?.extensions.find((e) => e.oid === OID_KEY_USAGE),
      ),
    };
  } catch (e) {
    throw new VouchError(
      'ERR_TRUST_ROOT_MALFORMED',
      `trusted root CA ${authority.uri} has a malformed certificate`,
      {
        cause: e,
        details: { check: 'certificate.chain' },
      },
    );
  }
}

/**
 * Validates the CA chain itself once (signatures, CA flags, path lengths, critical extensions), at a time
 * when all its certificates are valid; per-bundle times are then checked against `windows`.
 */
function validateCa(ca: PreparedCa): Promise<void> {
  ca.validated ??= (async () => {
    const from = Math.max(...ca.windows.map((w) => w[0]));
    const to = Math.min(...ca.windows.map((w) => w[1]));
    if (from > to) {
      throw reject(
        'ERR_CERT_CHAIN',
        'certificate.chain',
        `the chain of CA ${ca.authority.uri} is never valid at once`,
      );
    }
    await verifyCertificateChain({
      certificates: ca.intermediates.length === 0 ? [ca.root] : ca.intermediates,
      anchors: [ca.root],
      at: new Date(from),
    });
  })();
  return ca.validated;
}

function criticalProblem(fields: CertificateFields): string | undefined {
  const ext = fields.extensions.find((e) => e.critical && !HANDLED_CRITICAL.has(e.oid));
  return ext === undefined ? undefined : `the certificate has an unhandled critical extension ${ext.oid}`;
}

/** True when the leaf names this CA's first certificate as its issuer (names and key identifiers). */
export function issuedBy(leaf: Leaf, ca: PreparedCa): boolean {
  return leaf.cert.checkIssued(ca.issuer);
}

/**
 * Chains `leaf` to `ca` at time `at` with code signing usage and returns the DER of the leaf's issuer (for
 * SCTs). `linked` holds the CAs this leaf already chained to in this verification, so a second verified time
 * costs only the validity comparison. ERR_CERT_CHAIN / ERR_CERT_VALIDITY / ERR_CERT_EKU / ERR_ALG_WEAK as the
 * path fails. The leaf is attacker-controlled: nothing in it counts before its signature verified.
 */
export async function chainLeaf(
  leaf: Leaf,
  ca: PreparedCa,
  at: Date,
  linked: Map<PreparedCa, Uint8Array>,
): Promise<Uint8Array> {
  await validateCa(ca);
  const t = at.getTime();
  if (ca.windows.some(([from, to]) => t < from || t > to)) {
    throw reject(
      'ERR_CERT_VALIDITY',
      'certificate.chain',
      `a certificate of CA ${ca.authority.uri} is not valid at ${at.toISOString()}`,
    );
  }
  const known = linked.get(ca);
  if (known !== undefined) return known;
  const oneLink =
    ca.slowPathReason === undefined &&
    leaf.fields.algorithmsAgree &&
    ONE_LINK_ALGORITHMS.has(leaf.fields.signatureAlgorithm) &&
    issuedBy(leaf, ca);
  if (!oneLink) {
    // Not memoised: the full search checks every certificate's validity at this time.
    const path = await verifyCertificateChain({
      certificates: [leaf.der, ...ca.intermediates],
      anchors: [ca.root],
      at,
      requiredEku: EKU_CODE_SIGNING,
    });
    const issuer = path[1];
    if (issuer === undefined)
      throw reject('ERR_CERT_CHAIN', 'certificate.chain', 'the signing certificate is a root');
    return new Uint8Array(issuer.rawData);
  }
  if (!leaf.cert.verify(ca.issuer.publicKey)) {
    throw reject(
      'ERR_CERT_CHAIN',
      'certificate.chain',
      `the certificate's signature does not verify under CA ${ca.authority.uri}`,
    );
  }
  const critical = criticalProblem(leaf.fields);
  if (critical !== undefined) throw reject('ERR_CERT_CHAIN', 'certificate.chain', critical);
  if (!(leaf.cert.keyUsage ?? []).includes(EKU_CODE_SIGNING)) {
    throw reject(
      'ERR_CERT_EKU',
      'certificate.chain',
      `the certificate does not carry extended key usage ${EKU_CODE_SIGNING}`,
    );
  }
  linked.set(ca, ca.issuerDer);
  return ca.issuerDer;
}
