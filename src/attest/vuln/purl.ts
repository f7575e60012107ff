import { parsePurl } from '../sbom/purl.js';

/** A package version as OSV names it: ecosystem, name in the ecosystem's spelling, version. */
export interface OsvPackage {
  readonly ecosystem: string;
  readonly name: string;
  readonly version: string;
}

/**
 * purl type → OSV ecosystem, and how the purl's namespace joins the name (purl-spec PURL-TYPES.rst;
 * OSV §affected[].package.name for each ecosystem). npm scopes keep their `@`; Go module paths and Packagist
 * vendors join with `/`; Maven is `group:artifact`.
 */
const TYPES: Readonly<Record<string, { ecosystem: string; join: string }>> = {
  npm: { ecosystem: 'npm', join: '/' },
  pypi: { ecosystem: 'PyPI', join: '/' },
  golang: { ecosystem: 'Go', join: '/' },
  maven: { ecosystem: 'Maven', join: ':' },
  cargo: { ecosystem: 'crates.io', join: '/' },
  gem: { ecosystem: 'RubyGems', join: '/' },
  nuget: { ecosystem: 'NuGet', join: '/' },
  composer: { ecosystem: 'Packagist', join: '/' },
};

/**
 * The name under which records are stored and looked up. PyPI names compare after PEP 503 normalisation
 * (`Django_Rest.Framework` = `django-rest-framework`). npm and NuGet names compare case-folded: packageurl-js
 * lowercases npm purl names (purl-spec PURL-TYPES: npm "must be lowercased"), NuGet ids are
 * case-insensitive, while OSV keeps the registry's spelling (`JSONStream`). Other ecosystems compare exactly.
 */
export function normaliseName(ecosystem: string, name: string): string {
  if (ecosystem === 'PyPI') return name.toLowerCase().replace(/[-_.]+/g, '-');
  return ecosystem === 'npm' || ecosystem === 'NuGet' ? name.toLowerCase() : name;
}

/**
 * The OSV package a purl names, or undefined when the purl is malformed, has no version, or is of a type
 * no OSV ecosystem covers (such a component cannot be scanned; the caller reports it).
 */
export function purlToPackage(purl: string): OsvPackage | undefined {
  const p = parsePurl(purl);
  if (p === undefined) return undefined;
  const t = Object.hasOwn(TYPES, p.type) ? TYPES[p.type] : undefined;
  if (t === undefined || p.version === undefined || p.version === null || p.version === '') return undefined;
  const ns =
    p.namespace === undefined || p.namespace === null || p.namespace === '' ? undefined : p.namespace;
  const name = ns === undefined ? p.name : `${ns}${t.join}${p.name}`;
  return { ecosystem: t.ecosystem, name: normaliseName(t.ecosystem, name), version: p.version };
}
