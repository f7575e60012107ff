import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CycloneDxBom, toCycloneDx } from '../../../src/attest/index.js';
import {
  classifyLicense,
  contentUuid,
  distributionUrl,
  isoSeconds,
} from '../../../src/attest/sbom/sbom-write-common.js';
import { fixtureGraph, node, purlOf, T0, TOOL } from './sbom-write-fixture.js';

const bom = (): CycloneDxBom => toCycloneDx(fixtureGraph(), { timestamp: T0, tool: TOOL });
const comp = (b: CycloneDxBom, name: string) => {
  const c = b.components.find((x) => (x.group === undefined ? x.name : `${x.group}/${x.name}`) === name);
  assert.ok(c, `component ${name}`);
  return c;
};

describe('toCycloneDx', () => {
  it('writes the CycloneDX 1.6 header, metadata and root component', () => {
    const b = bom();
    assert.equal(b.bomFormat, 'CycloneDX');
    assert.equal(b.specVersion, '1.6');
    assert.equal(b.version, 1);
    assert.match(
      b.serialNumber,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.equal(b.metadata.timestamp, '2024-05-01T12:00:00Z');
    assert.deepEqual(b.metadata.tools, {
      components: [{ type: 'application', name: 'vouch', version: '0.1.0' }],
    });
    assert.deepEqual(b.metadata.component, {
      type: 'application',
      'bom-ref': 'pkg:npm/%40acme/app@1.0.0',
      group: '@acme',
      name: 'app',
      version: '1.0.0',
      licenses: [{ license: { id: 'Apache-2.0', acknowledgement: 'declared' } }],
      purl: 'pkg:npm/%40acme/app@1.0.0',
    });
    assert.deepEqual(
      b.metadata.properties.map((p) => p.name),
      ['vouch:lockfile:sha256', 'vouch:lockfile:type', 'vouch:lockfile:version'],
    );
  });

  it('lists every package once, sorted by bom-ref (the purl), without the root', () => {
    const refs = bom().components.map((c) => c['bom-ref']);
    assert.deepEqual(refs, [
      'pkg:npm/%40acme/lib@0.1.0',
      'pkg:npm/%40types/node@20.0.0',
      'pkg:npm/left-pad@1.3.0',
      'pkg:npm/ms@2.1.3',
      'pkg:npm/old-gpl@0.0.1',
      'pkg:npm/refd@1.0.0',
      'pkg:npm/undici-types@5.26.5',
    ]);
  });

  it('maps a registry package: hashes by algorithm, id licence, distribution without credentials', () => {
    assert.deepEqual(comp(bom(), 'left-pad'), {
      type: 'library',
      'bom-ref': 'pkg:npm/left-pad@1.3.0',
      name: 'left-pad',
      version: '1.3.0',
      scope: 'required',
      hashes: [
        { alg: 'SHA-1', content: 'cd'.repeat(20) },
        { alg: 'SHA-512', content: 'ab'.repeat(64) },
      ],
      licenses: [{ license: { id: 'WTFPL', acknowledgement: 'declared' } }],
      purl: 'pkg:npm/left-pad@1.3.0',
      externalReferences: [
        { type: 'distribution', url: 'https://registry.example.com/left-pad/-/left-pad-1.3.0.tgz' },
      ],
      properties: [{ name: 'vouch:license:source', value: 'lockfile' }],
    });
  });

  it('marks dev packages with the cyclonedx-npm property and no scope, optional ones with scope optional', () => {
    const b = bom();
    const dev = comp(b, '@types/node');
    assert.equal(dev.scope, undefined);
    assert.deepEqual(dev.properties?.[0], { name: 'cdx:npm:package:development', value: 'true' });
    assert.equal(comp(b, 'undici-types').scope, undefined);
    assert.equal(comp(b, 'ms').scope, 'optional');
    assert.equal(
      comp(b, 'ms').properties?.some((p) => p.name === 'cdx:npm:package:development'),
      false,
    );
    assert.deepEqual(comp(b, '@acme/lib').properties, [{ name: 'vouch:workspace', value: 'true' }]);
  });

  it('writes expressions, single ids and non-SPDX text in their three CycloneDX forms', () => {
    const b = bom();
    assert.deepEqual(comp(b, '@types/node').licenses, [
      { expression: '(MIT OR Apache-2.0)', acknowledgement: 'declared' },
    ]);
    assert.deepEqual(comp(b, 'old-gpl').licenses, [{ expression: 'GPL-2.0+', acknowledgement: 'declared' }]);
    assert.deepEqual(comp(b, 'refd').licenses, [
      { expression: 'MIT AND LicenseRef-acme-eula', acknowledgement: 'declared' },
    ]);
    assert.deepEqual(comp(b, 'ms').licenses, [
      { license: { name: 'SEE LICENSE IN LICENSE.md', acknowledgement: 'declared' } },
    ]);
    assert.equal(comp(b, '@acme/lib').licenses, undefined);
    // A local `file:` source is no distribution location.
    assert.equal(comp(b, 'old-gpl').externalReferences, undefined);
  });

  it('declares the full graph: every node, leaves with an empty dependsOn, lists sorted', () => {
    const deps = bom().dependencies;
    assert.equal(deps.length, 8);
    assert.deepEqual(deps[0], {
      ref: 'pkg:npm/%40acme/app@1.0.0',
      dependsOn: ['pkg:npm/%40acme/lib@0.1.0', 'pkg:npm/%40types/node@20.0.0', 'pkg:npm/left-pad@1.3.0'],
    });
    assert.deepEqual(deps.find((d) => d.ref === 'pkg:npm/%40types/node@20.0.0')?.dependsOn, [
      'pkg:npm/undici-types@5.26.5',
    ]);
    assert.deepEqual(deps.find((d) => d.ref === 'pkg:npm/ms@2.1.3')?.dependsOn, []);
  });

  it('sorts and de-duplicates dependency ids whatever order the reader gave', () => {
    const g = fixtureGraph();
    const root = { ...g.root, dependencies: [...g.root.dependencies].reverse().concat(g.root.dependencies) };
    const b = toCycloneDx({ ...g, root }, { timestamp: T0, tool: TOOL });
    assert.deepEqual(b.dependencies[0]?.dependsOn, bom().dependencies[0]?.dependsOn);
  });

  it('derives serialNumber from the content: same input same serial, another timestamp another', () => {
    assert.equal(bom().serialNumber, bom().serialNumber);
    const later = toCycloneDx(fixtureGraph(), { timestamp: new Date('2024-05-02T00:00:00Z'), tool: TOOL });
    assert.notEqual(later.serialNumber, bom().serialNumber);
  });

  it('refuses a graph whose edge points at no node (a reader bug, not user input)', () => {
    const g = fixtureGraph();
    const root = { ...g.root, dependencies: [purlOf('ghost', '1.0.0')] };
    assert.throws(() => toCycloneDx({ ...g, root }, { timestamp: T0, tool: TOOL }), TypeError);
  });

  it('omits version when the root has none', () => {
    const g = fixtureGraph();
    const b = toCycloneDx({ ...g, root: node('app', '', { kind: 'root' }) }, { timestamp: T0, tool: TOOL });
    assert.equal('version' in b.metadata.component, false);
    assert.equal(b.metadata.component.name, 'app');
  });
});

describe('writer helpers', () => {
  it('classifyLicense: id, expression, text', () => {
    assert.deepEqual(classifyLicense('MIT'), { kind: 'id', id: 'MIT' });
    assert.deepEqual(classifyLicense(' ISC '), { kind: 'id', id: 'ISC' });
    assert.deepEqual(classifyLicense('Apache-2.0 WITH LLVM-exception'), {
      kind: 'expression',
      expression: 'Apache-2.0 WITH LLVM-exception',
      hasRef: false,
    });
    assert.deepEqual(classifyLicense('LicenseRef-foo'), {
      kind: 'expression',
      expression: 'LicenseRef-foo',
      hasRef: true,
    });
    assert.deepEqual(classifyLicense('mit'), { kind: 'text', text: 'mit' });
    assert.deepEqual(classifyLicense('BSD'), { kind: 'text', text: 'BSD' });
    assert.deepEqual(classifyLicense('MIT OR'), { kind: 'text', text: 'MIT OR' });
  });

  it('distributionUrl: strips credentials, keeps ssh users, drops local sources', () => {
    assert.equal(distributionUrl('https://tok@r.example/a.tgz'), 'https://r.example/a.tgz');
    assert.equal(distributionUrl('https://u:p@r.example/a.tgz'), 'https://r.example/a.tgz');
    assert.equal(
      distributionUrl('git+https://tok:x-oauth@github.com/a/b.git#abc'),
      'git+https://github.com/a/b.git#abc',
    );
    assert.equal(
      distributionUrl('git+ssh://git@github.com/a/b.git#abc'),
      'git+ssh://git@github.com/a/b.git#abc',
    );
    assert.equal(
      distributionUrl('https://registry.npmjs.org/a/-/a-1.tgz'),
      'https://registry.npmjs.org/a/-/a-1.tgz',
    );
    assert.equal(distributionUrl('file:../a'), undefined);
    assert.equal(distributionUrl('../a'), undefined);
    assert.equal(distributionUrl(undefined), undefined);
  });

  it('contentUuid sets RFC 4122 version 5 and variant bits over SHA-256', () => {
    assert.equal(contentUuid(''), 'e3b0c442-98fc-5c14-9afb-f4c8996fb924');
  });

  it('isoSeconds drops the fraction and refuses an invalid Date', () => {
    assert.equal(isoSeconds(new Date('2024-01-02T03:04:05.999Z')), '2024-01-02T03:04:05Z');
    assert.throws(() => isoSeconds(new Date(Number.NaN)), TypeError);
  });
});
