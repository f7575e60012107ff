export {
  ALGORITHMS,
  type Algorithm,
  type AlgorithmId,
  algorithmForKey,
  algorithmFromSigstore,
  getAlgorithm,
  SIGNING_ALGORITHMS,
} from './algorithms.js';
export {
  type Artifact,
  type ArtifactSignature,
  artifactDigest,
  describeArtifact,
  parseArtifactRef,
  signArtifact,
  verifyArtifact,
} from './artifact.js';
export { children, type DerLimits, decodeStrictDer, isTag, parseStrictDer, rawOf } from './asn1.js';
export { type CmsContent, type CmsVerification, signCmsDetached, verifyCmsDetached } from './cms.js';
export { type KeyRefOptions, parseKeyRef, publicKeyFromRef, signerFromRef } from './keyref.js';
export {
  exportPrivateKeyPem,
  exportPublicKeyPem,
  generateKeyPair,
  type KeyPair,
  keyIdOf,
  loadPrivateKey,
  loadPublicKey,
} from './keys.js';
export { asn1jsLib, pkijsLib } from './lazy.js';
export {
  describeOpenPgpKeys,
  type GeneratedOpenPgpKey,
  generateOpenPgpKey,
  type OpenPgpContent,
  type OpenPgpKeyInfo,
  type OpenPgpVerification,
  signOpenPgpDetached,
  verifyOpenPgpDetached,
} from './openpgp.js';
export { assertKeyFits, signBytes, verifyBytes, verifyWithKey } from './signature.js';
export { createFileSigner, FileSigner, type Signer } from './signer.js';
export {
  EKU_CODE_SIGNING,
  EKU_TIME_STAMPING,
  parseCertificate,
  parseCertificates,
  verifyAlgorithmSignature,
  verifyCertificateChain,
  type X509Certificate,
} from './x509.js';
