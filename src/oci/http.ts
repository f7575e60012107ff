import { isRecord, parseJson, VouchError, type VouchErrorCode } from '../core/index.js';

/** How the client speaks HTTP: which plain-HTTP hosts are allowed, and how long a request may take. */
export interface TransportOptions {
  readonly allowInsecureRegistry: boolean;
  readonly timeoutMs: number;
  readonly userAgent: string;
}

/** Hosts spoken to over plain HTTP without asking, as docker does for its loopback registries. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const MAX_REDIRECTS = 5;
/** Registry error bodies are a few hundred bytes of JSON; only a bounded prefix is read. */
const MAX_ERROR_BODY = 64 * 1024;

export function isLoopback(url: URL): boolean {
  return LOOPBACK.has(url.hostname);
}

/** The API origin of a registry: Docker Hub's lives on registry-1.docker.io. */
export function registryOrigin(registry: string, o: TransportOptions): URL {
  const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
  const plain = new URL(`http://${host}`);
  return new URL(`${isLoopback(plain) || o.allowInsecureRegistry ? 'http' : 'https'}://${host}`);
}

/**
 * Every URL the client follows (registry, redirect, token realm, upload location) is attacker-influenced: it
 * must be HTTPS, or plain HTTP to a loopback host or under `allowInsecureRegistry`. A downgrade would send
 * credentials and tokens in the clear.
 */
export function assertTransport(url: URL, o: TransportOptions, what: string): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && (isLoopback(url) || o.allowInsecureRegistry)) return;
  if (url.protocol === 'http:') {
    throw new VouchError(
      'ERR_OCI_INSECURE',
      `${what} is plain HTTP (${url.host}); Vouch uses plain HTTP only for localhost, 127.0.0.1 and [::1], or with --allow-insecure-registry`,
      { details: { host: url.host } },
    );
  }
  throw new VouchError('ERR_OCI_REGISTRY', `${what} has an unsupported URL scheme ${url.protocol}`);
}

/** A URL the registry hands out (Location, Link; attacker input): text that is no URL is a registry error. */
export function registryUrl(text: string, base: URL, what: string): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new VouchError('ERR_OCI_REGISTRY', `${base.host}: ${what} is not a URL`);
  }
}

/** TLS failures that mean "this endpoint does not speak TLS at all" (a plain-HTTP registry). */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

function networkError(e: unknown, url: URL): VouchError {
  if (e instanceof VouchError) return e;
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError')
    return new VouchError('ERR_OCI_UNREACHABLE', `${url.host}: no answer in time`, { cause: e });
  const code = err.cause?.code ?? 'error';
  if (url.protocol === 'https:' && NOT_TLS.has(code)) {
    return new VouchError(
      'ERR_OCI_INSECURE',
      `${url.host} does not answer over HTTPS (it may be a plain-HTTP registry); use --allow-insecure-registry to allow plain HTTP`,
      { cause: e, details: { host: url.host } },
    );
  }
  return new VouchError('ERR_OCI_UNREACHABLE', `cannot reach ${url.host}: ${code}`, {
    cause: e,
    details: { host: url.host },
  });
}

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** Sent to the request's origin only; dropped when a redirect leaves it (blob storage, CDNs). */
  readonly authorization?: string;
}

/**
 * fetch inflates gzip/deflate/br bodies on its own, so a size cap would count inflated bytes: a few KiB on the
 * wire could cost the cap in memory and CPU. Vouch asks for none (RFC 9110 §12.5.3) and refuses an encoded body.
 */
function contentCoding(res: Response): string | undefined {
  const coding = res.headers.get('content-encoding')?.trim().toLowerCase();
  return coding === undefined || coding === '' || coding === 'identity' ? undefined : coding;
}

/**
 * One request with redirects followed by hand (at most 5), so every hop passes `assertTransport` and
 * credentials never follow a redirect to another origin. Network failures become ERR_OCI_UNREACHABLE (or
 * ERR_OCI_INSECURE when an HTTPS endpoint turns out to speak plain HTTP).
 */
export async function send(req: HttpRequest, o: TransportOptions): Promise<Response> {
  let url = req.url;
  let method = req.method;
  let body = req.body;
  const origin = req.url.origin;
  for (let hop = 0; ; hop++) {
    assertTransport(url, o, hop === 0 ? 'the registry' : 'a redirect');
    const headers: Record<string, string> = {
      'user-agent': o.userAgent,
      ...req.headers,
      'accept-encoding': 'identity',
    };
    if (req.authorization !== undefined && url.origin === origin)
      headers['authorization'] = req.authorization;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (e) {
      throw networkError(e, url);
    }
    const location = res.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(res.status) || location === null) return res;
    await discard(res);
    if (hop >= MAX_REDIRECTS) throw new VouchError('ERR_OCI_REGISTRY', `${req.url.host}: too many redirects`);
    url = registryUrl(location, url, 'a redirect Location');
    // RFC 9110 §15.4: 303 (and, by practice, 301/302 after a POST) turn into a GET without a body.
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
  }
}

export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // The connection is being dropped either way.
  }
}

/**
 * Reads a response body of at most `max` bytes (attacker-controlled registry): a larger Content-Length is
 * refused before reading, and a body that grows past the cap is cut off.
 */
export async function readBody(res: Response, max: number, what: string): Promise<Uint8Array> {
  const tooLarge = () =>
    new VouchError('ERR_INPUT_TOO_LARGE', `${what} is larger than ${max} bytes`, { details: { limit: max } });
  const coding = contentCoding(res);
  if (coding !== undefined) {
    await discard(res);
    throw new VouchError(
      'ERR_OCI_REGISTRY',
      `${what} came content-encoded (${clean(coding, 32)}), not as asked`,
    );
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > max) {
    await discard(res);
    throw tooLarge();
  }
  if (res.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw new VouchError('ERR_OCI_UNREACHABLE', `${what}: the connection failed while reading`, { cause: e });
  }
  return Buffer.concat(chunks, total);
}

export interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Readonly<Record<string, string>>;
}

// RFC 9110 §11.6.1 / §11.2: challenges are `scheme param=value, param="quoted, value"`, several per header.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** Parses WWW-Authenticate; only Basic and Bearer are kept (Bearer first), unknown schemes are skipped. */
export function parseChallenges(header: string | null): Challenge[] {
  if (header === null) return [];
  const out: { scheme: string; params: Record<string, string> }[] = [];
  let s = header.trim();
  while (s.length > 0) {
    const scheme = TOKEN.exec(s)?.[0];
    if (scheme === undefined) break;
    s = s.slice(scheme.length).trimStart();
    const params: Record<string, string> = {};
    out.push({ scheme: scheme.toLowerCase(), params });
    while (s.length > 0) {
      const name = TOKEN.exec(s)?.[0];
      if (name === undefined) break;
      const after = s.slice(name.length).trimStart();
      if (!after.startsWith('=')) break; // the next challenge's scheme
      let rest = after.slice(1).trimStart();
      let value = '';
      if (rest.startsWith('"')) {
        let i = 1;
        for (; i < rest.length && rest[i] !== '"'; i++) {
          if (rest[i] === '\\' && i + 1 < rest.length) i++;
          value += rest[i];
        }
        rest = rest.slice(i + 1);
      } else {
        value = TOKEN.exec(rest)?.[0] ?? '';
        rest = rest.slice(value.length);
      }
      Object.defineProperty(params, name.toLowerCase(), { value, enumerable: true, writable: true });
      s = rest.trimStart().replace(/^,\s*/, '');
    }
    s = s.replace(/^,\s*/, '');
  }
  return out
    .filter((c): c is Challenge => c.scheme === 'basic' || c.scheme === 'bearer')
    .sort((a, b) => (a.scheme === b.scheme ? 0 : a.scheme === 'bearer' ? -1 : 1));
}

/** Printable, bounded text from an attacker-controlled registry message. */
function clean(text: string, max: number): string {
  const t = text.replace(/[^\x20-\x7e]/g, '?');
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** distribution-spec v1.1 §Error codes: `{"errors":[{"code","message"}]}`; only codes and short messages. */
async function errorSummary(res: Response): Promise<string> {
  if (res.body === null) return '';
  let bytes: Uint8Array;
  try {
    bytes = await readBody(res, MAX_ERROR_BODY, 'error body');
  } catch {
    return '';
  }
  try {
    const json = parseJson(bytes);
    const errors = isRecord(json) && Array.isArray(json['errors']) ? json['errors'].slice(0, 3) : [];
    return errors
      .filter(isRecord)
      .map((e) => {
        const code =
          typeof e['code'] === 'string' && /^[A-Z_]{1,64}$/.test(e['code']) ? e['code'] : 'UNKNOWN';
        const message = typeof e['message'] === 'string' ? `: ${clean(e['message'], 200)}` : '';
        return `${code}${message}`;
      })
      .join('; ');
  } catch {
    return '';
  }
}

/** The coded error for a failed registry response: 401/403 auth, 404 not found, the rest registry errors. */
export async function statusError(res: Response, what: string): Promise<VouchError> {
  const summary = await errorSummary(res);
  const code: VouchErrorCode =
    res.status === 401 || res.status === 403
      ? 'ERR_OCI_AUTH'
      : res.status === 404
        ? 'ERR_OCI_NOT_FOUND'
        : 'ERR_OCI_REGISTRY';
  const reason =
    res.status === 401
      ? 'authentication required or refused'
      : res.status === 403
        ? 'access denied'
        : res.status === 404
          ? 'not found'
          : `HTTP ${res.status}`;
  return new VouchError(code, `${what}: ${reason}${summary === '' ? '' : ` (${summary})`}`, {
    details: { status: res.status },
  });
}
