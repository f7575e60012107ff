// Every document Vouch writes validates against the official CycloneDX 1.6 and SPDX 2.3 JSON schemas; the
// validator setup itself is proven on the CycloneDX specification's own valid-*/invalid-* test files.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ValidateFunction } from 'ajv';
import { generateSbom, toCycloneDx, toSpdx } from '../../../src/attest/index.js';
import { VECTORS } from '../../helpers.js';
import {
  cycloneDxValidator,
  fixtureGraph,
  LOCKFILES,
  lockfileVectors,
  spdxValidator,
  T0,
  TOOL,
} from './sbom-write-fixture.js';

const cdx = cycloneDxValidator();
const spdx = spdxValidator();

function assertValid(validate: ValidateFunction, doc: unknown, what: string): void {
  const ok = validate(doc);
  assert.ok(ok, `${what}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
}

describe('validator setup on the CycloneDX 1.6 specification tests', () => {
  const dir = join(VECTORS, 'sbom', 'cyclonedx-spec-tests', '1.6');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  it('has both kinds of file', () => {
    assert.ok(files.filter((f) => f.startsWith('valid-')).length >= 40);
    assert.ok(files.filter((f) => f.startsWith('invalid-')).length >= 20);
  });
  for (const f of files) {
    it(f, () => {
      const ok = cdx(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      assert.equal(ok, f.startsWith('valid-'), JSON.stringify(cdx.errors?.slice(0, 2)));
    });
  }
});

describe('validator setup on the SPDX 2.3 specification example', () => {
  const example = JSON.parse(
    readFileSync(join(VECTORS, 'sbom', 'spdx-2.3', 'SPDXJSONExample-v2.3.spdx.json'), 'utf8'),
  );
  it('accepts the example', () => assertValid(spdx, example, 'example'));
  it('rejects it without spdxVersion, with a bad relationship type, or a bad checksum algorithm', () => {
    const { spdxVersion: _, ...noVersion } = example as Record<string, unknown>;
    assert.equal(spdx(noVersion), false);
    const badRel = structuredClone(example);
    badRel.relationships[0].relationshipType = 'LIKES';
    assert.equal(spdx(badRel), false);
    const badAlg = structuredClone(example);
    badAlg.packages[0].checksums[0].algorithm = 'CRC32';
    assert.equal(spdx(badAlg), false);
  });
});

describe('the fixture graph (every licence kind, dev, optional, workspace)', () => {
  it('CycloneDX 1.6', () =>
    assertValid(cdx, toCycloneDx(fixtureGraph(), { timestamp: T0, tool: TOOL }), 'cdx'));
  it('SPDX 2.3', () => assertValid(spdx, toSpdx(fixtureGraph(), { timestamp: T0, tool: TOOL }), 'spdx'));
});

describe('every lockfile vector', () => {
  for (const v of lockfileVectors()) {
    for (const format of ['cyclonedx', 'spdx'] as const) {
      it(`${v.file} → ${format}`, async () => {
        const r = await generateSbom({
          lockfile: join(LOCKFILES, v.file),
          ...(v.packageJson === undefined ? {} : { packageJson: v.packageJson }),
          installed: false,
          format,
          timestamp: T0,
          tool: TOOL,
        });
        assert.ok(r.components > 100, `${r.components} components`);
        assertValid(format === 'spdx' ? spdx : cdx, JSON.parse(r.text), v.file);
      });
    }
  }
});
