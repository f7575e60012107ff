// Media types of the OCI image-spec v1.1 (manifest.md, image-index.md, manifest.md §Guidance for an empty
// descriptor), Docker Image Manifest V2 Schema 2, cosign (specs/SIGNATURE_SPEC.md, specs/BUNDLE_SPEC.md)
// and the Sigstore bundle.

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** What a manifest GET accepts: single-platform manifests and indexes, OCI and Docker. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');

/** image-spec v1.1 manifest.md: the empty JSON object `{}` as a config for artifacts without one. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const EMPTY_JSON = new Uint8Array([0x7b, 0x7d]);

/** The artifact type (and layer media type) cosign's bundle format stores a Sigstore bundle v0.3 under. */
export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * The predicate type of an image signature in cosign's bundle format (cosign v3 `cosign sign`): an in-toto
 * Statement whose subject is the image manifest digest and whose predicate is empty, signed in DSSE.
 */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

/** cosign's legacy `.sig` layers: a simple-signing payload, the signature in an annotation. */
export const COSIGN_SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** cosign's legacy `.att` layers: one DSSE envelope each. */
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';

export const ANNOTATION = {
  /** BUNDLE_SPEC.md: `message-signature` or `dsse-envelope`. */
  bundleContent: 'dev.sigstore.bundle.content',
  bundlePredicateType: 'dev.sigstore.bundle.predicateType',
  created: 'org.opencontainers.image.created',
  title: 'org.opencontainers.image.title',
  cosignSignature: 'dev.cosignproject.cosign/signature',
  cosignCertificate: 'dev.sigstore.cosign/certificate',
  cosignChain: 'dev.sigstore.cosign/chain',
  /** cosign's `.att` layers name their predicate type here (unsigned; the envelope holds the signed one). */
  predicateType: 'predicateType',
} as const;
