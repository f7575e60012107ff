// The SBOMs `vouch sbom` writes read back through readSbom to the same components and licences in both
// formats: the writer/reader contract of src/attest/sbom/document.ts, end to end.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { evaluateLicenses, generateSbom, readSbom } from '../../../src/attest/index.js';
import { tempDir, VECTORS } from '../../helpers.js';

describe('generated SBOMs read back', () => {
  it('CycloneDX and SPDX from one npm lockfile give the same components, scopes and licence summary', async () => {
    const dir = tempDir();
    const src = join(VECTORS, 'lockfiles');
    copyFileSync(join(src, 'npm-v3.slsa-verifier.package-lock.json'), join(dir, 'package-lock.json'));
    copyFileSync(join(src, 'npm-v3.slsa-verifier.package.json'), join(dir, 'package.json'));
    const read = async (format: 'cyclonedx' | 'spdx') => {
      const sbom = await generateSbom({
        dir,
        installed: false,
        format,
        timestamp: new Date(0),
        tool: { name: 'vouch', version: '0' },
      });
      const doc = readSbom(JSON.parse(sbom.text), format);
      assert.equal(doc.components.length, sbom.components);
      return doc;
    };
    const cdx = await read('cyclonedx');
    const spdx = await read('spdx');
    assert.equal(cdx.root?.name, spdx.root?.name);
    const key = (d: typeof cdx) => d.components.map((c) => `${c.purl} ${c.scope} ${c.license ?? '-'}`).sort();
    assert.deepEqual(key(cdx), key(spdx));
    const now = new Date(0);
    assert.deepEqual(
      evaluateLicenses(cdx, undefined, { now }).licenses,
      evaluateLicenses(spdx, undefined, { now }).licenses,
    );
  });
});
