import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { bytesEqual, type DigestAlgorithm, digestBytes, toHex, VouchError } from '../core/index.js';
import {
  type Algorithm,
  type Artifact,
  algorithmForKey,
  artifactDigest,
  keyIdOf,
  verifyArtifact,
} from '../crypto/index.js';
import {
  assertSubjectMatches,
  type Bundle,
  type DsseEnvelope,
  type HashOutput,
  INTOTO_PAYLOAD_TYPE,
  type MessageSignature,
  pae,
  parseStatement,
  type Statement,
  type TransparencyLogEntry,
  verifyDsse,
} from '../envelope/index.js';
import { parseRfc3161Timestamp, verifyRfc3161Timestamp } from '../tsa/index.js';
import { reject, run, step, tag } from './check.js';
import { certificateFields } from './der.js';
import { chainLeaf, issuedBy, type Leaf, type PreparedCa, prepareCa } from './fulcio.js';
import {
  type CompiledIdentityPolicy,
  compileIdentityPolicy,
  type FulcioExtensions,
  type IdentityPolicy,
  identityFromExtensions,
  matchIdentity,
} from './identity.js';
import { type BoundContent, type BoundSigner, checkBinding, parseEntryBody } from './rekor.js';
import { verifyEmbeddedScts } from './sct.js';
import { findLog, inRange, type PreparedLog, prepareLog, verifyEntryInclusion, verifySet } from './tlog.js';
import type {
  CertificateAuthority,
  TimeRange,
  TransparencyLogInstance,
  TrustedRoot,
} from './trusted-root.js';

/**
 * The Sigstore bundle verifier: deny by default, every failure a `VouchError` with a specific code and
 * `details.check` naming the check that failed. Rules follow the Sigstore client spec as sigstore-go and
 * sigstore-js implement it (see docs/decisions/005-sigstore-verifier.md), offline only.
 */

export interface VerifyOptions {
  /** CAs, transparency logs, CT logs and TSAs to trust: required for certificate bundles. */
  readonly trustedRoot?: TrustedRoot;
  /** A managed (self-managed) key, for bundles that carry a public key hint instead of a certificate. */
  readonly key?: KeyObject;
  /** Who may have signed a certificate bundle. Required for certificate bundles unless `allowAnyIdentity`. */
  readonly identity?: IdentityPolicy;
  /** Accept any certificate identity the trusted CAs issued. Dangerous: anyone can get such a certificate. */
  readonly allowAnyIdentity?: boolean;
  /** Vouch never contacts the network; kept for cosign flag parity. */
  readonly offline?: boolean;
  /** Verified transparency log entries required (default 1, as sigstore-go and cosign). */
  readonly tlogThreshold?: number;
  /** Verified SCTs required on a certificate (default 1). */
  readonly ctlogThreshold?: number;
  /** Verified timestamps required: SET-verified integrated times plus RFC 3161 tokens (default 1). */
  readonly timestampThreshold?: number;
}

export type VerifiedSigner =
  | { readonly kind: 'key'; readonly keyId: string }
  | {
      readonly kind: 'certificate';
      /** The SAN that satisfied the identity policy (the first SAN under `allowAnyIdentity`). */
      readonly subject: string;
      readonly issuer?: string;
      readonly sans: readonly string[];
      /** Fulcio extensions by name (`sourceRepositoryURI`, `buildSignerURI`, ...). */
      readonly extensions: FulcioExtensions;
      readonly notBefore: Date;
      readonly notAfter: Date;
      /** URI of the trusted CA the certificate chains to. */
      readonly ca: string;
    };

export interface VerifiedTimestamp {
  readonly source: 'tlog' | 'tsa';
  readonly time: Date;
  /** The log (base URL) or TSA (URI) that vouched for it. */
  readonly authority: string;
}

export interface Check {
  readonly id: string;
  readonly ok: true;
  readonly detail: string;
}

export interface VerificationResult {
  readonly signer: VerifiedSigner;
  readonly timestamps: readonly VerifiedTimestamp[];
  /** Transparency log entries verified and bound to this bundle. */
  readonly tlogEntries: number;
  /** The in-toto statement of a DSSE bundle, once its signature verified. */
  readonly statement?: Statement;
  /** Every check that ran, in order; skipped checks say so here. */
  readonly checks: readonly Check[];
}

// ---------------------------------------------------------------------------------------------------------
// Trust material, prepared once per trusted root: keys, log verifiers and CA chains are parsed a single time
// however many bundles are verified against it.

/** A trusted CA, prepared once; a CA whose certificates do not parse fails when a leaf needs it. */
type CaSlot = { readonly authority: CertificateAuthority } & (
  | { readonly ca: PreparedCa; readonly error?: undefined }
  | { readonly ca?: undefined; readonly error: unknown }
);

interface PreparedTrust {
  readonly logs: ReadonlyMap<string, PreparedLog>;
  readonly cas: readonly CaSlot[];
  readonly ctlogs: readonly { logId: Uint8Array; publicKey: KeyObject; validFor: TimeRange }[];
  readonly tsas: readonly CertificateAuthority[];
}

const prepared = new WeakMap<TrustedRoot, PreparedTrust>();

function prepare(root: TrustedRoot): PreparedTrust {
  const cached = prepared.get(root);
  if (cached !== undefined) return cached;
  const logs = new Map<string, PreparedLog>();
  for (const t of root.tlogs) logs.set(toHex(t.logId), prepareLog(t));
  const p: PreparedTrust = {
    logs,
    cas: root.certificateAuthorities.map((authority): CaSlot => {
      try {
        return { authority, ca: prepareCa(authority) };
      } catch (error) {
        return { authority, error };
      }
    }),
    ctlogs: root.ctlogs.map((c: TransparencyLogInstance) => ({
      logId: c.logId,
      publicKey: c.publicKey,
      validFor: c.validFor,
    })),
    tsas: root.timestampAuthorities,
  };
  prepared.set(root, p);
  return p;
}

function threshold(value: number | undefined, name: string): number {
  const v = value ?? 1;
  if (!Number.isInteger(v) || v < 0)
    throw reject('ERR_USAGE', 'options', `${name} must be a whole number ≥ 0`);
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// The signer: a managed key, or a certificate to be chained to a trusted CA.

interface CertificateSigner {
  readonly kind: 'certificate';
  readonly der: Uint8Array;
  readonly leaf: Leaf;
  readonly key: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly policy: CompiledIdentityPolicy | undefined;
}

interface KeySigner {
  readonly kind: 'publicKey';
  readonly key: KeyObject;
}

function parseX509(der: Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw new VouchError('ERR_CERT_MALFORMED', `${what} is not a valid X.509 certificate`, { cause: e });
  }
}

function resolveSigner(bundle: Bundle, o: VerifyOptions): CertificateSigner | KeySigner {
  const vk = bundle.verificationMaterial.key;
  if (vk.kind === 'publicKey') {
    if (o.key === undefined) {
      throw reject(
        'ERR_VERIFY_NO_TRUST',
        'key',
        `the bundle was signed with a managed key${vk.hint === '' ? '' : ` (hint ${vk.hint})`}; give its public key`,
      );
    }
    return { kind: 'publicKey', key: o.key };
  }
  if (o.trustedRoot === undefined) {
    throw reject('ERR_VERIFY_NO_TRUST', 'certificate.chain', 'a certificate bundle needs a trusted root');
  }
  let policy: CompiledIdentityPolicy | undefined;
  const identity = o.identity;
  if (identity !== undefined) policy = run('identity', () => compileIdentityPolicy(identity));
  else if (o.allowAnyIdentity !== true) {
    throw reject(
      'ERR_USAGE',
      'identity',
      'a certificate bundle needs an identity policy (subject and issuer), or allowAnyIdentity',
    );
  }
  const chain = vk.kind === 'certificate' ? [vk.certificate] : vk.certificates;
  const [der, ...rest] = chain;
  if (der === undefined) throw reject('ERR_BUNDLE_MALFORMED', 'bundle', 'the certificate chain is empty');
  // v0.1/v0.2 chains may carry intermediates, never the root: trust comes from the trusted root alone
  // (protobuf-specs X509CertificateChain; sigstore-python rejects it too). The intermediates are not used.
  for (const [i, c] of rest.entries()) {
    const x = parseX509(c, `chain certificate #${i + 2}`);
    if (x.checkIssued(x)) {
      throw reject(
        'ERR_CERT_CHAIN',
        'certificate.chain',
        "the bundle's certificate chain includes a self-signed (root) certificate",
      );
    }
  }
  const cert = parseX509(der, 'signing certificate');
  const fields = certificateFields(der);
  // Node parses the leaf's key lazily; a certificate whose SPKI is corrupt throws only here (attacker input).
  const key = run('certificate', () => {
    try {
      return cert.publicKey;
    } catch (e) {
      throw new VouchError('ERR_CERT_MALFORMED', "the signing certificate's public key cannot be parsed", {
        cause: e,
      });
    }
  });
  if (o.key !== undefined && !o.key.equals(key)) {
    throw reject('ERR_KEY_MISMATCH', 'key', 'the signing certificate does not hold the given key');
  }
  return {
    kind: 'certificate',
    der,
    leaf: { der, cert, fields },
    key,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    policy,
  };
}

const HINT_ALGORITHMS: Readonly<Record<string, DigestAlgorithm>> = {
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
};

/**
 * The algorithms a message signature by `key` may use. RSA is ambiguous: Sigstore and cosign sign PKCS#1
 * v1.5, Vouch signs PSS. ECDSA uses its curve's hash (protobuf-specs PublicKeyDetails), but sigstore-js signs
 * and verifies with the hash the messageDigest names, so that SHA-2 hash is tried as well. The key is the
 * trusted one either way; only the SHA-2 function in front of it varies. A digest-only artifact fixes the hash.
 */
function algorithmsFor(key: KeyObject, hint: HashOutput | undefined, artifact: Artifact): Algorithm[] {
  const alg = algorithmForKey(key, 'pkcs1');
  let all = [alg];
  if (alg.keyType === 'rsa') all = [alg, algorithmForKey(key, 'pss')];
  const h = hint === undefined ? undefined : HINT_ALGORITHMS[hint.algorithm];
  if (alg.keyType === 'ec' && (h === 'sha256' || h === 'sha384') && h !== alg.hash)
    all = [alg, { ...alg, hash: h }];
  if (artifact.kind !== 'digest') return all;
  const usable = all.filter((a) => a.hash === artifact.algorithm);
  // None: verifyArtifact explains why this key needs another digest, or the bytes.
  return usable.length > 0 ? usable : [alg];
}

// ---------------------------------------------------------------------------------------------------------
// Content: the signature over the artifact (message signature) or over PAE (DSSE), and the artifact binding.

interface ContentResult {
  readonly bound: BoundContent;
  readonly statement?: Statement;
}

async function verifyMessage(
  ms: MessageSignature,
  artifact: Artifact | undefined,
  key: KeyObject,
  checks: Check[],
): Promise<ContentResult> {
  if (artifact === undefined) {
    throw reject(
      'ERR_USAGE',
      'signature',
      'a message signature bundle is verified against its artifact; give it',
    );
  }
  const digests = new Map<DigestAlgorithm, Promise<Uint8Array>>();
  const digest = (alg: DigestAlgorithm): Promise<Uint8Array> => {
    let d = digests.get(alg);
    if (d === undefined) {
      d = artifactDigest(artifact, alg);
      digests.set(alg, d);
    }
    return d;
  };
  let valid = false;
  let used: Algorithm | undefined;
  for (const alg of algorithmsFor(key, ms.messageDigest, artifact)) {
    const r = await step('signature', () => verifyArtifact(alg, key, artifact, ms.signature));
    if (r.sha256 !== undefined && !digests.has('sha256')) digests.set('sha256', Promise.resolve(r.sha256));
    if (r.valid) {
      valid = true;
      used = alg;
      break;
    }
  }
  // protobuf-specs: messageDigest is an unauthenticated hint, but one that disagrees with the artifact
  // means the wrong artifact (or a tampered bundle): say so rather than "bad signature".
  const hint = ms.messageDigest;
  if (hint !== undefined) {
    const alg = HINT_ALGORITHMS[hint.algorithm] as DigestAlgorithm;
    const known = artifact.kind !== 'digest' || artifact.algorithm === alg;
    if (known && !bytesEqual(await step('artifact', () => digest(alg)), hint.digest)) {
      throw reject(
        'ERR_DIGEST_MISMATCH',
        'artifact',
        `the artifact's ${alg} digest is not the bundle's message digest`,
      );
    }
  }
  if (!valid || used === undefined) {
    throw reject('ERR_SIGNATURE_INVALID', 'signature', 'the signature does not verify over the artifact');
  }
  checks.push({ id: 'signature', ok: true, detail: `${used.id} signature over the artifact verified` });
  if (hint !== undefined) {
    checks.push({ id: 'artifact', ok: true, detail: "the artifact matches the bundle's message digest" });
  }
  return {
    bound: { kind: 'messageSignature', signature: ms.signature, digest },
  };
}

const SUBJECT_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512', 'sha384'];

/** The digest of the artifact to look for among the subjects: the given one, else the first the subjects use. */
async function subjectDigest(
  st: Statement,
  artifact: Artifact,
): Promise<{ algorithm: DigestAlgorithm; digest: Uint8Array }> {
  if (artifact.kind === 'digest') return { algorithm: artifact.algorithm, digest: artifact.digest };
  const algorithm =
    SUBJECT_ALGORITHMS.find((a) => st.subject.some((s) => Object.hasOwn(s.digest, a))) ?? 'sha256';
  return { algorithm, digest: await artifactDigest(artifact, algorithm) };
}

async function verifyEnvelope(
  env: DsseEnvelope,
  artifact: Artifact | undefined,
  key: KeyObject,
  checks: Check[],
): Promise<ContentResult> {
  const [sig] = env.signatures;
  if (sig === undefined || env.signatures.length !== 1) {
    // protobuf-specs Bundle.dsse_envelope: a client MUST reject an envelope without exactly one signature.
    throw reject('ERR_BUNDLE_MALFORMED', 'bundle', 'the DSSE envelope must hold exactly one signature');
  }
  run('signature', () => verifyDsse(env, [{ key }], 1));
  checks.push({ id: 'signature', ok: true, detail: `DSSE signature over ${env.payloadType} verified` });
  let statement: Statement | undefined;
  if (env.payloadType === INTOTO_PAYLOAD_TYPE) {
    statement = run('artifact', () => parseStatement(env.payload));
  }
  if (artifact === undefined) {
    checks.push({ id: 'artifact', ok: true, detail: 'no artifact given: the envelope was not bound to one' });
  } else if (statement === undefined) {
    throw reject(
      'ERR_DSSE_PAYLOAD_TYPE',
      'artifact',
      `an artifact can only be bound to an in-toto statement, not a ${env.payloadType} payload`,
    );
  } else {
    const st = statement;
    const d = await step('artifact', () => subjectDigest(st, artifact));
    const subject = run('artifact', () => assertSubjectMatches(st, d));
    checks.push({
      id: 'artifact',
      ok: true,
      detail: `the artifact is subject ${subject.name ?? '(unnamed)'} (${d.algorithm}:${toHex(d.digest)})`,
    });
  }
  const paeSha256 = createHash('sha256').update(pae(env.payloadType, env.payload)).digest();
  return {
    bound: {
      kind: 'dsseEnvelope',
      signature: sig.sig,
      digest: async (alg) => digestBytes(alg, env.payload),
      paeSha256,
      payloadType: env.payloadType,
      payload: env.payload,
    },
    ...(statement === undefined ? {} : { statement }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Timestamps and transparency log entries.

async function verifyTsaTimestamps(
  bundle: Bundle,
  signature: Uint8Array,
  trust: PreparedTrust,
  checks: Check[],
): Promise<VerifiedTimestamp[]> {
  const tokens = bundle.verificationMaterial.rfc3161Timestamps;
  const out: VerifiedTimestamp[] = [];
  // A repeated token must not count twice towards the threshold. Its bytes are no identity: a bare token and
  // the TimeStampResp around it, or a token with other (unsigned) embedded certificates, verify alike. The
  // serial number is: RFC 3161 §2.4.2 makes it unique per TSA, and it is inside the signed TSTInfo.
  const seen = new Set<string>();
  for (const [i, der] of tokens.entries()) {
    // RFC 3161 tokens in a bundle cover the signature bytes (protobuf-specs TimestampVerificationData).
    const r = await step('timestamp.tsa', () => verifyRfc3161Timestamp(der, signature, trust.tsas));
    // The authority is the trust root's own object, so it is found by identity.
    const authority = trust.tsas.findIndex((a) => a === r.authority);
    const id = `${authority}:${parseRfc3161Timestamp(der).serialNumber}`;
    if (seen.has(id)) {
      throw reject('ERR_BUNDLE_MALFORMED', 'timestamp.tsa', `RFC 3161 timestamp #${i + 1} is a duplicate`);
    }
    seen.add(id);
    const uri = trust.tsas[authority]?.uri ?? '';
    out.push({ source: 'tsa', time: r.genTime, authority: uri });
    checks.push({
      id: 'timestamp.tsa',
      ok: true,
      detail: `RFC 3161 timestamp ${r.genTime.toISOString()} from ${uri || 'a trusted TSA'} verified`,
    });
  }
  return out;
}

async function verifyTlogEntries(
  bundle: Bundle,
  content: BoundContent,
  signer: BoundSigner,
  tsaTimes: readonly VerifiedTimestamp[],
  trust: PreparedTrust,
  checks: Check[],
): Promise<{ count: number; times: VerifiedTimestamp[] }> {
  const entries = bundle.verificationMaterial.tlogEntries;
  const times: VerifiedTimestamp[] = [];
  for (const [i, entry] of entries.entries()) {
    // Duplicates could otherwise satisfy a threshold with a single entry (sigstore-go). An entry is the same
    // body in the same log: `logIndex` is no identity, since without a SET nothing signs it.
    if (
      entries
        .slice(0, i)
        .some(
          (e) => bytesEqual(e.logId, entry.logId) && bytesEqual(e.canonicalizedBody, entry.canonicalizedBody),
        )
    ) {
      throw reject('ERR_BUNDLE_MALFORMED', 'tlog', `transparency log entry #${i + 1} is a duplicate`);
    }
    const log = run('tlog', () => findLog(trust.logs, entry));
    const body = run('tlog.body', () => parseEntryBody(entry.canonicalizedBody, entry.kindVersion));
    await step('tlog.body', () => checkBinding(body, content, signer));
    const proofs: string[] = [];
    if (entry.inclusionPromise !== undefined) {
      const time = run('tlog.set', () => verifySet(entry, log));
      times.push({ source: 'tlog', time, authority: log.instance.baseUrl });
      proofs.push(`signed entry timestamp (${time.toISOString()})`);
    } else {
      checkLogKeyAt(log, entry, tsaTimes);
    }
    if (entry.inclusionProof !== undefined) {
      run('tlog.inclusion', () => verifyEntryInclusion(entry, log));
      proofs.push(`inclusion proof (tree size ${entry.inclusionProof.treeSize})`);
    }
    if (proofs.length === 0) {
      throw reject(
        'ERR_TLOG_INCLUSION',
        'tlog.inclusion',
        `transparency log entry #${i + 1} has neither an inclusion proof nor a signed entry timestamp`,
      );
    }
    checks.push({
      id: 'tlog',
      ok: true,
      // Only a SET signs the entry's own logIndex; otherwise name the index the inclusion proof verified.
      detail: `${body.kind} ${body.version} entry ${entry.inclusionPromise !== undefined ? entry.logIndex : `at leaf ${entry.inclusionProof?.logIndex ?? '?'}`} in ${log.name}: ${proofs.join(' and ')} verified, bound to this bundle`,
    });
  }
  return { count: entries.length, times };
}

/**
 * An entry without a SET carries no time (Rekor v2): its log key must then be valid at the times the TSAs
 * vouch for (or now, when there are none), so that a retired log key cannot admit new entries.
 */
function checkLogKeyAt(
  log: PreparedLog,
  entry: TransparencyLogEntry,
  tsaTimes: readonly VerifiedTimestamp[],
): void {
  // With no TSA time at all (a caller that lowered the timestamp threshold), the key must be valid now.
  const times = tsaTimes.length > 0 ? tsaTimes.map((t) => t.time) : [new Date()];
  const outside = times.find((t) => !inRange(log.instance.validFor, t));
  if (outside !== undefined) {
    throw reject(
      'ERR_TLOG_UNTRUSTED',
      'tlog',
      `the key of ${log.name} is not valid at ${outside.toISOString()} (entry ${entry.logIndex})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// The certificate: validity at every verified time, a path to a CA valid then, code signing, SCTs, identity.

async function verifyCertificate(
  signer: CertificateSigner,
  times: readonly Date[],
  trust: PreparedTrust,
  ctlogThreshold: number,
  checks: Check[],
): Promise<{ ca: PreparedCa }> {
  for (const t of times) {
    // RFC 5280 §4.1.2.5: both bounds inclusive. The signing time is only ever a verified timestamp.
    if (t.getTime() < signer.notBefore.getTime() || t.getTime() > signer.notAfter.getTime()) {
      throw reject(
        'ERR_CERT_VALIDITY',
        'certificate.validity',
        `the signing certificate is valid from ${signer.notBefore.toISOString()} to ${signer.notAfter.toISOString()}, not at the verified time ${t.toISOString()}`,
      );
    }
  }
  checks.push({
    id: 'certificate.validity',
    ok: true,
    detail: `valid ${signer.notBefore.toISOString()} – ${signer.notAfter.toISOString()}, at all ${times.length} verified time(s)`,
  });
  let found: { ca: PreparedCa; issuer: Uint8Array } | undefined;
  const linked = new Map<PreparedCa, Uint8Array>();
  for (const t of times) {
    const slots = trust.cas.filter((c) => inRange(c.authority.validFor, t));
    if (slots.length === 0) {
      throw reject(
        'ERR_CERT_CHAIN',
        'certificate.chain',
        `no certificate authority in the trusted root is valid at ${t.toISOString()}`,
      );
    }
    // CAs whose first certificate issued the leaf first: the others can only fail, and slowly.
    const leaf = signer.leaf;
    slots.sort(
      (a, b) =>
        Number(b.ca !== undefined && issuedBy(leaf, b.ca)) -
        Number(a.ca !== undefined && issuedBy(leaf, a.ca)),
    );
    let last: unknown;
    let ok = false;
    for (const slot of slots) {
      try {
        if (slot.ca === undefined) throw slot.error;
        const issuer = await chainLeaf(leaf, slot.ca, t, linked);
        found ??= { ca: slot.ca, issuer };
        ok = true;
        break;
      } catch (e) {
        if (!(e instanceof VouchError)) throw e;
        last = e;
      }
    }
    if (!ok) throw tag(last, 'certificate.chain');
  }
  if (found === undefined) throw new TypeError('verifyCertificate: no verified time');
  const { ca } = found;
  checks.push({
    id: 'certificate.chain',
    ok: true,
    detail: `chains to ${ca.authority.uri || 'a trusted CA'} with code signing usage`,
  });
  if (ctlogThreshold > 0) {
    const issuer = found.issuer;
    const n = run('certificate.sct', () => verifyEmbeddedScts(signer.der, issuer, trust.ctlogs));
    if (n < ctlogThreshold) {
      throw reject(
        'ERR_SCT_MISSING',
        'certificate.sct',
        `${n} verified certificate transparency SCT(s); ${ctlogThreshold} required`,
      );
    }
    checks.push({
      id: 'certificate.sct',
      ok: true,
      detail: `${n} SCT(s) verified (threshold ${ctlogThreshold})`,
    });
  }
  return { ca };
}

// ---------------------------------------------------------------------------------------------------------

/**
 * Verifies a Sigstore bundle against an artifact (file, bytes or `sha256:` digest; optional for DSSE bundles,
 * whose subject is then not checked). Certificate bundles need `trustedRoot` and an identity policy; key
 * bundles need `key`, and with a `trustedRoot` their log entries and timestamps are verified too; without one
 * only the signature is (cosign `--key` with private infrastructure), as `checks` records.
 */
export async function verifyBundle(
  bundle: Bundle,
  artifact: Artifact | undefined,
  o: VerifyOptions = {},
): Promise<VerificationResult> {
  const tlogThreshold = threshold(o.tlogThreshold, 'tlogThreshold');
  const ctlogThreshold = threshold(o.ctlogThreshold, 'ctlogThreshold');
  const timestampThreshold = threshold(o.timestampThreshold, 'timestampThreshold');
  const checks: Check[] = [];

  const signer = run('bundle', () => resolveSigner(bundle, o));
  const c = bundle.content;
  const content =
    c.kind === 'messageSignature'
      ? await verifyMessage(c.messageSignature, artifact, signer.key, checks)
      : await verifyEnvelope(c.dsseEnvelope, artifact, signer.key, checks);
  const bound: BoundSigner =
    signer.kind === 'certificate'
      ? { kind: 'certificate', der: signer.der }
      : { kind: 'publicKey', key: signer.key };

  if (o.trustedRoot === undefined) {
    // Only a managed key gets here (resolveSigner refuses a certificate without a trusted root).
    checks.push({
      id: 'trust',
      ok: true,
      detail:
        'no trusted root: the signature was verified with the given key only; transparency log entries and timestamps were not checked',
    });
    return {
      signer: { kind: 'key', keyId: keyIdOf(signer.key) },
      timestamps: [],
      tlogEntries: 0,
      ...(content.statement === undefined ? {} : { statement: content.statement }),
      checks,
    };
  }
  const trust = prepare(o.trustedRoot);
  const tsa = await verifyTsaTimestamps(bundle, content.bound.signature, trust, checks);
  const tlog = await verifyTlogEntries(bundle, content.bound, bound, tsa, trust, checks);
  if (tlog.count < tlogThreshold) {
    throw reject(
      'ERR_TLOG_MISSING',
      'tlog',
      `${tlog.count} verified transparency log entr${tlog.count === 1 ? 'y' : 'ies'}; ${tlogThreshold} required`,
    );
  }
  const timestamps = [...tlog.times, ...tsa];
  if (timestamps.length < timestampThreshold) {
    throw reject(
      'ERR_TIMESTAMP_MISSING',
      'timestamps',
      `${timestamps.length} verified timestamp(s); ${timestampThreshold} required (a signed entry timestamp or an RFC 3161 timestamp)`,
    );
  }
  checks.push({
    id: 'timestamps',
    ok: true,
    detail: `${timestamps.length} verified timestamp(s) (threshold ${timestampThreshold})`,
  });
  const base = {
    timestamps,
    tlogEntries: tlog.count,
    ...(content.statement === undefined ? {} : { statement: content.statement }),
    checks,
  };
  if (signer.kind === 'publicKey') return { signer: { kind: 'key', keyId: keyIdOf(signer.key) }, ...base };

  if (timestamps.length === 0) {
    throw reject(
      'ERR_TIMESTAMP_MISSING',
      'timestamps',
      'a certificate needs a verified timestamp to be checked at',
    );
  }
  const { ca } = await verifyCertificate(
    signer,
    timestamps.map((t) => t.time),
    trust,
    ctlogThreshold,
    checks,
  );
  const id = run('identity', () => identityFromExtensions(signer.leaf.fields.extensions));
  const matched =
    signer.policy === undefined
      ? { subject: id.sans[0]?.value ?? '', ...(id.issuer === undefined ? {} : { issuer: id.issuer }) }
      : matchIdentity(id, signer.policy);
  checks.push({
    id: 'identity',
    ok: true,
    detail:
      signer.policy === undefined
        ? `any identity allowed; certificate names ${matched.subject}`
        : `${matched.subject}${matched.issuer === undefined ? '' : ` (issuer ${matched.issuer})`} matches the policy`,
  });
  return {
    signer: {
      kind: 'certificate',
      subject: matched.subject,
      ...(matched.issuer === undefined ? {} : { issuer: matched.issuer }),
      sans: id.sans.map((s) => s.value),
      extensions: id.extensions,
      notBefore: signer.notBefore,
      notAfter: signer.notAfter,
      ca: ca.authority.uri,
    },
    ...base,
  };
}
