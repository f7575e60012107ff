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
      ? { vcs_url: source.url }
      : source.type === 'tarball'
        ? { download_url: source.url }
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
