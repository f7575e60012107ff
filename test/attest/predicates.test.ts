import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkPredicate, PREDICATE_TYPES, readPredicateFile } from '../../src/attest/index.js';
import { expectCode, VECTORS } from '../helpers.js';

const json = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(VECTORS, path), 'utf8')) as Record<string, unknown>;

/** The SLSA v1 predicate of a real GitHub artifact attestation (bundle v0.3 with a DSSE envelope). */
function realSlsa(): Record<string, unknown> {
  const line = readFileSync(
    join(VECTORS, 'in-toto/slsa-provenance-v1-bcr/MODULE.bazel.intoto.jsonl'),
    'utf8',
  );
  const bundle = JSON.parse(line.split('\n')[0] as string) as { dsseEnvelope: { payload: string } };
  const st = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
    predicate: Record<string, unknown>;
  };
  return st.predicate;
}

const CDX_DIR = 'sbom/cyclonedx-spec-tests/1.6';

describe('attest/predicates: shape checks on real documents', () => {
  it('accepts a real SLSA v1 predicate and describes its builder', () => {
    const d = checkPredicate(PREDICATE_TYPES.slsa, realSlsa(), 'bcr');
    assert.match(
      d,
      /^SLSA provenance v1: builder https:\/\/github\.com\/.+, build type https:\/\/.+, \d+ resolved/,
    );
  });

  it('accepts every valid CycloneDX 1.6 spec test that has components', () => {
    const files = readdirSync(join(VECTORS, CDX_DIR)).filter((f) => f.startsWith('valid-'));
    assert.ok(files.length > 40);
    for (const f of files) {
      const doc = json(join(CDX_DIR, f));
      const n = Array.isArray(doc['components']) ? doc['components'].length : 0;
      assert.equal(checkPredicate(PREDICATE_TYPES.cyclonedx, doc, f), `CycloneDX 1.6 SBOM: ${n} components`);
    }
  });

  it('rejects the CycloneDX spec test with a wrong bomFormat', async () => {
    const doc = json(join(CDX_DIR, 'invalid-bomformat-1.6.json'));
    await expectCode(() => checkPredicate(PREDICATE_TYPES.cyclonedx, doc, 'x'), 'ERR_PREDICATE_MALFORMED');
  });

  it('accepts the SPDX 2.3 example and counts its packages', () => {
    const doc = json('sbom/spdx-2.3/SPDXJSONExample-v2.3.spdx.json');
    const n = (doc['packages'] as unknown[]).length;
    assert.equal(checkPredicate(PREDICATE_TYPES.spdx, doc, 'ex'), `SPDX-2.3 SBOM: ${n} packages`);
  });

  it('accepts guac vulns v0.2 predicates', () => {
    const st = json('in-toto/guac-examples/certify-vuln-v02.json');
    const d = checkPredicate(PREDICATE_TYPES.vulns, st['predicate'], 'guac');
    assert.match(d, /^vulnerability scan by osv\.dev: [1-9]\d* results$/);
    const none = json('in-toto/guac-examples/certify-novuln-v02.json');
    assert.match(checkPredicate(PREDICATE_TYPES.vulns, none['predicate'], 'guac'), /: 0 results$/);
  });

  it('passes types it does not know, saying so', () => {
    assert.equal(
      checkPredicate('https://example.com/p/v1', { anything: 1 }, 'x'),
      'predicate of type https://example.com/p/v1 (not checked by Vouch)',
    );
  });
});

describe('attest/predicates: rejections name the JSON path', () => {
  const vex = {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/1',
    statements: [{ vulnerability: { name: 'CVE-2024-1' }, products: [], status: 'not_affected' }],
  };
  const cases: [string, string, unknown, string][] = [
    [
      'slsa without runDetails',
      PREDICATE_TYPES.slsa,
      { buildDefinition: { buildType: 'x', externalParameters: {} } },
      'predicate.runDetails',
    ],
    [
      'slsa v0.2 shape under v1',
      PREDICATE_TYPES.slsa,
      { builder: { id: 'b' }, buildType: 't' },
      'predicate.buildDefinition',
    ],
    [
      'slsa empty builder id',
      PREDICATE_TYPES.slsa,
      { buildDefinition: { buildType: 'x', externalParameters: {} }, runDetails: { builder: { id: '' } } },
      'predicate.runDetails.builder.id',
    ],
    ['cyclonedx as array', PREDICATE_TYPES.cyclonedx, [], 'predicate'],
    [
      'cyclonedx 2.0',
      PREDICATE_TYPES.cyclonedx,
      { bomFormat: 'CycloneDX', specVersion: '2.0' },
      'predicate.specVersion',
    ],
    [
      'cyclonedx components object',
      PREDICATE_TYPES.cyclonedx,
      { bomFormat: 'CycloneDX', specVersion: '1.6', components: {} },
      'predicate.components',
    ],
    [
      'spdx 3',
      PREDICATE_TYPES.spdx,
      { spdxVersion: 'SPDX-3.0', SPDXID: 'SPDXRef-DOCUMENT' },
      'predicate.spdxVersion',
    ],
    [
      'spdx wrong id',
      PREDICATE_TYPES.spdx,
      { spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-X' },
      'predicate.SPDXID',
    ],
    ['vulns no scanner', PREDICATE_TYPES.vulns, { metadata: {} }, 'predicate.scanner'],
    [
      'vulns result without id',
      PREDICATE_TYPES.vulns,
      { scanner: { uri: 'u', result: [{}] } },
      'predicate.scanner.result[0].id',
    ],
    [
      'openvex other context',
      PREDICATE_TYPES.openvex,
      { ...vex, '@context': 'https://example.com' },
      'predicate["@context"]',
    ],
    [
      'openvex bad status',
      PREDICATE_TYPES.openvex,
      { ...vex, statements: [{ status: 'ok' }] },
      'predicate.statements[0].status',
    ],
  ];
  for (const [name, type, predicate, path] of cases) {
    it(name, () => {
      assert.throws(
        () => checkPredicate(type, predicate, 'p.json'),
        (e: unknown) =>
          (e as { code?: string }).code === 'ERR_PREDICATE_MALFORMED' &&
          (e as { details?: { path?: string } }).details?.path === path,
      );
    });
  }
  it('checks that a licence evaluation fails exactly when it has violations', () => {
    const pass = { result: 'pass', summary: { components: 2 }, components: [], violations: [] };
    assert.equal(
      checkPredicate(PREDICATE_TYPES.licenses, pass, 'l'),
      'licence evaluation: pass, 2 components, 0 violations',
    );
    assert.throws(
      () => checkPredicate(PREDICATE_TYPES.licenses, { ...pass, result: 'fail' }, 'l'),
      (e: unknown) => (e as { details?: { path?: string } }).details?.path === 'predicate.result',
    );
    assert.throws(
      () => checkPredicate(PREDICATE_TYPES.licenses, { ...pass, summary: { components: -1 } }, 'l'),
      (e: unknown) => (e as { details?: { path?: string } }).details?.path === 'predicate.summary.components',
    );
  });

  it('accepts the valid OpenVEX document those cases mutate', () => {
    assert.equal(checkPredicate(PREDICATE_TYPES.openvex, vex, 'v'), 'OpenVEX document: 1 statements');
  });
});

describe('attest/predicates: readPredicateFile', () => {
  const sha256 = 'a'.repeat(64);
  const statement = (over: Record<string, unknown> = {}) =>
    Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'app.tgz', digest: { sha256 } }],
        predicateType: PREDICATE_TYPES.slsa,
        predicate: { p: 1 },
        ...over,
      }),
    );

  it('returns a bare predicate as it is, with no statement', () => {
    const got = readPredicateFile(Buffer.from('{"bomFormat":"CycloneDX"}'), 'f', PREDICATE_TYPES.cyclonedx);
    assert.deepEqual(got, { predicate: { bomFormat: 'CycloneDX' } });
  });

  it('unwraps a statement and hands it back for the subject check', () => {
    const got = readPredicateFile(statement(), 'f', PREDICATE_TYPES.slsa);
    assert.deepEqual(got.predicate, { p: 1 });
    assert.deepEqual(
      got.statement?.subject.map((s) => s.digest['sha256']),
      [sha256],
    );
  });

  it('refuses a statement of another predicate type', async () => {
    await expectCode(
      () => readPredicateFile(statement(), 'f', PREDICATE_TYPES.spdx),
      'ERR_INTOTO_PREDICATE_TYPE',
    );
  });

  it('refuses a malformed statement', async () => {
    await expectCode(
      () => readPredicateFile(statement({ subject: 'x' }), 'f', PREDICATE_TYPES.slsa),
      'ERR_INTOTO_MALFORMED',
    );
  });
});
