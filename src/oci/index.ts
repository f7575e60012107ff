export { type AttachOptions, type AttachResult, attachBundle } from './attach.js';
export {
  createRegistryClient,
  type ReferrersResult,
  type RegistryClient,
  type RegistryClientOptions,
  type ResolvedManifest,
} from './client.js';
export { verifyCosignAttestation, verifyCosignSignature } from './cosign.js';
export type { BoundCredentials, RegistryCredentials } from './credentials.js';
export { digestOf, splitDigest } from './digest.js';
export { type DiscoverOptions, discoverEvidence } from './discover.js';
export type {
  BundleEvidence,
  CosignAttestationEvidence,
  CosignSignatureEvidence,
  EvidenceVia,
  OciEvidence,
} from './evidence.js';
export {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type Manifest,
  parseManifest,
} from './manifest.js';
export {
  COSIGN_SIGN_PREDICATE_TYPE,
  COSIGN_SIMPLESIGNING,
  DSSE_ENVELOPE,
  OCI_INDEX,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from './media-types.js';
export {
  cosignTag,
  formatReference,
  parseReference,
  type Reference,
  referrersTag,
  withDigest,
} from './reference.js';
export { attestImage, imageStatement, type SignedImage, signImage } from './sign.js';
