/**
 * The one error root of Vouch. Every failure a user can cause carries a stable `ERR_*` code; the CLI maps a
 * code's category to an exit code and the server (later) to an HTTP status, each in one table.
 * Programmer misuse stays a `TypeError`.
 */

/** What kind of failure a code is; the CLI and server map categories, never individual codes. */
export type ErrorCategory = 'verify' | 'usage' | 'input' | 'internal';

/** The closed table of codes. Add a code here (with its category) before throwing it. */
export const ERROR_CODES = {
  // usage: the caller asked for something that cannot be done as asked
  ERR_USAGE: 'usage',
  ERR_KEYREF_SCHEME: 'usage',
  ERR_ALG_UNSUPPORTED: 'usage',
  ERR_ALG_WEAK: 'usage',
  ERR_KEY_PASSWORD_MISSING: 'usage',
  ERR_PGP_KEY_UNUSABLE: 'usage',
  ERR_OUTPUT_EXISTS: 'usage',
  ERR_OCI_INSECURE: 'usage',

  // input: something read was unreadable, malformed, too large or of the wrong kind
  ERR_INPUT_UNREADABLE: 'input',
  ERR_INPUT_MALFORMED: 'input',
  ERR_INPUT_TOO_LARGE: 'input',
  ERR_INPUT_ENCODING: 'input',
  ERR_JSON_PARSE: 'input',
  ERR_BASE64: 'input',
  ERR_HEX: 'input',
  ERR_DIGEST_UNSUPPORTED: 'input',
  ERR_KEY_MALFORMED: 'input',
  ERR_KEY_PASSWORD: 'input',
  ERR_KEYREF_NOT_FOUND: 'input',
  ERR_DSSE_MALFORMED: 'input',
  ERR_INTOTO_MALFORMED: 'input',
  ERR_BUNDLE_MALFORMED: 'input',
  ERR_BUNDLE_MEDIA_TYPE: 'input',
  ERR_TRUST_ROOT_MALFORMED: 'input',
  ERR_CERT_MALFORMED: 'input',
  ERR_NOTE_MALFORMED: 'input',
  ERR_TIMESTAMP_MALFORMED: 'input',
  ERR_PGP_MALFORMED: 'input',
  ERR_CMS_MALFORMED: 'input',
  ERR_LOCKFILE_NOT_FOUND: 'input',
  ERR_LOCKFILE_MALFORMED: 'input',
  ERR_LOCKFILE_VERSION: 'input',
  ERR_SBOM_MALFORMED: 'input',
  ERR_PREDICATE_MALFORMED: 'input',
  ERR_LICENSE_POLICY_MALFORMED: 'input',
  ERR_OSV_MALFORMED: 'input',
  ERR_VEX_MALFORMED: 'input',
  ERR_VULN_DB: 'input',
  ERR_GIT: 'input',
  ERR_PROVENANCE_SUBJECT: 'input',
  ERR_POLICY_MALFORMED: 'input',
  ERR_POLICY_CEL: 'input',
  ERR_POLICY_COST: 'input',
  ERR_POLICY_TEST_MALFORMED: 'input',
  ERR_OCI_REFERENCE: 'input',
  ERR_OCI_MANIFEST: 'input',
  ERR_OCI_NOT_FOUND: 'input',
  ERR_OCI_AUTH: 'input',
  ERR_OCI_REGISTRY: 'input',
  ERR_REQUEST_MALFORMED: 'input',
  ERR_REQUEST_TOO_LARGE: 'input',
  ERR_ADMISSION_MALFORMED: 'input',

  // verify: the input is well-formed but the proof it carries does not hold
  ERR_DIGEST_MISMATCH: 'verify',
  ERR_SIGNATURE_INVALID: 'verify',
  ERR_KEY_MISMATCH: 'verify',
  ERR_DSSE_SIGNATURE: 'verify',
  ERR_DSSE_THRESHOLD: 'verify',
  ERR_DSSE_PAYLOAD_TYPE: 'verify',
  ERR_INTOTO_SUBJECT_MISMATCH: 'verify',
  ERR_INTOTO_PREDICATE_TYPE: 'verify',
  ERR_BUNDLE_UNSUPPORTED: 'verify',
  ERR_CERT_CHAIN: 'verify',
  ERR_CERT_VALIDITY: 'verify',
  ERR_CERT_EKU: 'verify',
  ERR_CERT_IDENTITY: 'verify',
  ERR_CERT_ISSUER: 'verify',
  ERR_SCT_MISSING: 'verify',
  ERR_SCT_INVALID: 'verify',
  ERR_TLOG_MISSING: 'verify',
  ERR_TLOG_UNTRUSTED: 'verify',
  ERR_TLOG_BODY_MISMATCH: 'verify',
  ERR_TLOG_SET_INVALID: 'verify',
  ERR_TLOG_INCLUSION: 'verify',
  ERR_MERKLE_PROOF: 'verify',
  ERR_CHECKPOINT_INVALID: 'verify',
  ERR_NOTE_SIGNATURE: 'verify',
  ERR_TIMESTAMP_MISSING: 'verify',
  ERR_TIMESTAMP_INVALID: 'verify',
  ERR_TIMESTAMP_UNTRUSTED: 'verify',
  ERR_VERIFY_THRESHOLD: 'verify',
  ERR_VERIFY_NO_TRUST: 'verify',
  ERR_PGP_SIGNATURE: 'verify',
  ERR_CMS_SIGNATURE: 'verify',
  ERR_PROVENANCE_INCOMPLETE: 'verify',
  ERR_LICENSE_POLICY: 'verify',
  ERR_VULNS_FOUND: 'verify',
  ERR_SCAN_INCOMPLETE: 'verify',
  ERR_POLICY_DENIED: 'verify',
  ERR_POLICY_NO_MATCH: 'verify',
  ERR_POLICY_TIMEOUT: 'verify',
  ERR_POLICY_TEST_FAILED: 'verify',

  // internal: a bug or an environment failure, never the user's input
  ERR_INTERNAL: 'internal',
  ERR_OUTPUT_WRITE: 'internal',
  ERR_OCI_UNREACHABLE: 'internal',
  ERR_SERVER_BUSY: 'internal',
} as const satisfies Record<string, ErrorCategory>;

export type VouchErrorCode = keyof typeof ERROR_CODES;

export class VouchError extends Error {
  override readonly name = 'VouchError';
  readonly code: VouchErrorCode;
  /** Optional structured details (never secrets): file names, indexes, expected/actual digests. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: VouchErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  get category(): ErrorCategory {
    return ERROR_CODES[this.code];
  }
}

export function isVouchError(e: unknown, code?: VouchErrorCode): e is VouchError {
  return e instanceof VouchError && (code === undefined || e.code === code);
}

/** Converts a foreign error at a layer boundary; a VouchError passes through unchanged. */
export function wrapError(e: unknown, code: VouchErrorCode, message: string): VouchError {
  if (e instanceof VouchError) return e;
  return new VouchError(code, message, { cause: e });
}
