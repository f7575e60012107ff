import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSbom, readSbomFile } from '../../../src/attest/sbom/document-read.js';
import { isVouchError } from '../../../src/core/index.js';
import { expectCode, tempDir, VECTORS } from '../../helpers.js';

const CDX = join(VECTORS, 'sbom', 'cyclonedx-spec-tests');
const SPDX23 = join(VECTORS, 'sbom', 'spdx-2.3', 'SPDXJSONExample-v2.3.spdx.json');
const SPDX22 = join(VECTORS, 'sbom', 'spdx-2.2-real', 'guac-alpine-small-spdx.json');

const load = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const clone = <T>(v: T): T => structuredClone(v);

function pathOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isVouchError(e, 'ERR_SBOM_MALFORMED'), String(e));
    return String(e.details?.['path']);
  }
  assert.fail('expected ERR_SBOM_MALFORMED');
}

/** Sets (or with DEL removes) the value at a key path of a parsed JSON document. */
const DEL = Symbol('delete');
type Key = string | number;
function edit(doc: unknown, at: readonly Key[], value: unknown): void {
  let cur = doc as Record<Key, unknown>;
  for (const k of at.slice(0, -1)) cur = cur[k] as Record<Key, unknown>;
  const last = at.at(-1) ?? '';
  if (value === DEL) delete cur[last];
  else cur[last] = value;
}

describe('readSbom: CycloneDX specification test files', () => {
  for (const v of ['1.5', '1.6']) {
    const files = readdirSync(join(CDX, v)).filter((f) => f.startsWith('valid-'));
    it(`reads every valid-* ${v} file (${files.length})`, () => {
      for (const f of files) {
        const doc = readSbom(load(join(CDX, v, f)), f);
        assert.equal(doc.format, 'cyclonedx', f);
        assert.equal(doc.specVersion, v, f);
      }
    });
  }

  // Our reader is not a schema validator; these invalid-* files break a field it reads.
  const rejected: Record<string, string> = {
    'invalid-bomformat-1.6.json': '$.bomFormat',
    'invalid-empty-component-1.6.json': '$.components[0].name',
    'invalid-license-missing-id-and-name-1.6.json': '$.components[0].licenses[0].license',
    'invalid-scope-1.6.json': '$.components[0].scope',
  };
  for (const [f, path] of Object.entries(rejected)) {
    it(`rejects ${f} at ${path}`, () => {
      assert.equal(
        pathOf(() => readSbom(load(join(CDX, '1.6', f)), f)),
        path,
      );
    });
  }

  it('reads licence expressions, ids and names', () => {
    const expr = readSbom(load(join(CDX, '1.6', 'valid-license-expression-1.6.json')), 'x');
    assert.deepEqual(expr.components, [
      {
        ref: '$.components[0]',
        name: 'com.acme/tomcat-catalina',
        version: '9.0.14',
        purl: 'pkg:maven/com.acme/tomcat-catalina@9.0.14?packaging=jar',
        license: 'EPL-2.0 OR GPL-2.0 WITH Classpath-exception-2.0',
        licenseIsSpdx: true,
        scope: 'required',
      },
    ]);
    const id = readSbom(load(join(CDX, '1.6', 'valid-license-id-1.6.json')), 'x').components[0];
    assert.equal(id?.license, 'Apache-2.0');
    assert.equal(id?.licenseIsSpdx, true);
    const name = readSbom(load(join(CDX, '1.6', 'valid-license-name-1.6.json')), 'x').components[0];
    assert.equal(name?.license, 'Apache License 2.0');
    assert.equal(name?.licenseIsSpdx, false);
  });

  it('takes metadata.component as the root and walks nested components in document order', () => {
    const doc = readSbom(load(join(CDX, '1.6', 'valid-bom-1.6.json')), 'x');
    assert.equal(doc.root?.name, 'Acme Application');
    assert.deepEqual(
      doc.components.map((c) => [c.ref, c.name, c.license ?? null]),
      [
        ['pkg:maven/com.acme/tomcat-catalina@9.0.14?packaging=jar', 'com.acme/tomcat-catalina', 'Apache-2.0'],
        [
          'pkg:maven/com.example/myapplication@1.0.0?packaging=war',
          'org.example/mylibrary',
          'EPL-2.0 OR GPL-2.0-with-classpath-exception',
        ],
        ['$.components[2]', 'com.example/myframework', 'Some random license'],
      ],
    );
  });
});

/** A small CycloneDX BOM with the features the reader maps. */
function cdx(): Record<string, unknown> {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    metadata: {
      component: { 'bom-ref': 'root', name: 'app', version: '1.0.0', components: [{ name: 'sub' }] },
    },
    components: [
      {
        'bom-ref': 'a',
        group: '@scope',
        name: 'a',
        version: '1.0.0',
        purl: 'pkg:npm/%40scope/a@1.0.0',
        licenses: [{ license: { id: 'MIT' } }, { license: { id: 'Apache-2.0' } }],
        components: [{ 'bom-ref': 'a/inner', name: 'inner', scope: 'optional' }],
      },
      {
        'bom-ref': 'b',
        name: 'b',
        properties: [{ name: 'cdx:npm:package:development', value: 'true' }],
        licenses: [{ license: { name: 'Custom License' } }, { license: { id: 'MIT' } }],
      },
      {
        'bom-ref': 'c',
        name: 'c',
        scope: 'excluded',
        licenses: [
          { license: { id: 'GPL-3.0-only', acknowledgement: 'declared' } },
          { license: { id: 'MIT', acknowledgement: 'concluded' } },
        ],
      },
      { 'bom-ref': 'd', name: 'd', licenses: [{ expression: 'NOASSERTION' }] },
    ],
  };
}

describe('readSbom: CycloneDX mapping', () => {
  it('maps names, licences, scopes and nesting', () => {
    const doc = readSbom(cdx(), 'bom.json');
    assert.equal(doc.root?.ref, 'root');
    assert.deepEqual(
      doc.components.map((c) => [c.ref, c.name, c.license ?? null, c.licenseIsSpdx, c.scope]),
      [
        ['$.metadata.component.components[0]', 'sub', null, false, 'required'],
        ['a', '@scope/a', 'MIT AND Apache-2.0', true, 'required'],
        ['a/inner', 'inner', null, false, 'optional'],
        ['b', 'b', '(Custom License) AND MIT', false, 'dev'],
        ['c', 'c', 'MIT', true, 'dev'],
        ['d', 'd', null, false, 'required'],
      ],
    );
  });

  const mutations: [string, Key[], unknown, string][] = [
    ['not an object', ['components', 0], 7, '$.components[0]'],
    ['components not an array', ['components'], {}, '$.components'],
    ['name wrong type', ['components', 1, 'name'], 1, '$.components[1].name'],
    ['version wrong type', ['components', 0, 'version'], 1, '$.components[0].version'],
    ['licence entry empty', ['components', 0, 'licenses'], [{}], '$.components[0].licenses[0]'],
    [
      'licence not an object',
      ['components', 0, 'licenses'],
      [{ license: 'MIT' }],
      '$.components[0].licenses[0].license',
    ],
    ['duplicate bom-ref', ['components', 1, 'bom-ref'], 'a', '$.components[1]'],
    [
      'nested duplicate',
      ['components', 0, 'components', 0, 'bom-ref'],
      'root',
      '$.components[0].components[0]',
    ],
    ['unsupported spec version', ['specVersion'], '1.3', '$.specVersion'],
    ['missing spec version', ['specVersion'], DEL, '$.specVersion'],
    ['metadata not an object', ['metadata'], [], '$.metadata'],
    ['root without name', ['metadata', 'component', 'name'], DEL, '$.metadata.component.name'],
    ['properties wrong', ['components', 1, 'properties'], [1], '$.components[1].properties[0]'],
    ['huge name', ['components', 0, 'name'], 'x'.repeat(5000), '$.components[0].name'],
  ];
  for (const [what, at, value, path] of mutations) {
    it(`rejects ${what} at ${path}`, () => {
      const b = cdx();
      edit(b, at, value);
      assert.equal(
        pathOf(() => readSbom(b, 'bom.json')),
        path,
      );
    });
  }

  it('refuses nesting deeper than the cap without exhausting the stack', () => {
    const b = cdx();
    let inner: Record<string, unknown> = { name: 'leaf' };
    for (let i = 0; i < 300; i++) inner = { name: `n${i}`, components: [inner] };
    b['components'] = [inner];
    assert.match(
      pathOf(() => readSbom(b, 'bom.json')),
      /\.components$/,
    );
  });

  it('ignores prototype keys (own properties only)', () => {
    const b = JSON.parse(
      '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"__proto__":{"name":"x"}}]}',
    );
    assert.equal(
      pathOf(() => readSbom(b, 'bom.json')),
      '$.components[0].name',
    );
  });
});

describe('readSbom: SPDX', () => {
  it('reads the SPDX 2.3 example: described package as root, NOASSERTION as absent, purl', () => {
    const doc = readSbom(load(SPDX23), 'x');
    assert.equal(doc.format, 'spdx');
    assert.equal(doc.specVersion, 'SPDX-2.3');
    assert.deepEqual(doc.root, {
      ref: 'SPDXRef-Package',
      name: 'glibc',
      version: '2.11.1',
      license: '(LGPL-2.0-only OR LicenseRef-3)',
      licenseIsSpdx: true,
      scope: 'required',
    });
    assert.deepEqual(doc.components, [
      { ref: 'SPDXRef-fromDoap-1', name: 'Apache Commons Lang', licenseIsSpdx: false, scope: 'required' },
      {
        ref: 'SPDXRef-fromDoap-0',
        name: 'Jena',
        version: '3.12.0',
        purl: 'pkg:maven/org.apache.jena/apache-jena@3.12.0',
        licenseIsSpdx: false,
        scope: 'required',
      },
      {
        ref: 'SPDXRef-Saxon',
        name: 'Saxon',
        version: '8.8',
        license: 'MPL-1.0',
        licenseIsSpdx: true,
        scope: 'required',
      },
    ]);
  });

  it('reads a real SPDX 2.2 document (PACKAGE_MANAGER purls, no described package)', () => {
    const doc = readSbom(load(SPDX22), 'x');
    assert.equal(doc.specVersion, 'SPDX-2.2');
    assert.equal(doc.root, undefined);
    assert.deepEqual(
      doc.components.map((c) => [c.name, c.version, c.license, c.purl?.split('?')[0]]),
      [
        ['alpine-baselayout', '3.2.0-r22', 'GPL-2.0-only', 'pkg:alpine/alpine-baselayout@3.2.0-r22'],
        [
          'alpine-baselayout-data',
          '3.2.0-r22',
          'GPL-2.0-only',
          'pkg:alpine/alpine-baselayout-data@3.2.0-r22',
        ],
        ['alpine-keys', '2.4-r1', 'MIT', 'pkg:alpine/alpine-keys@2.4-r1'],
      ],
    );
  });

  function spdx(): Record<string, unknown> {
    return {
      spdxVersion: 'SPDX-2.3',
      SPDXID: 'SPDXRef-DOCUMENT',
      packages: [
        { SPDXID: 'SPDXRef-root', name: 'app', licenseDeclared: 'MIT' },
        { SPDXID: 'SPDXRef-dev', name: 'devdep', licenseConcluded: 'NONE', licenseDeclared: 'ISC' },
        {
          SPDXID: 'SPDXRef-opt',
          name: 'optdep',
          licenseConcluded: 'NOASSERTION',
          licenseDeclared: 'NOASSERTION',
        },
        { SPDXID: 'SPDXRef-both', name: 'both' },
      ],
      relationships: [
        {
          spdxElementId: 'SPDXRef-DOCUMENT',
          relationshipType: 'DESCRIBES',
          relatedSpdxElement: 'SPDXRef-root',
        },
        {
          spdxElementId: 'SPDXRef-dev',
          relationshipType: 'DEV_DEPENDENCY_OF',
          relatedSpdxElement: 'SPDXRef-root',
        },
        {
          spdxElementId: 'SPDXRef-opt',
          relationshipType: 'OPTIONAL_DEPENDENCY_OF',
          relatedSpdxElement: 'SPDXRef-root',
        },
        {
          spdxElementId: 'SPDXRef-both',
          relationshipType: 'DEV_DEPENDENCY_OF',
          relatedSpdxElement: 'SPDXRef-root',
        },
        {
          spdxElementId: 'SPDXRef-both',
          relationshipType: 'DEPENDENCY_OF',
          relatedSpdxElement: 'SPDXRef-opt',
        },
      ],
    };
  }

  it('maps DESCRIBES to the root and DEV_/OPTIONAL_DEPENDENCY_OF to scopes; a runtime edge wins', () => {
    const doc = readSbom(spdx(), 'x');
    assert.equal(doc.root?.ref, 'SPDXRef-root');
    assert.deepEqual(
      doc.components.map((c) => [c.ref, c.license ?? null, c.scope]),
      [
        ['SPDXRef-dev', 'ISC', 'dev'],
        ['SPDXRef-opt', null, 'optional'],
        ['SPDXRef-both', null, 'required'],
      ],
    );
  });

  const mutations: [string, Key[], unknown, string][] = [
    ['unsupported version', ['spdxVersion'], 'SPDX-3.0', '$.spdxVersion'],
    ['packages not an array', ['packages'], 'x', '$.packages'],
    ['missing SPDXID', ['packages', 1, 'SPDXID'], DEL, '$.packages[1].SPDXID'],
    ['duplicate SPDXID', ['packages', 2, 'SPDXID'], 'SPDXRef-dev', '$.packages[2].SPDXID'],
    ['licence wrong type', ['packages', 0, 'licenseConcluded'], ['MIT'], '$.packages[0].licenseConcluded'],
    [
      'relationship incomplete',
      ['relationships', 1, 'relationshipType'],
      DEL,
      '$.relationships[1].relationshipType',
    ],
    ['documentDescribes not strings', ['documentDescribes'], [1], '$.documentDescribes[0]'],
    ['externalRefs wrong', ['packages', 0, 'externalRefs'], [null], '$.packages[0].externalRefs[0]'],
    [
      'purl ref without locator',
      ['packages', 0, 'externalRefs'],
      [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl' }],
      '$.packages[0].externalRefs[0].referenceLocator',
    ],
  ];
  for (const [what, at, value, path] of mutations) {
    it(`rejects ${what} at ${path}`, () => {
      const d = spdx();
      edit(d, at, value);
      assert.equal(
        pathOf(() => readSbom(d, 'x')),
        path,
      );
    });
  }
});

describe('readSbom: in-toto statements and unknown input', () => {
  const statement = (predicateType: string, predicate: unknown) => ({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app.tgz', digest: { sha256: '0'.repeat(64) } }],
    predicateType,
    predicate,
  });

  it('reads the predicate of a CycloneDX or SPDX statement', () => {
    const a = readSbom(statement('https://cyclonedx.org/bom', cdx()), 'st.json');
    assert.equal(a.format, 'cyclonedx');
    assert.equal(a.components.length, 6);
    const b = readSbom(statement('https://spdx.dev/Document/v2.3', load(SPDX23)), 'st.json');
    assert.equal(b.root?.name, 'glibc');
  });

  it('names paths inside the predicate', () => {
    const b = cdx();
    edit(b, ['components', 0, 'name'], 3);
    assert.equal(
      pathOf(() => readSbom(statement('https://cyclonedx.org/bom/v1.6', b), 'st.json')),
      '$.predicate.components[0].name',
    );
  });

  it('rejects a predicate type that does not match the document, or no predicate', () => {
    assert.equal(
      pathOf(() => readSbom(statement('https://spdx.dev/Document', cdx()), 'st.json')),
      '$.predicateType',
    );
    assert.equal(
      pathOf(() => readSbom(statement('https://slsa.dev/provenance/v1', load(SPDX23)), 'st.json')),
      '$.predicateType',
    );
    assert.equal(
      pathOf(() => readSbom(statement('https://cyclonedx.org/bom', undefined), 'st.json')),
      '$.predicate',
    );
    assert.equal(
      pathOf(() => readSbom({ ...statement('https://cyclonedx.org/bom', cdx()), _type: 'x' }, 'st.json')),
      '$._type',
    );
  });

  it('rejects unknown documents, naming what was expected', async () => {
    for (const v of [null, [], 'x', 1, {}, { name: 'x' }]) {
      await expectCode(() => readSbom(v, 'x'), 'ERR_SBOM_MALFORMED');
    }
    assert.throws(
      () => readSbom({ name: 'x' }, 'weird.json'),
      /weird\.json: .*CycloneDX JSON BOM.*SPDX JSON/,
    );
  });
});

describe('readSbomFile', () => {
  it('reads a file and codes bad JSON or a missing file', async () => {
    const dir = tempDir();
    const doc = await readSbomFile(SPDX22);
    assert.equal(doc.components.length, 3);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"bomFormat":');
    await expectCode(() => readSbomFile(bad), 'ERR_SBOM_MALFORMED');
    const utf = join(dir, 'utf.json');
    writeFileSync(utf, Buffer.from([0x7b, 0xff, 0x7d]));
    await expectCode(() => readSbomFile(utf), 'ERR_SBOM_MALFORMED');
    await expectCode(() => readSbomFile(join(dir, 'missing.json')), 'ERR_INPUT_UNREADABLE');
  });

  it('keeps the mutation corpus free of uncoded errors', () => {
    const base = cdx();
    const keys = ['bomFormat', 'specVersion', 'metadata', 'components'];
    const values: unknown[] = [null, 0, '', [], {}, [null], [{}], 'CycloneDX', '1.6', true];
    for (const k of keys) {
      for (const v of values) {
        const b = clone(base);
        b[k] = v;
        try {
          readSbom(b, 'm');
        } catch (e) {
          assert.ok(isVouchError(e, 'ERR_SBOM_MALFORMED'), `${k}=${JSON.stringify(v)}: ${String(e)}`);
        }
      }
    }
  });
});
