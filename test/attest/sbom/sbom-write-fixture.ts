// A hand-built package graph that exercises every branch of the SBOM writers, and the schema validators.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import type { PackageGraph, PackageNode } from '../../../src/attest/sbom/model.js';
import { VECTORS } from '../../helpers.js';

export function purlOf(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, '%40')}@${version}`;
}

export function node(name: string, version: string, extra: Partial<PackageNode> = {}): PackageNode {
  const id = purlOf(name, version);
  return {
    id,
    name,
    version,
    purl: id,
    hashes: [],
    dev: false,
    optional: false,
    kind: 'package',
    dependencies: [],
    ...extra,
  };
}

export const TOOL = { name: 'vouch', version: '0.1.0' };
export const T0 = new Date('2024-05-01T12:00:00.250Z');

/**
 * root @acme/app → left-pad (prod, credentials in resolved), @acme/lib (workspace) → ms (optional);
 * root → @types/node (dev) → undici-types (dev); plus licences of every kind.
 */
export function fixtureGraph(): PackageGraph {
  const leftPad = node('left-pad', '1.3.0', {
    hashes: [
      { alg: 'SHA-512', hex: 'ab'.repeat(64) },
      { alg: 'SHA-1', hex: 'cd'.repeat(20) },
    ],
    resolved: 'https://user:s3cret@registry.example.com/left-pad/-/left-pad-1.3.0.tgz',
    license: 'WTFPL',
    licenseSource: 'lockfile',
  });
  const undici = node('undici-types', '5.26.5', { dev: true, license: 'MIT', licenseSource: 'package.json' });
  const typesNode = node('@types/node', '20.0.0', {
    dev: true,
    license: '(MIT OR Apache-2.0)',
    licenseSource: 'lockfile',
    resolved: 'https://registry.npmjs.org/@types/node/-/node-20.0.0.tgz',
    dependencies: [undici.id],
  });
  const ms = node('ms', '2.1.3', {
    optional: true,
    license: 'SEE LICENSE IN LICENSE.md',
    licenseSource: 'lockfile',
  });
  const gpl = node('old-gpl', '0.0.1', { license: 'GPL-2.0+', resolved: 'file:../vendor/old-gpl' });
  const ref = node('refd', '1.0.0', { license: 'MIT AND LicenseRef-acme-eula' });
  const lib = node('@acme/lib', '0.1.0', { kind: 'workspace', dependencies: [ms.id, gpl.id, ref.id] });
  const root = node('@acme/app', '1.0.0', {
    kind: 'root',
    license: 'Apache-2.0',
    dependencies: [typesNode.id, leftPad.id, lib.id],
  });
  const all = [leftPad, undici, typesNode, ms, gpl, ref, lib];
  return {
    lockfile: { path: 'package-lock.json', type: 'npm', version: '3', sha256: '0f'.repeat(32) },
    root,
    packages: new Map(all.sort((a, b) => (a.id < b.id ? -1 : 1)).map((n) => [n.id, n])),
  };
}

const SBOM = join(VECTORS, 'sbom');
const readJson = (p: string): Record<string, unknown> =>
  JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

function formats(ajv: Ajv | Ajv2019): void {
  addFormats.default(ajv);
  // ajv-formats has no IRI formats (RFC 3987); an IRI reference has no spaces or controls, and idn-email an @.
  ajv.addFormat('iri-reference', /^[^\s\p{Cc}]*$/u);
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
}

/** The official CycloneDX 1.6 JSON schema with the spdx and jsf schemas it references. */
export function cycloneDxValidator(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: false });
  formats(ajv);
  ajv.addSchema(readJson(join(SBOM, 'cyclonedx-schema', 'spdx.schema.json')));
  ajv.addSchema(readJson(join(SBOM, 'cyclonedx-schema', 'jsf-0.82.schema.json')));
  return ajv.compile(readJson(join(SBOM, 'cyclonedx-schema', 'bom-1.6.schema.json')));
}

/** The official SPDX 2.3 JSON schema (draft 2019-09). */
export function spdxValidator(): ValidateFunction {
  const ajv = new Ajv2019({ strict: false });
  formats(ajv);
  return ajv.compile(readJson(join(SBOM, 'spdx-2.3', 'spdx-schema-2.3.json')));
}

export const LOCKFILES = join(VECTORS, 'lockfiles');

/** Every lockfile vector (file name), with the package.json published beside it when there is one. */
export function lockfileVectors(): { file: string; packageJson?: string }[] {
  const names = readdirSync(LOCKFILES);
  return names
    .filter((f) => /(?:package-lock\.json|pnpm-lock\.yaml|yarn\.lock)$/.test(f))
    .sort()
    .map((file) => {
      const pj = file.replace(/\.(?:package-lock\.json|pnpm-lock\.yaml|yarn\.lock)$/, '.package.json');
      return names.includes(pj) ? { file, packageJson: join(LOCKFILES, pj) } : { file };
    });
}
