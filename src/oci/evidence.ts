/**
 * Where evidence was found: the registry's referrers API, the referrers tag-schema index (`sha256-<hex>`),
 * or cosign's legacy tags (`sha256-<hex>.sig` / `.att`).
 */
export type EvidenceVia = 'referrers-api' | 'referrers-tag' | 'cosign-tag';

interface Found {
  /** `oci-referrer:<artifact manifest digest>` or `oci-tag:<tag>` (with `#<layer>` past the first layer). */
  readonly source: string;
  readonly via: EvidenceVia;
}

/** A Sigstore bundle (JSON bytes) stored as an OCI artifact referring to the image. */
export interface BundleEvidence extends Found {
  readonly kind: 'bundle';
  readonly bytes: Uint8Array;
  /** From the artifact's annotations: unsigned, for display and ordering only. */
  readonly predicateType?: string;
}

/** A cosign simple-signing signature layer from a `.sig` tag. */
export interface CosignSignatureEvidence extends Found {
  readonly kind: 'cosign-signature';
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  /** PEM, when cosign signed keyless. */
  readonly certificate?: string;
  readonly chain?: string;
}

/** A DSSE envelope layer from a cosign `.att` tag. */
export interface CosignAttestationEvidence extends Found {
  readonly kind: 'cosign-attestation';
  readonly envelope: Uint8Array;
  /** From the layer annotation: unsigned, for display only. */
  readonly predicateType?: string;
}

/** Everything discovered for an image; none of it is verified yet (attacker-controlled registry content). */
export type OciEvidence = BundleEvidence | CosignSignatureEvidence | CosignAttestationEvidence;
