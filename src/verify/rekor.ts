import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  bytesEqual,
  type DigestAlgorithm,
  decodeUtf8,
  fromBase64,
  fromHex,
  isRecord,
  parseJson,
  VouchError,
} from '../core/index.js';

/**
 * What a Rekor entry body commits to, for the kinds Sigstore bundles carry:
 * - Rekor v1 (rekor/pkg/types): hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.1 and 0.0.2 (JSON, base64 PEM keys);
 * - Rekor v2 (rekor-tiles, protobuf JSON): hashedrekord 0.0.2 and dsse 0.0.2 (DER keys and certificates).
 * The body is attacker-controlled until its SET or inclusion proof verified, and even then it only proves
 * that *something* was logged: `checkBinding` proves it is this bundle's signature, content and signer.
 */

/** The signer an entry names: a certificate (DER) or a public key. */
export type EntryVerifier =
  | { readonly kind: 'certificate'; readonly der: Uint8Array }
  | { readonly kind: 'publicKey'; readonly key: KeyObject };

export interface HashValue {
  readonly algorithm: DigestAlgorithm;
  readonly digest: Uint8Array;
}

export interface EntryBody {
  readonly kind: string;
  readonly version: string;
  /** The signature the entry logged; absent only in intoto 0.0.1, whose canonical body drops it. */
  readonly signature?: Uint8Array;
  readonly verifier: EntryVerifier;
  /** hashedrekord: the digest that was signed (the artifact's, or PAE's for a Rekor v2 DSSE entry). */
  readonly data?: HashValue;
  /** dsse / intoto: the digest of the DSSE payload. */
  readonly payloadHash?: HashValue;
  /** intoto 0.0.2 records the envelope's payload type and, in some logs, its payload. */
  readonly payloadType?: string;
  readonly payload?: Uint8Array;
}

function mismatch(message: string, field: string): VouchError {
  return new VouchError('ERR_TLOG_BODY_MISMATCH', `transparency log entry ${message}`, {
    details: { check: 'tlog.body', field },
  });
}

function malformedBody(path: string): VouchError {
  return mismatch(`body is malformed at ${path}`, path);
}

/** A typed view of one JSON object in the body; every read checks its type. */
class Obj {
  constructor(
    readonly v: Record<string, unknown>,
    readonly path: string,
  ) {}

  static of(v: unknown, path: string): Obj {
    if (!isRecord(v)) throw malformedBody(path);
    return new Obj(v, path);
  }

  private get(key: string): unknown {
    return Object.hasOwn(this.v, key) ? this.v[key] : undefined;
  }

  obj(key: string): Obj {
    return Obj.of(this.get(key), `${this.path}.${key}`);
  }

  optObj(key: string): Obj | undefined {
    const v = this.get(key);
    return v === undefined || v === null ? undefined : Obj.of(v, `${this.path}.${key}`);
  }

  str(key: string): string {
    const v = this.get(key);
    if (typeof v !== 'string' || v.length === 0) throw malformedBody(`${this.path}.${key}`);
    return v;
  }

  optStr(key: string): string | undefined {
    const v = this.get(key);
    return v === undefined || v === null ? undefined : this.str(key);
  }

  bytes(key: string): Buffer {
    const path = `${this.path}.${key}`;
    let b: Buffer;
    try {
      b = fromBase64(this.str(key), path);
    } catch {
      throw malformedBody(path);
    }
    if (b.length === 0) throw malformedBody(path);
    return b;
  }

  list(key: string): Obj[] {
    const v = this.get(key);
    if (!Array.isArray(v)) throw malformedBody(`${this.path}.${key}`);
    return v.map((e, i) => Obj.of(e, `${this.path}.${key}[${i}]`));
  }
}

const PEM = /^\s*-----BEGIN ([A-Z ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END \1-----\s*$/;

/** Text inside a base64 value; the body is attacker-controlled, so bad UTF-8 is a malformed body. */
function innerText(o: Obj, key: string): string {
  const path = `${o.path}.${key}`;
  try {
    return decodeUtf8(o.bytes(key), path);
  } catch {
    throw malformedBody(path);
  }
}

/** Rekor v1 stores keys and certificates as base64 of a single PEM block. */
function pemVerifier(o: Obj, key: string): EntryVerifier {
  const path = `${o.path}.${key}`;
  const m = PEM.exec(innerText(o, key));
  if (m === null) throw malformedBody(path);
  let der: Buffer;
  try {
    der = fromBase64((m[2] as string).replace(/\s+/g, ''), path);
  } catch {
    throw malformedBody(path);
  }
  if (m[1] === 'CERTIFICATE') return { kind: 'certificate', der };
  if (m[1] !== 'PUBLIC KEY') throw malformedBody(path);
  return { kind: 'publicKey', key: spkiKey(der, path) };
}

function spkiKey(der: Uint8Array, path: string): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch {
    throw malformedBody(path);
  }
}

/** Rekor v2 `Verifier`: exactly one of a DER public key or a DER certificate. */
function v2Verifier(o: Obj): EntryVerifier {
  const pk = o.optObj('publicKey');
  const cert = o.optObj('x509Certificate');
  if ((pk === undefined) === (cert === undefined)) throw malformedBody(o.path);
  if (cert !== undefined) return { kind: 'certificate', der: cert.bytes('rawBytes') };
  const p = pk as Obj;
  return { kind: 'publicKey', key: spkiKey(p.bytes('rawBytes'), `${p.path}.rawBytes`) };
}

const V1_HASHES: Readonly<Record<string, DigestAlgorithm>> = {
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
};
const V2_HASHES: Readonly<Record<string, DigestAlgorithm>> = {
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
};
const DIGEST_BYTES: Readonly<Record<DigestAlgorithm, number>> = { sha256: 32, sha384: 48, sha512: 64 };

function hashValue(algorithm: DigestAlgorithm | undefined, digest: Uint8Array, path: string): HashValue {
  if (algorithm === undefined || digest.length !== DIGEST_BYTES[algorithm]) throw malformedBody(path);
  return { algorithm, digest };
}

/** `{algorithm: "sha256", value: <hex>}` (Rekor v1). */
function v1Hash(o: Obj): HashValue {
  let digest: Buffer;
  try {
    digest = fromHex(o.str('value'), o.path);
  } catch {
    throw malformedBody(`${o.path}.value`);
  }
  return hashValue(V1_HASHES[o.str('algorithm')], digest, o.path);
}

/** `{algorithm: "SHA2_256", digest: <base64>}` (Rekor v2, protobuf-specs HashOutput). */
function v2Hash(o: Obj): HashValue {
  return hashValue(V2_HASHES[o.str('algorithm')], o.bytes('digest'), o.path);
}

function oneSignature(list: Obj[], path: string): Obj {
  // sigstore-js and sigstore-go: a bundle's DSSE envelope has one signature, so must its entry.
  if (list.length !== 1) throw mismatch(`holds ${list.length} signatures; one is expected`, path);
  return list[0] as Obj;
}

/** Decodes a base64 value that itself holds base64 text (intoto 0.0.2 double-encodes signature and payload). */
function doubleBase64(o: Obj, key: string): Buffer {
  const inner = innerText(o, key);
  try {
    return fromBase64(inner, `${o.path}.${key}`);
  } catch {
    throw malformedBody(`${o.path}.${key}`);
  }
}

function parseSpec(kind: string, version: string, spec: Obj): Omit<EntryBody, 'kind' | 'version'> {
  switch (`${kind}/${version}`) {
    case 'hashedrekord/0.0.1': {
      const sig = spec.obj('signature');
      return {
        signature: sig.bytes('content'),
        verifier: pemVerifier(sig.obj('publicKey'), 'content'),
        data: v1Hash(spec.obj('data').obj('hash')),
      };
    }
    case 'hashedrekord/0.0.2': {
      const hr = spec.obj('hashedRekordV002');
      const sig = hr.obj('signature');
      return {
        signature: sig.bytes('content'),
        verifier: v2Verifier(sig.obj('verifier')),
        data: v2Hash(hr.obj('data')),
      };
    }
    case 'dsse/0.0.1': {
      const sig = oneSignature(spec.list('signatures'), `${spec.path}.signatures`);
      return {
        signature: sig.bytes('signature'),
        verifier: pemVerifier(sig, 'verifier'),
        payloadHash: v1Hash(spec.obj('payloadHash')),
      };
    }
    case 'dsse/0.0.2': {
      const d = spec.obj('dsseV002');
      const sig = oneSignature(d.list('signatures'), `${d.path}.signatures`);
      return {
        signature: sig.bytes('content'),
        verifier: v2Verifier(sig.obj('verifier')),
        payloadHash: v2Hash(d.obj('payloadHash')),
      };
    }
    case 'intoto/0.0.1': {
      // The canonical body keeps only the key and hashes; without a payload hash nothing ties it to a payload.
      const content = spec.obj('content');
      return { verifier: pemVerifier(spec, 'publicKey'), payloadHash: v1Hash(content.obj('payloadHash')) };
    }
    case 'intoto/0.0.2': {
      const content = spec.obj('content');
      const env = content.obj('envelope');
      const sig = oneSignature(env.list('signatures'), `${env.path}.signatures`);
      const payloadType = env.optStr('payloadType');
      const payload = env.optStr('payload') === undefined ? undefined : doubleBase64(env, 'payload');
      return {
        signature: doubleBase64(sig, 'sig'),
        verifier: pemVerifier(sig, 'publicKey'),
        payloadHash: v1Hash(content.obj('payloadHash')),
        ...(payloadType === undefined ? {} : { payloadType }),
        ...(payload === undefined ? {} : { payload }),
      };
    }
    default:
      throw new VouchError(
        'ERR_BUNDLE_UNSUPPORTED',
        `transparency log entries of kind ${kind} ${version} are not supported`,
        {
          details: { check: 'tlog.body', kind, version },
        },
      );
  }
}

/**
 * Decodes a canonicalized entry body. Its kind and apiVersion must equal the entry's `kindVersion` (which
 * is not covered by the SET or the proof, so only the body's own values count). ERR_TLOG_BODY_MISMATCH for a
 * malformed body or a kind mismatch, ERR_BUNDLE_UNSUPPORTED for a kind Vouch does not read.
 */
export function parseEntryBody(body: Uint8Array, kindVersion: { kind: string; version: string }): EntryBody {
  let json: unknown;
  try {
    json = parseJson(body, 'transparency log entry body');
  } catch {
    throw malformedBody('(body)');
  }
  const root = Obj.of(json, '(body)');
  const kind = root.str('kind');
  const version = root.str('apiVersion');
  if (kind !== kindVersion.kind || version !== kindVersion.version) {
    throw mismatch(
      `body is ${kind} ${version} but the bundle says ${kindVersion.kind} ${kindVersion.version}`,
      'kind',
    );
  }
  return { kind, version, ...parseSpec(kind, version, root.obj('spec')) };
}

/** The bundle side of a binding: what was signed and by whom. Digests are computed only when asked for. */
export interface BoundContent {
  readonly kind: 'messageSignature' | 'dsseEnvelope';
  readonly signature: Uint8Array;
  /** messageSignature: the artifact's digest; dsseEnvelope: the payload's digest. */
  digest(algorithm: DigestAlgorithm): Promise<Uint8Array>;
  /** dsseEnvelope only: SHA-256 of PAE(payloadType, payload), what a Rekor v2 hashedrekord entry logs. */
  readonly paeSha256?: Uint8Array;
  readonly payloadType?: string;
  readonly payload?: Uint8Array;
}

export type BoundSigner =
  | { readonly kind: 'certificate'; readonly der: Uint8Array }
  | { readonly kind: 'publicKey'; readonly key: KeyObject };

function sameVerifier(entry: EntryVerifier, signer: BoundSigner): boolean {
  // sigstore-go CompareKey: a certificate bundle needs the same certificate; a key bundle the same key.
  if (entry.kind === 'certificate') return signer.kind === 'certificate' && bytesEqual(entry.der, signer.der);
  return signer.kind === 'publicKey' && entry.key.equals(signer.key);
}

/**
 * Proves that an entry logged this bundle: the same signature bytes, the same signed digest (artifact,
 * payload, or PAE for Rekor v2 DSSE entries) and the same certificate or key. ERR_TLOG_BODY_MISMATCH naming
 * the field otherwise.
 */
export async function checkBinding(
  body: EntryBody,
  content: BoundContent,
  signer: BoundSigner,
): Promise<void> {
  if (body.signature !== undefined && !bytesEqual(body.signature, content.signature)) {
    throw mismatch('logged a different signature', 'signature');
  }
  if (!sameVerifier(body.verifier, signer)) {
    throw mismatch(
      `names a different ${body.verifier.kind === 'certificate' ? 'certificate' : 'key'}`,
      'verifier',
    );
  }
  if (body.kind === 'hashedrekord') {
    const data = body.data as HashValue;
    if (content.kind === 'dsseEnvelope') {
      // rekor-tiles logs a DSSE envelope as a hashedrekord over SHA-256(PAE); Rekor v1 has no such form.
      if (body.version === '0.0.1' || data.algorithm !== 'sha256' || content.paeSha256 === undefined) {
        throw mismatch('is a hashedrekord entry but the bundle holds a DSSE envelope', 'kind');
      }
      if (!bytesEqual(data.digest, content.paeSha256))
        throw mismatch('logged a different DSSE envelope', 'data');
      return;
    }
    if (!bytesEqual(data.digest, await content.digest(data.algorithm))) {
      throw mismatch('logged a different artifact digest', 'data');
    }
    return;
  }
  if (content.kind !== 'dsseEnvelope') {
    throw mismatch(`is a ${body.kind} entry but the bundle holds a message signature`, 'kind');
  }
  const ph = body.payloadHash as HashValue;
  if (!bytesEqual(ph.digest, await content.digest(ph.algorithm))) {
    throw mismatch('logged a different DSSE payload', 'payloadHash');
  }
  if (body.payloadType !== undefined && body.payloadType !== content.payloadType) {
    throw mismatch('logged a different DSSE payload type', 'payloadType');
  }
  if (
    body.payload !== undefined &&
    (content.payload === undefined || !bytesEqual(body.payload, content.payload))
  ) {
    throw mismatch('logged a different DSSE payload', 'payload');
  }
}
