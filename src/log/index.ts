export { type Checkpoint, parseCheckpoint } from './checkpoint.js';
export { cosignatureTimestamp } from './cosignature.js';
export {
  hashChildren,
  hashLeaf,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
export { type Note, type NoteSignature, type NoteVerifier, parseNote, verifyNote } from './note.js';
export { noteVerifierFromPublicKey, noteVerifierFromVkey } from './verifiers.js';
