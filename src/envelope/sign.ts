import { type Artifact, type Signer, signArtifact } from '../crypto/index.js';
import {
  BUNDLE_V03,
  type Bundle,
  type DsseEnvelope,
  type MessageSignature,
  type TransparencyLogEntry,
  type VerificationKey,
  type VerificationMaterial,
} from './bundle/types.js';
import { signDsse } from './dsse.js';
import { INTOTO_PAYLOAD_TYPE, parseStatement, type Statement, serializeStatement } from './intoto.js';

/** The key forms a v0.3 bundle may carry: a hint for a self-managed key, or the leaf certificate (DER). */
export type BundleKey = Extract<VerificationKey, { kind: 'publicKey' | 'certificate' }>;

export interface BundleMaterial {
  readonly key: BundleKey;
  readonly tlogEntries?: readonly TransparencyLogEntry[];
  /** DER RFC 3161 timestamp responses over the signature. */
  readonly rfc3161Timestamps?: readonly Uint8Array[];
}

const DIGEST_BYTES = { SHA2_256: 32, SHA2_384: 48, SHA2_512: 64 } as const;

// Copies into Buffers, so a built bundle is deep-equal to the same bundle read back (the reader yields Buffers).
function material(m: BundleMaterial): VerificationMaterial {
  let key: BundleKey;
  if (m.key.kind === 'certificate') {
    if (m.key.certificate.byteLength === 0) throw new TypeError('bundle: the certificate is empty');
    key = { kind: 'certificate', certificate: Buffer.from(m.key.certificate) };
  } else {
    key = { kind: 'publicKey', hint: m.key.hint };
  }
  return {
    key,
    tlogEntries: [...(m.tlogEntries ?? [])],
    rfc3161Timestamps: (m.rfc3161Timestamps ?? []).map((t) => Buffer.from(t)),
  };
}

/** A v0.3 bundle over a message signature (hashedrekord-style signing of the artifact bytes). */
export function bundleFromMessageSignature(ms: MessageSignature, m: BundleMaterial): Bundle {
  if (ms.signature.byteLength === 0) throw new TypeError('bundle: the signature is empty');
  const md = ms.messageDigest;
  if (md !== undefined && md.digest.byteLength !== DIGEST_BYTES[md.algorithm]) {
    throw new TypeError(`bundle: a ${md.algorithm} digest has ${DIGEST_BYTES[md.algorithm]} bytes`);
  }
  return {
    mediaType: BUNDLE_V03,
    version: '0.3',
    verificationMaterial: material(m),
    content: {
      kind: 'messageSignature',
      messageSignature: {
        ...(md === undefined
          ? {}
          : { messageDigest: { algorithm: md.algorithm, digest: Buffer.from(md.digest) } }),
        signature: Buffer.from(ms.signature),
      },
    },
  };
}

/** A v0.3 bundle over a DSSE envelope, which must carry exactly one signature (protobuf-specs). */
export function bundleFromDsse(env: DsseEnvelope, m: BundleMaterial): Bundle {
  if (env.signatures.length !== 1)
    throw new TypeError('bundle: a DSSE envelope in a bundle has exactly one signature');
  if (env.payload.byteLength === 0) throw new TypeError('bundle: the DSSE payload is empty');
  return {
    mediaType: BUNDLE_V03,
    version: '0.3',
    verificationMaterial: material(m),
    content: {
      kind: 'dsseEnvelope',
      dsseEnvelope: {
        payload: Buffer.from(env.payload),
        payloadType: env.payloadType,
        signatures: env.signatures.map((s) => ({ keyid: s.keyid, sig: Buffer.from(s.sig) })),
      },
    },
  };
}

/**
 * Signs an artifact into a v0.3 bundle for a self-managed key: `messageSignature` with the artifact's SHA-256
 * as the message digest and `publicKey.hint` = the signer's key id. No transparency log entry yet.
 */
export async function signBlobToBundle(signer: Signer, artifact: Artifact): Promise<Bundle> {
  const { signature, sha256 } = await signArtifact(signer, artifact);
  return bundleFromMessageSignature(
    { messageDigest: { algorithm: 'SHA2_256', digest: sha256 }, signature },
    { key: { kind: 'publicKey', hint: signer.keyId } },
  );
}

/**
 * Signs an in-toto statement into a v0.3 bundle: the statement is serialised, read back with the strict
 * reader (Vouch never signs what it would refuse to read), wrapped in DSSE with the in-toto payload type and
 * signed by `signer`; `publicKey.hint` = the signer's key id.
 */
export async function signStatementToBundle(signer: Signer, statement: Statement): Promise<Bundle> {
  const payload = serializeStatement(statement);
  parseStatement(payload);
  const env = await signDsse(INTOTO_PAYLOAD_TYPE, payload, [signer]);
  return bundleFromDsse(env, { key: { kind: 'publicKey', hint: signer.keyId } });
}
