import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir, VECTORS } from '../helpers.js';
import { vouch } from './harness.js';

// Issue 4 §5: every predicate Vouch produces is attached to an artifact with `attest --type <t>` and read back
// with `verify-attestation --type <t>`, which checks signature, subject binding, type and predicate shape.
// The documents come from the real commands run on a real lockfile vector.

const ENV = {
  VOUCH_PASSWORD: 'attest-types-pass',
  SOURCE_DATE_EPOCH: '1767225600',
  npm_config_user_agent: 'npm/10.8.2 node/v20.17.0 linux x64 workspaces/false',
};

describe('cli: attest and verify-attestation for every predicate type', () => {
  const dir = tempDir('vouch-attest-types-');
  const p = (n: string) => join(dir, n);
  const home = process.cwd();

  before(async () => {
    process.chdir(dir);
    copyFileSync(join(VECTORS, 'lockfiles/npm-v3.slsa-verifier.package-lock.json'), p('package-lock.json'));
    copyFileSync(join(VECTORS, 'lockfiles/npm-v3.slsa-verifier.package.json'), p('package.json'));
    writeFileSync(p('app.tgz'), 'the release artifact\n');
    writeFileSync(p('other.tgz'), 'another artifact\n');
    assert.equal((await vouch(['keygen', '--alg', 'ecdsa-p256', '--out', p('k')], ENV)).code, 0);
    const run = async (args: string[]) => {
      const r = await vouch(args, ENV);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    };
    await run(['provenance', '--subject', 'app.tgz', '--output', p('prov.json')]);
    await run(['provenance', '--subject', 'other.tgz', '--output', p('prov-other.json')]);
    await run(['sbom', '--output', p('sbom.cdx.json')]);
    await run(['sbom', '--format', 'spdx', '--output', p('sbom.spdx.json')]);
    await run(['licenses', p('sbom.cdx.json'), '--output', p('licenses.json')]);
    // Only the advisories: the folder also holds the collector's expected-matches table.
    mkdirSync(p('osv'));
    for (const f of readdirSync(join(VECTORS, 'osv')).filter((n) => n.startsWith('GHSA-'))) {
      copyFileSync(join(VECTORS, 'osv', f), p(join('osv', f)));
    }
    await run(['vuln', 'db', 'import', p('osv'), '--db', p('vulns.db')]);
    await run(['scan', p('sbom.cdx.json'), '--db', p('vulns.db'), '--output', p('vulns.json')]);
    writeFileSync(
      p('vex.json'),
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        '@id': 'https://example.com/vex/app-1',
        author: 'release team',
        timestamp: '2026-01-01T00:00:00Z',
        version: 1,
        statements: [
          {
            vulnerability: { name: 'GHSA-c2qf-rxjj-qqgw' },
            products: [{ '@id': 'pkg:npm/semver@7.5.1' }],
            status: 'not_affected',
            justification: 'vulnerable_code_not_in_execute_path',
          },
        ],
      }),
    );
  });
  after(() => process.chdir(home));

  const attest = (type: string, predicate: string, bundle: string, artifact = 'app.tgz') =>
    vouch(
      [
        'attest',
        p(artifact),
        '--key',
        p('k.key'),
        '--type',
        type,
        '--predicate',
        p(predicate),
        '--bundle',
        p(bundle),
      ],
      ENV,
    );
  const verifyAtt = (type: string, bundle: string) =>
    vouch([
      'verify-attestation',
      p('app.tgz'),
      '--key',
      p('k.pub'),
      '--type',
      type,
      '--bundle',
      p(bundle),
      '--json',
    ]);

  const cases: [type: string, predicate: string, summary: RegExp][] = [
    [
      'slsa',
      'prov.json',
      /^SLSA provenance v1: builder https:\/\/vouch\.dev\/.+, build type https:\/\/vouch\.dev\/buildtypes\/local\/v1/,
    ],
    ['cyclonedx', 'sbom.cdx.json', /^CycloneDX 1\.6 SBOM: 876 components$/],
    ['spdx', 'sbom.spdx.json', /^SPDX-2\.3 SBOM: 877 packages$/],
    ['licenses', 'licenses.json', /^licence evaluation: pass, 876 components, 0 violations$/],
    ['vulns', 'vulns.json', /^vulnerability scan by .+: \d+ results$/],
    ['openvex', 'vex.json', /^OpenVEX document: 1 statements$/],
  ];
  for (const [type, predicate, summary] of cases) {
    it(`${type}: attest, then verify-attestation checks binding, type and shape`, async () => {
      const a = await attest(type, predicate, `${type}.att.json`);
      assert.equal(a.code, 0, a.stderr);
      const v = await verifyAtt(type, `${type}.att.json`);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      const out = JSON.parse(v.stdout) as { summary: string; statement: { subject: { name: string }[] } };
      assert.match(out.summary, summary);
      assert.deepEqual(
        out.statement.subject.map((s) => s.name),
        ['app.tgz'],
      );
      const wrong = await verifyAtt(type === 'spdx' ? 'cyclonedx' : 'spdx', `${type}.att.json`);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stdout + wrong.stderr, /ERR_INTOTO_PREDICATE_TYPE/);
    });
  }

  it('refuses to sign a document under the wrong type, writing nothing', async () => {
    const r = await attest('cyclonedx', 'sbom.spdx.json', 'bad.att.json');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /predicate\.bomFormat must be "CycloneDX" \[ERR_PREDICATE_MALFORMED\]/);
    const v = await verifyAtt('cyclonedx', 'bad.att.json');
    assert.equal(v.code, 3);
    assert.match(v.stdout + v.stderr, /ERR_INPUT_UNREADABLE/);
  });

  it('refuses a provenance statement about another artifact', async () => {
    const r = await attest('slsa', 'prov-other.json', 'other.att.json');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /no subject of the statement has sha256:[0-9a-f]{64} \[ERR_INTOTO_SUBJECT_MISMATCH\]/,
    );
  });
});
