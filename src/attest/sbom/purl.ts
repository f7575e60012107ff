import { PackageURL } from 'packageurl-js';

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

/** `pkg:npm/%40scope/name@1.2.3` (the spec percent-encodes the scope's `@`), plus the source qualifier. */
export function npmPurl(name: string, version: string, source: PackageSource): string {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  const namespace = slash > 0 ? name.slice(0, slash) : undefined;
  const bare = slash > 0 ? name.slice(slash + 1) : name;
  const qualifiers =
    source.type === 'git'
      ? { vcs_url: publishableUrl(source.url) }
      : source.type === 'tarball'
        ? { download_url: publishableUrl(source.url) }
        : undefined;
  return new PackageURL(
    'npm',
    namespace,
    bare,
    version === '' ? undefined : version,
    qualifiers,
    undefined,
  ).toString();
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
