/**
 * The decoded, validated model of a Sigstore bundle (protobuf-specs `dev.sigstore.bundle.v1.Bundle`).
 * JSON on the wire uses base64 strings and decimal-string int64s; this model holds bytes and bigints so that
 * a verifier never re-decodes attacker-controlled text. `read.ts` builds it strictly, `write.ts` serialises it.
 */

export const BUNDLE_V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
export const BUNDLE_V02 = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
export const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The v0.3 media type in the older spelling, which protobuf-specs says clients must still accept. */
export const BUNDLE_V03_LEGACY = 'application/vnd.dev.sigstore.bundle+json;version=0.3';

export type BundleVersion = '0.1' | '0.2' | '0.3';

export interface HashOutput {
  /** protobuf `HashAlgorithm` name, e.g. `SHA2_256`. */
  readonly algorithm: 'SHA2_256' | 'SHA2_384' | 'SHA2_512';
  readonly digest: Uint8Array;
}

export interface MessageSignature {
  /** An unauthenticated hint (protobuf-specs); a verifier digests the artifact itself. */
  readonly messageDigest?: HashOutput;
  readonly signature: Uint8Array;
}

export interface DsseSignature {
  readonly sig: Uint8Array;
  readonly keyid: string;
}

export interface DsseEnvelope {
  readonly payload: Uint8Array;
  readonly payloadType: string;
  readonly signatures: readonly DsseSignature[];
}

export interface Checkpoint {
  /** The C2SP signed-note text, verbatim. */
  readonly envelope: string;
}

export interface InclusionProof {
  readonly logIndex: bigint;
  readonly rootHash: Uint8Array;
  readonly treeSize: bigint;
  readonly hashes: readonly Uint8Array[];
  readonly checkpoint?: Checkpoint;
}

export interface TransparencyLogEntry {
  readonly logIndex: bigint;
  /** SHA-256 of the log's public key (SPKI DER). */
  readonly logId: Uint8Array;
  readonly kindVersion: { readonly kind: string; readonly version: string };
  /** Seconds since the epoch; 0 for Rekor v2 entries, which carry no integrated time. */
  readonly integratedTime: bigint;
  readonly inclusionPromise?: { readonly signedEntryTimestamp: Uint8Array };
  readonly inclusionProof?: InclusionProof;
  /** The exact entry body the log hashed (RFC 6962 leaf input). */
  readonly canonicalizedBody: Uint8Array;
}

export type VerificationKey =
  | { readonly kind: 'publicKey'; readonly hint: string }
  | { readonly kind: 'x509CertificateChain'; readonly certificates: readonly Uint8Array[] }
  | { readonly kind: 'certificate'; readonly certificate: Uint8Array };

export interface VerificationMaterial {
  readonly key: VerificationKey;
  readonly tlogEntries: readonly TransparencyLogEntry[];
  /** DER `TimeStampResponse`s or tokens (RFC 3161) over the signature bytes. */
  readonly rfc3161Timestamps: readonly Uint8Array[];
}

export type BundleContent =
  | { readonly kind: 'messageSignature'; readonly messageSignature: MessageSignature }
  | { readonly kind: 'dsseEnvelope'; readonly dsseEnvelope: DsseEnvelope };

export interface Bundle {
  readonly mediaType: string;
  readonly version: BundleVersion;
  readonly verificationMaterial: VerificationMaterial;
  readonly content: BundleContent;
}
