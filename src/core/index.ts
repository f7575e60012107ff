export {
  DIGEST_ALGORITHMS,
  type DigestAlgorithm,
  digestBytes,
  digestFile,
  parseDigestAlgorithm,
  streamFile,
} from './digest.js';
export { bytesEqual, decodeUtf8, fromBase64, fromHex, toBase64, toHex } from './encoding.js';
export {
  ERROR_CODES,
  type ErrorCategory,
  isVouchError,
  VouchError,
  type VouchErrorCode,
  wrapError,
} from './errors.js';
export {
  type FieldsContext,
  failAt,
  JsonFields,
  type StringOptions,
  sourceContext,
} from './fields.js';
export { assertAbsent, DEFAULT_MAX_INPUT, readInput, unreadable, writeFileAtomic } from './io.js';
export { canonicalJson, isRecord, type JsonValue, parseJson } from './json.js';
export { lazyRequire } from './lazy.js';
