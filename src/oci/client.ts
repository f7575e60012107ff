import { isRecord, parseJson, toBase64, VouchError } from '../core/index.js';
import {
  type BoundCredentials,
  type Env,
  lookupCredentials,
  type RegistryCredentials,
} from './credentials.js';
import { assertContentDigest, digestOf, splitDigest } from './digest.js';
import {
  assertTransport,
  type Challenge,
  discard,
  type HttpRequest,
  parseChallenges,
  readBody,
  registryOrigin,
  registryUrl,
  send,
  statusError,
  type TransportOptions,
} from './http.js';
import { type Descriptor, type Manifest, parseManifest } from './manifest.js';
import { MANIFEST_ACCEPT, OCI_INDEX } from './media-types.js';
import { checkDigest, formatReference, type Reference } from './reference.js';

export interface RegistryClientOptions {
  /** Speak plain HTTP to registries that are not loopback (`--allow-insecure-registry`). */
  readonly allowInsecureRegistry?: boolean;
  /** Credentials for the registries they name, and no other; else VOUCH_REGISTRY_* from `env`, else config.json. */
  readonly credentials?: BoundCredentials;
  /** Where VOUCH_REGISTRY_USERNAME/PASSWORD/HOSTS, DOCKER_CONFIG and HOME are read (default: process.env). */
  readonly env?: Env;
  /**
   * The registry VOUCH_REGISTRY_USERNAME/PASSWORD are for when VOUCH_REGISTRY_HOSTS is unset: the one image a
   * CLI command names. Never set it where others name the images (a server): without it and without
   * VOUCH_REGISTRY_HOSTS, those variables are not used.
   */
  readonly envCredentialsRegistry?: string;
  /** Per request, redirects included (default 30 s). */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

/** A manifest fetched and checked: its bytes hash to `digest`. */
export interface ResolvedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly manifest: Manifest;
}

export type ReferrersResult =
  | { readonly supported: false }
  | { readonly supported: true; readonly manifests: readonly Descriptor[] };

/** OCI distribution-spec v1.1 client over one or more registries; `createRegistryClient` builds one. */
export interface RegistryClient {
  /** The manifest a reference names: by digest when it has one (checked), else its tag (default `latest`). */
  resolve(ref: Reference): Promise<ResolvedManifest>;
  /** GET a manifest by tag or digest; the bytes are checked against the digest asked for or announced. */
  getManifest(ref: Reference, reference: string): Promise<ResolvedManifest>;
  /** PUT a manifest by tag or digest; `subject` is the OCI-Subject header (the registry indexed a referrer). */
  putManifest(
    ref: Reference,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ digest: string; subject?: string }>;
  hasBlob(ref: Reference, digest: string): Promise<boolean>;
  /** Uploads a blob (POST, then a monolithic PUT) unless the repository already holds it. */
  pushBlob(ref: Reference, bytes: Uint8Array): Promise<{ digest: string; size: number }>;
  /** GET a blob of at most `maxBytes`, checked against its digest. */
  getBlob(ref: Reference, digest: string, maxBytes: number): Promise<Uint8Array>;
  listTags(ref: Reference): Promise<string[]>;
  /** distribution-spec v1.1 §Listing referrers; a 404 means the registry has no referrers API. */
  referrers(ref: Reference, digest: string, artifactType?: string): Promise<ReferrersResult>;
}

/** distribution-spec v1.1 §Pushing manifests: registries SHOULD accept at least 4 MiB; Vouch reads no more. */
export const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_TOKEN_RESPONSE = 1024 * 1024;
const MAX_TAG_PAGE = 4 * 1024 * 1024;
const MAX_PAGES = 64;
const DEFAULT_TIMEOUT_MS = 30_000;

type Scope = 'pull' | 'pull,push';

interface Token {
  readonly authorization: string;
  readonly expires: number;
}

interface HostState {
  basic?: string;
  readonly tokens: Map<string, Token>;
  credentials?: Promise<RegistryCredentials | undefined>;
}

interface Call {
  readonly method: HttpRequest['method'];
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
  readonly push?: boolean;
}

function basicHeader(c: RegistryCredentials): string {
  return `Basic ${toBase64(Buffer.from(`${c.username}:${c.password}`, 'utf8'))}`;
}

function contentType(res: Response): string | undefined {
  const v = res.headers.get('content-type');
  return v === null ? undefined : (v.split(';')[0] as string).trim().toLowerCase();
}

/** RFC 8288 `Link: <url>; rel="next"` (distribution-spec v1.1 §Listing tags, §Listing referrers). */
function nextLink(res: Response, base: URL): URL | undefined {
  const link = res.headers.get('link');
  const m = link === null ? null : /<([^>]*)>\s*;\s*rel="?next"?/i.exec(link);
  if (m === null) return undefined;
  const next = registryUrl(m[1] as string, base, 'a Link header');
  if (next.origin !== base.origin)
    throw new VouchError('ERR_OCI_REGISTRY', `${base.host}: a Link header leaves the registry`);
  return next;
}

class OciRegistryClient implements RegistryClient {
  readonly #o: TransportOptions;
  readonly #credentials: BoundCredentials | undefined;
  readonly #env: Env;
  readonly #envRegistry: string | undefined;
  readonly #hosts = new Map<string, HostState>();

  constructor(opts: RegistryClientOptions) {
    this.#o = {
      allowInsecureRegistry: opts.allowInsecureRegistry === true,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      userAgent: opts.userAgent ?? 'vouch',
    };
    this.#credentials = opts.credentials;
    this.#env = opts.env ?? process.env;
    this.#envRegistry = opts.envCredentialsRegistry;
  }

  #url(ref: Reference, path: string): URL {
    return new URL(`/v2/${ref.repository}/${path}`, registryOrigin(ref.registry, this.#o));
  }

  #host(registry: string): HostState {
    let h = this.#hosts.get(registry);
    if (h === undefined) {
      h = { tokens: new Map() };
      this.#hosts.set(registry, h);
    }
    return h;
  }

  #credentialsFor(registry: string): Promise<RegistryCredentials | undefined> {
    const h = this.#host(registry);
    h.credentials ??= lookupCredentials(registry, {
      env: this.#env,
      ...(this.#credentials === undefined ? {} : { explicit: this.#credentials }),
      ...(this.#envRegistry === undefined ? {} : { envRegistry: this.#envRegistry }),
    });
    return h.credentials;
  }

  #authorization(ref: Reference, scope: Scope): string | undefined {
    const h = this.#host(ref.registry);
    if (h.basic !== undefined) return h.basic;
    const now = Date.now();
    for (const s of scope === 'pull' ? ['pull', 'pull,push'] : ['pull,push']) {
      const t = h.tokens.get(`repository:${ref.repository}:${s}`);
      if (t !== undefined && t.expires > now) return t.authorization;
    }
    return undefined;
  }

  /** docker token authentication (distribution docs/spec/auth/token.md): GET realm?service&scope → token. */
  async #fetchToken(ref: Reference, c: Challenge, scope: string): Promise<Token> {
    const realmText = c.params['realm'];
    let realm: URL;
    try {
      realm = new URL(realmText ?? '');
    } catch {
      throw new VouchError('ERR_OCI_AUTH', `${ref.registry}: the Bearer challenge has no usable realm`);
    }
    assertTransport(realm, this.#o, 'the token realm');
    const service = c.params['service'];
    if (service !== undefined) realm.searchParams.set('service', service);
    realm.searchParams.append('scope', scope);
    const creds = await this.#credentialsFor(ref.registry);
    const res = await send(
      {
        method: 'GET',
        url: realm,
        headers: { accept: 'application/json' },
        ...(creds === undefined ? {} : { authorization: basicHeader(creds) }),
      },
      this.#o,
    );
    if (res.status !== 200) {
      const e = await statusError(res, `token server ${realm.host}`);
      throw e.code === 'ERR_OCI_AUTH' || e.code === 'ERR_OCI_NOT_FOUND'
        ? new VouchError(
            'ERR_OCI_AUTH',
            `${e.message}${creds === undefined ? ' (no credentials were found)' : ''}`,
          )
        : e;
    }
    const json = parseJson(
      await readBody(res, MAX_TOKEN_RESPONSE, 'the token response'),
      'the token response',
    );
    const token = isRecord(json) ? (json['token'] ?? json['access_token']) : undefined;
    if (typeof token !== 'string' || token === '' || !/^[\x21-\x7e]+$/.test(token))
      throw new VouchError('ERR_OCI_AUTH', `token server ${realm.host} sent no usable token`);
    const ttl = isRecord(json) && typeof json['expires_in'] === 'number' ? json['expires_in'] : 60;
    return { authorization: `Bearer ${token}`, expires: Date.now() + Math.max(0, ttl - 10) * 1000 };
  }

  /** Answers a 401 challenge; returns false when retrying cannot help. */
  async #authenticate(
    ref: Reference,
    challenges: readonly Challenge[],
    scope: Scope,
    sent: boolean,
  ): Promise<boolean> {
    const c = challenges[0];
    if (c === undefined) return false;
    const h = this.#host(ref.registry);
    if (c.scheme === 'basic') {
      if (sent && h.basic !== undefined) return false;
      const creds = await this.#credentialsFor(ref.registry);
      if (creds === undefined)
        throw new VouchError(
          'ERR_OCI_AUTH',
          `${ref.registry} requires a login: no credentials found for it (docker config.json, or VOUCH_REGISTRY_USERNAME/PASSWORD with the registry in VOUCH_REGISTRY_HOSTS)`,
        );
      h.basic = basicHeader(creds);
      return true;
    }
    const key = `repository:${ref.repository}:${scope}`;
    h.tokens.set(key, await this.#fetchToken(ref, c, key));
    return true;
  }

  /**
   * One registry call, answering at most one authentication challenge. A URL the registry handed out (upload
   * Location) may name another origin: it gets no Authorization, and its challenges are not answered.
   */
  async #call(ref: Reference, call: Call): Promise<Response> {
    const scope: Scope = call.push === true ? 'pull,push' : 'pull';
    const own = call.url.origin === registryOrigin(ref.registry, this.#o).origin;
    const attempt = (authorization: string | undefined) =>
      send(
        {
          method: call.method,
          url: call.url,
          ...(call.headers === undefined ? {} : { headers: call.headers }),
          ...(call.body === undefined ? {} : { body: call.body }),
          ...(authorization === undefined ? {} : { authorization }),
        },
        this.#o,
      );
    const first = own ? this.#authorization(ref, scope) : undefined;
    const res = await attempt(first);
    if (res.status !== 401 || !own) return res;
    const challenges = parseChallenges(res.headers.get('www-authenticate'));
    if (!(await this.#authenticate(ref, challenges, scope, first !== undefined))) return res;
    await discard(res);
    return attempt(this.#authorization(ref, scope));
  }

  async getManifest(ref: Reference, reference: string): Promise<ResolvedManifest> {
    const byDigest = reference.includes(':');
    if (byDigest) checkDigest(reference);
    const what = `manifest ${formatReference({ registry: ref.registry, repository: ref.repository })}${byDigest ? '@' : ':'}${reference}`;
    const res = await this.#call(ref, {
      method: 'GET',
      url: this.#url(ref, `manifests/${reference}`),
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (res.status !== 200) throw await statusError(res, what);
    const bytes = await readBody(res, MAX_MANIFEST, what);
    let digest: string;
    if (byDigest) {
      assertContentDigest(bytes, reference, what);
      digest = reference;
    } else {
      // By tag nothing pins the bytes: their own SHA-256 is the digest; a header that disagrees is a lie.
      digest = digestOf(bytes);
      const announced = res.headers.get('docker-content-digest');
      if (announced?.startsWith('sha256:') && announced !== digest) {
        throw new VouchError(
          'ERR_DIGEST_MISMATCH',
          `${what}: the registry announced ${announced} for bytes of ${digest}`,
          {
            details: { expected: announced, actual: digest },
          },
        );
      }
    }
    const manifest = parseManifest(bytes, contentType(res), what);
    return { digest, mediaType: manifest.mediaType, size: bytes.byteLength, bytes, manifest };
  }

  async resolve(ref: Reference): Promise<ResolvedManifest> {
    if (ref.digest !== undefined) return this.getManifest(ref, ref.digest);
    const tag = ref.tag ?? 'latest';
    const head = await this.#call(ref, {
      method: 'HEAD',
      url: this.#url(ref, `manifests/${tag}`),
      headers: { accept: MANIFEST_ACCEPT },
    });
    await discard(head);
    if (head.status === 404 || head.status === 401 || head.status === 403)
      throw await statusError(head, `manifest ${formatReference({ ...ref, tag })}`);
    // HEAD names the digest; the GET by that digest proves it. Without a usable header, GET the tag itself.
    const announced = head.status === 200 ? head.headers.get('docker-content-digest') : null;
    if (announced !== null && /^sha256:[a-f0-9]{64}$/.test(announced))
      return this.getManifest(ref, announced);
    return this.getManifest(ref, tag);
  }

  async putManifest(
    ref: Reference,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ digest: string; subject?: string }> {
    const digest = digestOf(bytes);
    if (reference.includes(':') && checkDigest(reference) !== digest)
      throw new TypeError(`putManifest: the manifest's digest is ${digest}, not ${reference}`);
    const what = `push of manifest ${formatReference({ registry: ref.registry, repository: ref.repository })}:${reference}`;
    const res = await this.#call(ref, {
      method: 'PUT',
      url: this.#url(ref, `manifests/${reference}`),
      headers: { 'content-type': mediaType },
      body: bytes,
      push: true,
    });
    if (res.status !== 201 && res.status !== 200) throw await statusError(res, what);
    await discard(res);
    const announced = res.headers.get('docker-content-digest');
    if (announced?.startsWith('sha256:') && announced !== digest)
      throw new VouchError('ERR_OCI_REGISTRY', `${what}: the registry stored ${announced}, not ${digest}`);
    const subject = res.headers.get('oci-subject');
    return { digest, ...(subject === null ? {} : { subject }) };
  }

  async hasBlob(ref: Reference, digest: string): Promise<boolean> {
    const res = await this.#call(ref, {
      method: 'HEAD',
      url: this.#url(ref, `blobs/${checkDigest(digest)}`),
    });
    await discard(res);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await statusError(res, `blob ${digest}`);
  }

  async pushBlob(ref: Reference, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
    const digest = digestOf(bytes);
    const size = bytes.byteLength;
    if (await this.hasBlob(ref, digest)) return { digest, size };
    const what = `upload of blob ${digest} to ${ref.registry}/${ref.repository}`;
    // distribution-spec v1.1 §Pushing a blob monolithically: POST for a session, then PUT ?digest= the bytes.
    const start = await this.#call(ref, {
      method: 'POST',
      url: this.#url(ref, 'blobs/uploads/'),
      push: true,
    });
    const location = start.headers.get('location');
    if (start.status !== 202 || location === null) throw await statusError(start, what);
    await discard(start);
    const url = registryUrl(location, registryOrigin(ref.registry, this.#o), 'the upload Location');
    url.searchParams.set('digest', digest);
    const put = await this.#call(ref, {
      method: 'PUT',
      url,
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
      push: true,
    });
    if (put.status !== 201) throw await statusError(put, what);
    await discard(put);
    return { digest, size };
  }

  async getBlob(ref: Reference, digest: string, maxBytes: number): Promise<Uint8Array> {
    splitDigest(digest);
    const what = `blob ${ref.registry}/${ref.repository}@${digest}`;
    const res = await this.#call(ref, { method: 'GET', url: this.#url(ref, `blobs/${digest}`) });
    if (res.status !== 200) throw await statusError(res, what);
    const bytes = await readBody(res, maxBytes, what);
    assertContentDigest(bytes, digest, what);
    return bytes;
  }

  async listTags(ref: Reference): Promise<string[]> {
    const tags: string[] = [];
    let url: URL | undefined = this.#url(ref, 'tags/list');
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_PAGES)
        throw new VouchError('ERR_OCI_REGISTRY', `${ref.registry}: too many pages of tags`);
      const what = `tag list of ${ref.registry}/${ref.repository}`;
      const res: Response = await this.#call(ref, { method: 'GET', url });
      if (res.status !== 200) throw await statusError(res, what);
      const next = nextLink(res, url);
      const json = parseJson(await readBody(res, MAX_TAG_PAGE, what), what);
      const list = isRecord(json) ? json['tags'] : undefined;
      if (list !== null && !Array.isArray(list))
        throw new VouchError('ERR_OCI_REGISTRY', `${what}: "tags" is not a list`);
      for (const t of list ?? []) {
        if (typeof t !== 'string') throw new VouchError('ERR_OCI_REGISTRY', `${what}: a tag is not a string`);
        tags.push(t);
      }
      url = next;
    }
    return tags;
  }

  async referrers(ref: Reference, digest: string, artifactType?: string): Promise<ReferrersResult> {
    const manifests: Descriptor[] = [];
    let url: URL | undefined = this.#url(ref, `referrers/${checkDigest(digest)}`);
    if (artifactType !== undefined) url.searchParams.set('artifactType', artifactType);
    const what = `referrers of ${ref.registry}/${ref.repository}@${digest}`;
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_PAGES) throw new VouchError('ERR_OCI_REGISTRY', `${what}: too many pages`);
      const res: Response = await this.#call(ref, { method: 'GET', url, headers: { accept: OCI_INDEX } });
      if (res.status === 404 && page === 0) {
        await discard(res);
        return { supported: false };
      }
      if (res.status !== 200) throw await statusError(res, what);
      const next = nextLink(res, url);
      const index = parseManifest(await readBody(res, MAX_MANIFEST, what), contentType(res), what);
      if (index.kind !== 'index')
        throw new VouchError('ERR_OCI_MANIFEST', `${what}: the answer is not an image index`);
      // OCI-Filters-Applied may be absent (filter ignored): filter here as well.
      manifests.push(
        ...index.manifests.filter((m) => artifactType === undefined || m.artifactType === artifactType),
      );
      url = next;
    }
    return { supported: true, manifests };
  }
}

export function createRegistryClient(opts: RegistryClientOptions = {}): RegistryClient {
  return new OciRegistryClient(opts);
}
