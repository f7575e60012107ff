import type * as PackageUrlJs from 'packageurl-js';
import { lazyRequire, VouchError } from '../../core/index.js';

const packageUrlJs = lazyRequire<typeof PackageUrlJs>('packageurl-js');

/** A purl's parts (packageurl-js, loaded on first use), or undefined when the string is not a valid purl. */
export function parsePurl(text: string): PackageUrlJs.PackageURL | undefined {
  try {
    return packageUrlJs().PackageURL.fromString(text);
  } catch {
    return undefined;
  }
}

/**
 * Where a package's bytes came from. Registry packages need no qualifier; the purl spec's npm type says
 * `vcs_url` / `download_url` qualifiers distinguish other origins, so a git fork of `foo@1.0.0` is not the
 * registry's `foo@1.0.0` (https://github.com/package-url/purl-spec, PURL-TYPES "npm").
 */
export type PackageSource =
  | { readonly type: 'registry' }
  | { readonly type: 'git' | 'tarball'; readonly url: string }
  | { readonly type: 'local' };

export const REGISTRY: PackageSource = { type: 'registry' };

/**
 * `pkg:npm/%40scope/name@1.2.3` (the spec percent-encodes the scope's `@`), plus the source qualifier.
 * Written out rather than built with packageurl-js: this runs once per lockfile entry on `vouch sbom`'s
 * start-up path, and the library's load alone cost more than the whole npm reader (decision 013). The
 * output is the same string packageurl-js 2 gives, which test/attest/sbom/purl.test.ts checks property-wise:
 * npm lowercases namespace and name, trims name, version and qualifier value, and encodes each component
 * as packageurl-js's encoders do.
 */
export function npmPurl(name: string, version: string, source: PackageSource): string {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  const bare = (slash > 0 ? name.slice(slash + 1) : name).trim().toLowerCase();
  if (bare === '' || !name.isWellFormed() || !version.isWellFormed())
    throw new VouchError(
      'ERR_LOCKFILE_MALFORMED',
      `no purl can be built for package ${JSON.stringify(name)}`,
    );
  let purl = 'pkg:npm/';
  if (slash > 0) purl += `${encodeURIComponent(name.slice(0, slash).toLowerCase()).replaceAll('%3A', ':')}/`;
  purl += encodeURIComponent(bare);
  const v = version.trim();
  if (v !== '') purl += `@${encodeURIComponent(v).replaceAll('%3A', ':').replaceAll('%2B', '+')}`;
  if (source.type === 'git' || source.type === 'tarball') {
    const value = publishableUrl(source.url).trim();
    if (value !== '') purl += `?${source.type === 'git' ? 'vcs_url' : 'download_url'}=${formEncode(value)}`;
  }
  return purl;
}

/**
 * application/x-www-form-urlencoded serialisation of a qualifier value (WHATWG URL §5.2), with a space as
 * `%20` rather than `+`: encodeURIComponent plus the five marks it leaves alone. Lone surrogates become
 * U+FFFD as URLSearchParams makes them.
 */
function formEncode(value: string): string {
  return encodeURIComponent(value.toWellFormed()).replace(
    /[!'()~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const GIT_PREFIXES = ['git+', 'git://', 'git@', 'github:', 'gitlab:', 'bitbucket:', 'gist:'];

const AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)([^/\\]*)(.*)$/i;
const GIT_COMMIT = /^[0-9a-f]{1,64}$/i;
const BERRY_COMMIT = /^commit=[0-9a-f]{1,64}$/i;

/**
 * A lockfile location fit for publication: purls, bom-refs, dependency lists and download locations are
 * built from it, and lockfiles (attacker-influenced, and written by tools that saw the credentials) can
 * carry them as `https://user:token@host/…`, `?token=…` or a fragment. Drops the userinfo (an ssh account
 * such as `git@` is a login name, not a secret, and stays), the query, and the fragment unless it is a
 * git commit (`#<sha>`, yarn berry's `#commit=<sha>`), which pins the source and is public.
 */
export function publishableUrl(raw: string): string {
  const hash = raw.indexOf('#');
  const fragment = hash < 0 ? '' : raw.slice(hash + 1);
  let base = hash < 0 ? raw : raw.slice(0, hash);
  const query = base.indexOf('?');
  if (query >= 0) base = base.slice(0, query);
  const m = AUTHORITY.exec(base);
  if (m !== null) {
    const [, scheme = '', authority = '', rest = ''] = m;
    // WHATWG URL §4.4 authority state: the userinfo ends at the authority's last `@`.
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      const user = authority.slice(0, at);
      const sshUser = /ssh/i.test(scheme) && !user.includes(':');
      base = `${scheme}${sshUser ? `${user}@` : ''}${authority.slice(at + 1)}${rest}`;
    }
  }
  const commit =
    BERRY_COMMIT.test(fragment) || (GIT_COMMIT.test(fragment) && GIT_PREFIXES.some((p) => raw.startsWith(p)));
  return commit ? `${base}#${fragment}` : base;
}

/**
 * Classifies a recorded tarball location (npm `resolved`, yarn v1 `resolved`, pnpm `resolution.tarball`).
 * A URL shaped like a registry tarball (`…/<name>/-/<bare>-<version>.tgz`) counts as the registry whatever
 * its host: mirrors serve the same bytes, and the integrity digest pins them.
 */
export function sourceOf(resolved: string | undefined, name: string, version: string): PackageSource {
  if (resolved === undefined || resolved === '') return REGISTRY;
  if (GIT_PREFIXES.some((p) => resolved.startsWith(p))) return { type: 'git', url: resolved };
  if (resolved.startsWith('https://') || resolved.startsWith('http://')) {
    const bare = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
    const path = resolved.split(/[?#]/, 1)[0] ?? '';
    if (path.endsWith(`/${name}/-/${bare}-${version}.tgz`)) return REGISTRY;
    return { type: 'tarball', url: resolved };
  }
  return { type: 'local' };
}
