import { VouchError } from '../core/index.js';

/**
 * An image reference per the distribution reference grammar (github.com/distribution/reference,
 * reference.go and normalize.go), normalised the way docker does: no registry means `docker.io`, and a
 * one-component Docker Hub name gets `library/`.
 */
export interface Reference {
  /** `host[:port]` as written (lowercased host), e.g. `127.0.0.1:5000`, `ghcr.io`, `[::1]:5000`, `docker.io`. */
  readonly registry: string;
  /** Path inside the registry, e.g. `acme/app`, `library/alpine`. */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<hex>` or `sha512:<hex>`; when given, it wins over the tag (as docker pulls by digest). */
  readonly digest?: string;
}

const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
/** reference.go NameTotalLengthMax. */
const NAME_MAX = 255;

// reference.go: domain-name components, an IPv6 literal in brackets, an optional port.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
// reference.go: alpha-numeric runs joined by `.`, `_`, `__` or any number of `-`; lowercase only.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const IDENTIFIER = /^[a-f0-9]{64}$/;

/**
 * image-spec descriptor.md §Registered algorithms: the only algorithms whose content Vouch can check, with
 * their encoded form (lowercase hex of a fixed length). A digest Vouch cannot recompute is refused.
 */
export const DIGEST_HEX: Readonly<Record<'sha256' | 'sha512', RegExp>> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

function invalid(input: string, why: string): VouchError {
  return new VouchError('ERR_OCI_REFERENCE', `invalid image reference "${input}": ${why}`, {
    details: { reference: input },
  });
}

/** Checks a digest string against the grammar and the registered algorithms; returns it unchanged. */
export function checkDigest(digest: string, input = digest): string {
  if (!DIGEST.test(digest)) throw invalid(input, `"${digest}" is not a digest (algorithm:hex)`);
  const [algorithm, hex] = digest.split(':') as [string, string];
  if (algorithm !== 'sha256' && algorithm !== 'sha512')
    throw invalid(input, `digest algorithm ${algorithm} is not supported (sha256, sha512)`);
  if (!DIGEST_HEX[algorithm].test(hex))
    throw invalid(
      input,
      `a ${algorithm} digest is ${algorithm === 'sha256' ? 64 : 128} lowercase hex characters`,
    );
  return digest;
}

/** `host[:port]` as the reference grammar writes a registry (the form VOUCH_REGISTRY_HOSTS lists). */
export function isRegistryHost(text: string): boolean {
  return DOMAIN.test(text);
}

/** Whether the first path component names a registry (normalize.go splitDockerDomain). */
function isRegistry(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first;
}

/** Parses `[registry/]repository[:tag][@digest]`; anything outside the grammar is ERR_OCI_REFERENCE. */
export function parseReference(input: string): Reference {
  if (typeof input !== 'string') throw new TypeError('parseReference: the reference must be a string');
  if (input === '') throw invalid(input, 'it is empty');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = checkDigest(rest.slice(at + 1), input);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    if (!TAG.test(tag)) throw invalid(input, `"${tag}" is not a tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`);
    rest = rest.slice(0, colon);
  }
  if (rest.length > NAME_MAX) throw invalid(input, `the name is longer than ${NAME_MAX} characters`);
  if (IDENTIFIER.test(rest)) throw invalid(input, 'a 64-character hex string is an image ID, not a name');

  const slash = rest.indexOf('/');
  let registry = DEFAULT_REGISTRY;
  let repository = rest;
  if (slash >= 0 && isRegistry(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    if (!DOMAIN.test(registry)) throw invalid(input, `"${registry}" is not a registry host[:port]`);
    registry = registry.toLowerCase();
  }
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  if (repository.toLowerCase() !== repository) throw invalid(input, 'the repository name must be lowercase');
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component))
      throw invalid(input, `"${component}" is not a repository path component ([a-z0-9] joined by . _ __ -)`);
  }
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  return {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** `registry/repository[:tag][@digest]`, the form `parseReference` reads back. */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** The same repository pinned to `digest` (the tag is kept for display only). */
export function withDigest(ref: Reference, digest: string): Reference {
  return { ...ref, digest: checkDigest(digest) };
}

/**
 * distribution-spec v1.1 §Referrers tag schema: `<alg>-<ref>`, the digest's hex truncated to 64 characters,
 * characters a tag cannot hold replaced with `-`.
 */
export function referrersTag(digest: string): string {
  const [algorithm, hex] = checkDigest(digest).split(':') as [string, string];
  return `${algorithm.replace(/[^\w.-]/g, '-')}-${hex.slice(0, 64)}`;
}

/** cosign SIGNATURE_SPEC.md §Tag-based discovery: `sha256-<hex>.sig` (and `.att` for attestations). */
export function cosignTag(digest: string, suffix: 'sig' | 'att'): string {
  return `${checkDigest(digest).replace(':', '-')}.${suffix}`;
}
