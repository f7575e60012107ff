import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SpdxDocument, toSpdx } from '../../../src/attest/index.js';
import { fixtureGraph, node, T0, TOOL } from './sbom-write-fixture.js';

const doc = (): SpdxDocument => toSpdx(fixtureGraph(), { timestamp: T0, tool: TOOL });
const pkg = (d: SpdxDocument, name: string) => {
  const p = d.packages.find((x) => x.name === name);
  assert.ok(p, `package ${name}`);
  return p;
};

describe('toSpdx', () => {
  it('writes the SPDX 2.3 document header with a content-derived namespace', () => {
    const d = doc();
    assert.equal(d.spdxVersion, 'SPDX-2.3');
    assert.equal(d.dataLicense, 'CC0-1.0');
    assert.equal(d.SPDXID, 'SPDXRef-DOCUMENT');
    assert.equal(d.name, '@acme/app@1.0.0');
    assert.match(d.documentNamespace, /^https:\/\/vouch\.dev\/spdx\/acme-app-1\.0\.0-[0-9a-f]{64}$/);
    assert.deepEqual(d.creationInfo, {
      created: '2024-05-01T12:00:00Z',
      creators: ['Tool: vouch-0.1.0'],
      comment: `From npm lockfile version 3, sha256 ${'0f'.repeat(32)}.`,
    });
    const later = toSpdx(fixtureGraph(), { timestamp: new Date('2025-01-01T00:00:00Z'), tool: TOOL });
    assert.notEqual(later.documentNamespace, d.documentNamespace);
    assert.equal(doc().documentNamespace, d.documentNamespace);
  });

  it('writes the root first, then every package in id order, with unique sanitised SPDXIDs', () => {
    const d = doc();
    assert.deepEqual(
      d.packages.map((p) => p.SPDXID),
      [
        'SPDXRef-Package-acme-app-1.0.0',
        'SPDXRef-Package-acme-lib-0.1.0',
        'SPDXRef-Package-types-node-20.0.0',
        'SPDXRef-Package-left-pad-1.3.0',
        'SPDXRef-Package-ms-2.1.3',
        'SPDXRef-Package-old-gpl-0.0.1',
        'SPDXRef-Package-refd-1.0.0',
        'SPDXRef-Package-undici-types-5.26.5',
      ],
    );
    assert.equal(pkg(d, '@acme/app').primaryPackagePurpose, 'APPLICATION');
    assert.equal(pkg(d, '@acme/lib').primaryPackagePurpose, 'APPLICATION');
    assert.equal(pkg(d, 'ms').primaryPackagePurpose, 'LIBRARY');
  });

  it('maps a registry package field by field', () => {
    assert.deepEqual(pkg(doc(), 'left-pad'), {
      SPDXID: 'SPDXRef-Package-left-pad-1.3.0',
      name: 'left-pad',
      versionInfo: '1.3.0',
      downloadLocation: 'https://registry.example.com/left-pad/-/left-pad-1.3.0.tgz',
      filesAnalyzed: false,
      checksums: [
        { algorithm: 'SHA1', checksumValue: 'cd'.repeat(20) },
        { algorithm: 'SHA512', checksumValue: 'ab'.repeat(64) },
      ],
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'WTFPL',
      licenseComments: 'declared in the lockfile',
      copyrightText: 'NOASSERTION',
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: 'pkg:npm/left-pad@1.3.0',
        },
      ],
      primaryPackagePurpose: 'LIBRARY',
    });
  });

  it('declares SPDX expressions as they are and non-SPDX text as extracted LicenseRefs', () => {
    const d = doc();
    assert.equal(pkg(d, '@types/node').licenseDeclared, '(MIT OR Apache-2.0)');
    assert.equal(pkg(d, 'old-gpl').licenseDeclared, 'GPL-2.0+');
    assert.equal(pkg(d, 'old-gpl').downloadLocation, 'NOASSERTION');
    assert.equal(pkg(d, '@acme/lib').licenseDeclared, 'NOASSERTION');
    assert.equal(pkg(d, 'undici-types').licenseComments, 'declared in the installed package.json');
    assert.equal(pkg(d, 'ms').licenseDeclared, 'LicenseRef-SEE-LICENSE-IN-LICENSE.md');
    assert.equal(pkg(d, 'refd').licenseDeclared, 'LicenseRef-MIT-AND-LicenseRef-acme-eula');
    assert.deepEqual(d.hasExtractedLicensingInfos, [
      {
        licenseId: 'LicenseRef-MIT-AND-LicenseRef-acme-eula',
        extractedText: 'MIT AND LicenseRef-acme-eula',
        name: 'MIT AND LicenseRef-acme-eula',
      },
      {
        licenseId: 'LicenseRef-SEE-LICENSE-IN-LICENSE.md',
        extractedText: 'SEE LICENSE IN LICENSE.md',
        name: 'SEE LICENSE IN LICENSE.md',
      },
    ]);
  });

  it('relationships: DESCRIBES the root, DEPENDS_ON per edge, dev and optional nodes marked against the root', () => {
    const rel = doc().relationships.map(
      (r) => `${r.spdxElementId} ${r.relationshipType} ${r.relatedSpdxElement}`,
    );
    const P = 'SPDXRef-Package-';
    assert.deepEqual(rel, [
      `SPDXRef-DOCUMENT DESCRIBES ${P}acme-app-1.0.0`,
      `${P}acme-app-1.0.0 DEPENDS_ON ${P}acme-lib-0.1.0`,
      `${P}acme-app-1.0.0 DEPENDS_ON ${P}types-node-20.0.0`,
      `${P}acme-app-1.0.0 DEPENDS_ON ${P}left-pad-1.3.0`,
      `${P}acme-lib-0.1.0 DEPENDS_ON ${P}ms-2.1.3`,
      `${P}acme-lib-0.1.0 DEPENDS_ON ${P}old-gpl-0.0.1`,
      `${P}acme-lib-0.1.0 DEPENDS_ON ${P}refd-1.0.0`,
      `${P}types-node-20.0.0 DEPENDS_ON ${P}undici-types-5.26.5`,
      `${P}types-node-20.0.0 DEV_DEPENDENCY_OF ${P}acme-app-1.0.0`,
      `${P}ms-2.1.3 OPTIONAL_DEPENDENCY_OF ${P}acme-app-1.0.0`,
      `${P}undici-types-5.26.5 DEV_DEPENDENCY_OF ${P}acme-app-1.0.0`,
    ]);
  });

  it('keeps SPDXIDs unique when two packages sanitise alike (git and registry installs of one version)', () => {
    const g = fixtureGraph();
    const a = node('x', '1.0.0');
    const b = {
      ...node('x', '1.0.0'),
      id: 'pkg:npm/x@1.0.0?vcs_url=git%2Bhttps://github.com/o/x.git',
      purl: 'pkg:npm/x@1.0.0?vcs_url=git%2Bhttps://github.com/o/x.git',
    };
    const packages = new Map([...g.packages, [a.id, a], [b.id, b]]);
    const d = toSpdx({ ...g, packages }, { timestamp: T0, tool: TOOL });
    const ids = d.packages.filter((p) => p.name === 'x').map((p) => p.SPDXID);
    assert.equal(ids.length, 2);
    assert.equal(ids[0], 'SPDXRef-Package-x-1.0.0');
    assert.match(ids[1] ?? '', /^SPDXRef-Package-x-1\.0\.0-[0-9a-f]{12}$/);
    assert.equal(new Set(d.packages.map((p) => p.SPDXID)).size, d.packages.length);
  });
});
