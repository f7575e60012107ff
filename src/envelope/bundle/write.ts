import { toBase64 } from '../../core/index.js';
import type {
  Bundle,
  BundleContent,
  DsseEnvelope,
  InclusionProof,
  TransparencyLogEntry,
  VerificationKey,
} from './types.js';

// protobuf JSON mapping of dev.sigstore.bundle.v1.Bundle, as the reference serialisers (protobuf-go protojson,
// sigstore-js ts-proto) write it: lowerCamelCase names in .proto field order, standard padded base64 for
// bytes, int64 as decimal strings, and proto3 default values (0, "", empty lists) left out.

type Json = Record<string, unknown>;

function int64(name: string, v: bigint): Json {
  return v === 0n ? {} : { [name]: v.toString() };
}

function keyToJson(key: VerificationKey): Json {
  switch (key.kind) {
    case 'publicKey':
      return { publicKey: key.hint === '' ? {} : { hint: key.hint } };
    case 'x509CertificateChain':
      return {
        x509CertificateChain: { certificates: key.certificates.map((c) => ({ rawBytes: toBase64(c) })) },
      };
    case 'certificate':
      return { certificate: { rawBytes: toBase64(key.certificate) } };
  }
}

function proofToJson(p: InclusionProof): Json {
  return {
    ...int64('logIndex', p.logIndex),
    rootHash: toBase64(p.rootHash),
    ...int64('treeSize', p.treeSize),
    ...(p.hashes.length === 0 ? {} : { hashes: p.hashes.map(toBase64) }),
    ...(p.checkpoint === undefined ? {} : { checkpoint: { envelope: p.checkpoint.envelope } }),
  };
}

function entryToJson(e: TransparencyLogEntry): Json {
  return {
    ...int64('logIndex', e.logIndex),
    logId: { keyId: toBase64(e.logId) },
    kindVersion: { kind: e.kindVersion.kind, version: e.kindVersion.version },
    ...int64('integratedTime', e.integratedTime),
    ...(e.inclusionPromise === undefined
      ? {}
      : { inclusionPromise: { signedEntryTimestamp: toBase64(e.inclusionPromise.signedEntryTimestamp) } }),
    ...(e.inclusionProof === undefined ? {} : { inclusionProof: proofToJson(e.inclusionProof) }),
    canonicalizedBody: toBase64(e.canonicalizedBody),
  };
}

/** io.intoto.Envelope in protobuf JSON: an empty keyid is left out. */
function envelopeToJson(env: DsseEnvelope): Json {
  return {
    payload: toBase64(env.payload),
    payloadType: env.payloadType,
    signatures: env.signatures.map((s) => ({
      sig: toBase64(s.sig),
      ...(s.keyid === '' ? {} : { keyid: s.keyid }),
    })),
  };
}

function contentToJson(c: BundleContent): Json {
  switch (c.kind) {
    case 'messageSignature': {
      const md = c.messageSignature.messageDigest;
      return {
        messageSignature: {
          ...(md === undefined
            ? {}
            : { messageDigest: { algorithm: md.algorithm, digest: toBase64(md.digest) } }),
          signature: toBase64(c.messageSignature.signature),
        },
      };
    }
    case 'dsseEnvelope':
      return { dsseEnvelope: envelopeToJson(c.dsseEnvelope) };
  }
}

/** The bundle as a protobuf JSON object (what `JSON.stringify` turns into a `.sigstore.json` file). */
export function bundleToJson(b: Bundle): Record<string, unknown> {
  const vm = b.verificationMaterial;
  return {
    mediaType: b.mediaType,
    verificationMaterial: {
      ...keyToJson(vm.key),
      ...(vm.tlogEntries.length === 0 ? {} : { tlogEntries: vm.tlogEntries.map(entryToJson) }),
      ...(vm.rfc3161Timestamps.length === 0
        ? {}
        : {
            timestampVerificationData: {
              rfc3161Timestamps: vm.rfc3161Timestamps.map((t) => ({ signedTimestamp: toBase64(t) })),
            },
          }),
    },
    ...contentToJson(b.content),
  };
}

/** The bundle file's text: compact JSON (as cosign and sigstore-js write it) and a final newline. */
export function serializeBundle(b: Bundle): string {
  return `${JSON.stringify(bundleToJson(b))}\n`;
}
