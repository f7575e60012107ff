import { type ErrorCategory, isVouchError, type VouchErrorCode } from '../core/index.js';

/** The body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: VouchErrorCode; readonly message: string };
}

export interface Problem {
  readonly status: number;
  readonly body: ErrorBody;
}

/**
 * The one table from errors to HTTP statuses: a code's own row, else its category's (decision 016).
 * A deny is not an error (200 with the Decision); `verify` here means the gate could not decide, e.g. no
 * policy matches the artifact.
 */
const STATUS_BY_CODE: Partial<Record<VouchErrorCode, number>> = {
  ERR_REQUEST_TOO_LARGE: 413,
  ERR_POLICY_TIMEOUT: 503,
  ERR_SERVER_BUSY: 503,
  ERR_OCI_UNREACHABLE: 502,
};
const STATUS_BY_CATEGORY: Readonly<Record<ErrorCategory, number>> = {
  usage: 400,
  input: 400,
  verify: 422,
  internal: 500,
};

/** Refusals fastify makes before a handler runs (its own codes), as Vouch codes and statuses. */
const FRAMEWORK: Readonly<Record<string, { status: number; code: VouchErrorCode }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'ERR_REQUEST_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'ERR_REQUEST_MALFORMED' },
};

const INTERNAL: ErrorBody = { error: { code: 'ERR_INTERNAL', message: 'internal error' } };

/** A route that does not exist; `what` is `METHOD /path` as the client sent it (attacker text, clipped). */
export function notFound(what: string): Problem {
  const shown = what.length > 200 ? `${what.slice(0, 199)}…` : what;
  return { status: 404, body: { error: { code: 'ERR_USAGE', message: `no route ${shown}` } } };
}

function fastifyError(e: unknown): { code: string; statusCode: number; message: string } | undefined {
  if (!(e instanceof Error)) return undefined;
  const { code, statusCode } = e as { code?: unknown; statusCode?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_') || typeof statusCode !== 'number')
    return undefined;
  return { code, statusCode, message: e.message };
}

/**
 * The response for any error a request raised. A VouchError's message is written for the user and carries no
 * secret (core/errors.ts); an internal one, and any foreign error, becomes a bare 500 — no stack, no message.
 */
export function problemOf(e: unknown): Problem {
  if (isVouchError(e)) {
    const status = STATUS_BY_CODE[e.code] ?? STATUS_BY_CATEGORY[e.category];
    if (status === 500) return { status, body: INTERNAL };
    return { status, body: { error: { code: e.code, message: e.message } } };
  }
  const f = fastifyError(e);
  if (f !== undefined) {
    const known = FRAMEWORK[f.code];
    if (known !== undefined)
      return { status: known.status, body: { error: { code: known.code, message: f.message } } };
    // fastify's other client errors (a Content-Length that does not match the body ...) are malformed requests.
    if (f.statusCode >= 400 && f.statusCode < 500)
      return { status: 400, body: { error: { code: 'ERR_REQUEST_MALFORMED', message: f.message } } };
  }
  return { status: 500, body: INTERNAL };
}
