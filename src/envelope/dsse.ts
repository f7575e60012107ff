import { createPublicKey, type KeyObject, verify as nodeVerify } from 'node:crypto';
import { toBase64, VouchError } from '../core/index.js';
import { type Algorithm, algorithmForKey, keyIdOf, type Signer, verifyBytes } from '../crypto/index.js';
import type { DsseEnvelope, DsseSignature } from './bundle/types.js';
import { Fields, parseDocument, readContext } from './fields.js';

// DSSE v1: github.com/secure-systems-lab/dsse protocol.md (signing, PAE, k-of-n) and envelope.md (JSON form).

/** At most this many signatures are read from a standalone envelope: each costs a signature check per key. */
const MAX_SIGNATURES = 64;

// With the `u` flag a surrogate class matches only unpaired surrogates, which UTF-8 cannot encode: Buffer
// would turn each into U+FFFD, so two different payload types would share one PAE.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Pre-Authentication Encoding (protocol.md): "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, where LEN is
 * the ASCII decimal byte length (UTF-8 bytes for the type). This, never the bare payload, is what is signed.
 */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  if (LONE_SURROGATE.test(payloadType)) throw new TypeError('pae: payloadType is not well-formed Unicode');
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.byteLength} `, 'ascii'),
    type,
    Buffer.from(` ${payload.byteLength} `, 'ascii'),
    payload,
  ]);
}

/** Signs PAE(payloadType, payload) with every signer; each signature's keyid is the signer's key id. */
export async function signDsse(
  payloadType: string,
  payload: Uint8Array,
  signers: readonly Signer[],
): Promise<DsseEnvelope> {
  if (signers.length === 0) throw new TypeError('signDsse: at least one signer is needed');
  const message = pae(payloadType, payload);
  const signatures: DsseSignature[] = [];
  for (const signer of signers) {
    signatures.push({ keyid: signer.keyId, sig: Buffer.from(await signer.sign(message)) });
  }
  return { payload: Buffer.from(payload), payloadType, signatures };
}

/** A trusted verification key; `keyid`, when set, makes it the first key tried for signatures carrying that hint. */
export interface DsseKey {
  keyid?: string;
  key: KeyObject;
}

interface TrustedKey {
  readonly key: KeyObject;
  readonly alg: Algorithm;
  /** The keyids the caller gave for this key. */
  readonly hints: ReadonlySet<string>;
  readonly label: string;
}

/** One entry per distinct public key (SPKI), so listing a key twice cannot make it count twice. */
function distinctKeys(keys: readonly DsseKey[]): TrustedKey[] {
  const bySpki = new Map<string, { key: KeyObject; hints: Set<string>; label: string }>();
  for (const k of keys) {
    if (k.key.type === 'secret') throw new TypeError('verifyDsse: a symmetric key cannot verify signatures');
    const key = k.key.type === 'private' ? createPublicKey(k.key) : k.key;
    const spki = keyIdOf(key);
    const entry = bySpki.get(spki) ?? { key, hints: new Set<string>(), label: k.keyid ?? spki };
    if (k.keyid !== undefined) entry.hints.add(k.keyid);
    bySpki.set(spki, entry);
  }
  return [...bySpki.values()].map((k) => ({ ...k, alg: algorithmForKey(k.key) }));
}

/** ECDSA field size in bytes, for the raw r||s (IEEE P1363) signature form. */
function p1363Length(alg: Algorithm): number {
  return alg.curve === 'secp384r1' ? 96 : 64;
}

/**
 * One signature against one trusted key; false on any failure, never an exception from the crypto library.
 * DSSE leaves the signature format to the parties (protocol.md "Sign()"): ECDSA is accepted in ASN.1 DER (what
 * Sigstore and in-toto tooling emit) and raw r||s (the DSSE reference implementation and its test vector), and
 * an RSA key verifies RSASSA-PSS (salt = digest length) or PKCS#1 v1.5 (Sigstore). The key itself is trusted, so
 * widening the encodings never lets another key's signature through.
 */
function verifyWith(k: TrustedKey, message: Buffer, sig: Uint8Array): boolean {
  if (verifyBytes(k.alg, k.key, message, sig)) return true;
  if (k.alg.keyType === 'rsa') return verifyBytes(algorithmForKey(k.key, 'pkcs1'), k.key, message, sig);
  if (k.alg.keyType === 'ec' && sig.byteLength === p1363Length(k.alg)) {
    try {
      return nodeVerify(k.alg.hash, message, { key: k.key, dsaEncoding: 'ieee-p1363' }, sig);
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * Key indexes to try for a signature: keys whose hints name its keyid first, then the rest. The keyid is an
 * unauthenticated hint that "MUST NOT be used for security decisions" (protocol.md), so it only orders the
 * search; a signer using another keyid scheme (npm's `SHA256:…`, the reference `66301bbf`) still verifies.
 */
function searchOrder(trusted: readonly TrustedKey[], keyid: string): number[] {
  const all = trusted.map((_, i) => i);
  if (keyid === '') return all;
  const named = all.filter((i) => trusted[i]?.hints.has(keyid) === true);
  return [...named, ...all.filter((i) => !named.includes(i))];
}

/**
 * Verifies a (t, n) envelope (protocol.md "Multi-signature Verification"): valid when signatures verify
 * against at least `threshold` distinct trusted keys (keys are deduplicated by SPKI). A key that signed twice
 * counts once and a signature counts for at most one key, whatever its keyid hint says. Returns the ids of the
 * accepted keys (the given `keyid`, else the SPKI SHA-256), in key order. `payloadType` is not checked here:
 * the caller knows which type it expects.
 */
export function verifyDsse(env: DsseEnvelope, keys: readonly DsseKey[], threshold = 1): { keyids: string[] } {
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new TypeError(`verifyDsse: threshold must be a positive integer, got ${threshold}`);
  }
  const trusted = distinctKeys(keys);
  if (threshold > trusted.length) {
    throw new VouchError(
      'ERR_USAGE',
      `a threshold of ${threshold} needs at least ${threshold} distinct trusted keys; ${trusted.length} given`,
    );
  }
  const message = pae(env.payloadType, env.payload);
  const accepted = new Set<number>();
  for (const s of env.signatures) {
    for (const i of searchOrder(trusted, s.keyid)) {
      if (accepted.has(i)) continue;
      if (verifyWith(trusted[i] as TrustedKey, message, s.sig)) {
        accepted.add(i);
        break;
      }
    }
  }
  const keyids = trusted.filter((_, i) => accepted.has(i)).map((k) => k.label);
  if (keyids.length === 0) {
    throw new VouchError('ERR_DSSE_SIGNATURE', 'no DSSE signature verifies with a trusted key', {
      details: { signatures: env.signatures.length, keys: trusted.length },
    });
  }
  if (keyids.length < threshold) {
    throw new VouchError(
      'ERR_DSSE_THRESHOLD',
      `DSSE signatures verify with ${keyids.length} trusted key(s); ${threshold} are required`,
      { details: { valid: keyids.length, threshold, keyids } },
    );
  }
  return { keyids };
}

const DSSE_CONTEXT = readContext('ERR_DSSE_MALFORMED', 'DSSE envelope', false);

/**
 * Reads the fields of a DSSE JSON envelope (envelope.md). Attacker-controlled: types are checked, base64 is
 * strict (standard or URL-safe, both allowed by protocol.md), the signature count is bounded and every
 * signature must have bytes. `keyid` may be omitted ("empty fields may be omitted").
 */
export function readDsseFields(f: Fields, maxSignatures: number): DsseEnvelope {
  const payloadType = f.string('payloadType');
  if (LONE_SURROGATE.test(payloadType)) f.fail('payloadType', 'is not well-formed Unicode');
  const payload = f.bytes('payload');
  const entries = f.objects('signatures', maxSignatures);
  // envelope.proto: signatures REQUIRED (length >= 1).
  if (entries.length === 0) f.fail('signatures', 'must hold at least one signature');
  const signatures = entries.map((s) => ({
    keyid: s.optString('keyid') ?? '',
    sig: s.bytes('sig', { nonEmpty: true }),
  }));
  return { payload, payloadType, signatures };
}

/** Parses a standalone DSSE JSON envelope; any structural problem (including bad JSON) is ERR_DSSE_MALFORMED. */
export function parseDsseEnvelope(input: Uint8Array | string): DsseEnvelope {
  const value = parseDocument(input, DSSE_CONTEXT, true);
  return readDsseFields(new Fields(value, '', DSSE_CONTEXT), MAX_SIGNATURES);
}

/** The envelope.md JSON form (standard base64, keyid always present). */
export function dsseToJson(env: DsseEnvelope): {
  payload: string;
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
} {
  return {
    payload: toBase64(env.payload),
    payloadType: env.payloadType,
    signatures: env.signatures.map((s) => ({ keyid: s.keyid, sig: toBase64(s.sig) })),
  };
}
