import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir, VECTORS } from '../helpers.js';
import { vouch } from './harness.js';

const SPDX22 = join(VECTORS, 'sbom', 'spdx-2.2-real', 'guac-alpine-small-spdx.json');
const dir = tempDir();
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const ENV = { SOURCE_DATE_EPOCH: '1767225600' }; // 2026-01-01T00:00:00Z

describe('vouch licenses', () => {
  it('prints the licence table without a policy (exit 0)', async () => {
    const r = await vouch(['licenses', SPDX22], ENV);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n'), [
      'LICENCE       COMPONENTS  STATUS',
      'GPL-2.0-only           2  SPDX',
      'MIT                    1  SPDX',
      '',
      '3 components: 3 SPDX, 0 non-SPDX, 0 without a licence',
      '',
    ]);
  });

  it('--json gives the predicate, deterministic with SOURCE_DATE_EPOCH', async () => {
    const policy = file('ok.yaml', 'allow: [GPL-2.0-or-later, MIT]\n');
    const a = await vouch(['licenses', SPDX22, '--policy', policy, '--json'], ENV);
    const b = await vouch(['licenses', SPDX22, '--policy', policy, '--json'], ENV);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    const out = JSON.parse(a.stdout);
    assert.equal(out.ok, true);
    assert.equal(out.predicateType, 'https://vouch.dev/licenses/v1');
    assert.equal(out.predicate.result, 'pass');
    assert.equal(out.predicate.evaluatedAt, '2026-01-01T00:00:00.000Z');
    assert.equal(out.predicate.summary.allowed, 3);
  });

  it('exits 1 with ERR_LICENSE_POLICY on violation, lists them on stderr, still writes --output', async () => {
    const policy = file('strict.yaml', 'allow: [MIT]\n');
    const output = join(dir, 'violations.json');
    const r = await vouch(['licenses', SPDX22, '--policy', policy, '--output', output], ENV);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /licence policy violations \(2\):/);
    assert.match(
      r.stderr,
      /alpine-baselayout@3\.2\.0-r22: GPL-2\.0-only: GPL-2\.0-only not in the allow list/,
    );
    assert.match(r.stderr, /\[ERR_LICENSE_POLICY\]/);
    assert.match(r.stdout, /GPL-2\.0-only\s+2\s+denied/);
    const predicate = JSON.parse(readFileSync(output, 'utf8'));
    assert.equal(predicate.result, 'fail');
    assert.equal(predicate.violations.length, 2);
  });

  it('--json on violation prints only the coded error; --predicate prints the bare predicate', async () => {
    const policy = file('strict2.yaml', 'allow: [MIT]\n');
    const j = await vouch(['licenses', SPDX22, '--policy', policy, '--json'], ENV);
    assert.equal(j.code, 1);
    assert.equal(JSON.parse(j.stdout).error.code, 'ERR_LICENSE_POLICY');
    const p = await vouch(['licenses', SPDX22, '--policy', policy, '--predicate'], ENV);
    assert.equal(p.code, 1);
    assert.equal(JSON.parse(p.stdout).violations.length, 2);
  });

  it('prints warnings to stderr and passes', async () => {
    const sbom = file(
      'bom.json',
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        components: [
          { name: 'a', version: '1.0.0', licenses: [{ license: { name: 'Acme EULA' } }] },
          { name: 'b', version: '2.0.0', licenses: [{ expression: 'MIT OR GPL-3.0-only' }] },
        ],
      }),
    );
    const policy = file('warn.yaml', 'allow: [MIT]\ndeny: [GPL-3.0-only]\nnonSpdx: warn\n');
    const r = await vouch(['licenses', sbom, '--policy', policy], ENV);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: a@1\.0\.0: "Acme EULA" is not an SPDX expression/);
    assert.match(r.stdout, /Acme EULA\s+1\s+non-SPDX: warned/);
    assert.match(r.stdout, /MIT OR GPL-3\.0-only\s+1\s+allowed/);
  });

  it('judges exception expiry at --timestamp', async () => {
    const policy = file(
      'exc.yaml',
      'allow: [MIT]\nexceptions:\n  - package: alpine-baselayout@3.2.0-r22\n    license: GPL-2.0-only\n    reason: base image\n    expires: 2026-06-30\n  - package: alpine-baselayout-data\n    license: GPL-2.0-only\n    reason: base image\n',
    );
    const before = await vouch([
      'licenses',
      SPDX22,
      '--policy',
      policy,
      '--timestamp',
      '2026-06-30T23:00:00Z',
    ]);
    assert.equal(before.code, 0, before.stderr);
    const after = await vouch([
      'licenses',
      SPDX22,
      '--policy',
      policy,
      '--timestamp',
      '2026-07-01T00:00:00Z',
    ]);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /the exception for alpine-baselayout@3\.2\.0-r22 expired 2026-06-30/);
  });

  it('codes malformed inputs (exit 3) and usage errors (exit 2)', async () => {
    const badPolicy = file('bad.yaml', 'allow: [MIT]\ndenny: [GPL-3.0-only]\n');
    const p = await vouch(['licenses', SPDX22, '--policy', badPolicy]);
    assert.equal(p.code, 3);
    assert.match(
      p.stderr,
      /bad\.yaml:2: licence policy denny is not a policy field.*\[ERR_LICENSE_POLICY_MALFORMED\]/,
    );
    // Every allow item commented out is a YAML null, not "no allow list" (that would pass AGPL).
    const nullAllow = file('null.yaml', 'allow:\n  # - MIT\n  # - Apache-2.0\n');
    const n = await vouch(['licenses', SPDX22, '--policy', nullAllow]);
    assert.equal(n.code, 3);
    assert.match(n.stderr, /null\.yaml:1: licence policy allow is empty.*\[ERR_LICENSE_POLICY_MALFORMED\]/);
    const badSbom = file(
      'bad.json',
      '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"version":"1"}]}',
    );
    const s = await vouch(['licenses', badSbom]);
    assert.equal(s.code, 3);
    assert.match(s.stderr, /\$\.components\[0\]\.name is required \[ERR_SBOM_MALFORMED\]/);
    const missing = await vouch(['licenses', join(dir, 'nope.json')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /ERR_INPUT_UNREADABLE/);
    const ts = await vouch(['licenses', SPDX22, '--timestamp', 'yesterday']);
    assert.equal(ts.code, 2);
  });

  it('refuses to overwrite --output without --force', async () => {
    const output = file('exists.json', '{}');
    const r = await vouch(['licenses', SPDX22, '--output', output], ENV);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ERR_OUTPUT_EXISTS/);
    const f = await vouch(['licenses', SPDX22, '--output', output, '--force'], ENV);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(JSON.parse(readFileSync(output, 'utf8')).summary.components, 3);
  });
});
