// Same input → byte-identical output, for both formats, through the library and the CLI; SOURCE_DATE_EPOCH
// and --timestamp decide the time, and bad values of either are usage errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateSbom, sbomTimestamp } from '../../../src/attest/index.js';
import { vouch } from '../../cli/harness.js';
import { expectCode } from '../../helpers.js';
import { LOCKFILES, lockfileVectors, T0, TOOL } from './sbom-write-fixture.js';

const NPM_V3 = join(LOCKFILES, 'npm-v3.slsa-verifier.package-lock.json');
const never = (): Date => {
  throw new Error('the clock must not be read');
};

describe('determinism', () => {
  for (const v of lockfileVectors()) {
    it(`${v.file}: two runs give identical bytes in both formats`, async () => {
      for (const format of ['cyclonedx', 'spdx'] as const) {
        const opts = {
          lockfile: join(LOCKFILES, v.file),
          ...(v.packageJson === undefined ? {} : { packageJson: v.packageJson }),
          installed: false,
          format,
          timestamp: T0,
          tool: TOOL,
        };
        const a = await generateSbom(opts);
        const b = await generateSbom(opts);
        assert.equal(a.text, b.text);
        assert.ok(a.text.endsWith('}\n'));
      }
    });
  }

  it('does not depend on the locale (da_DK sorts "aa" after "z"; code-unit order does not)', () => {
    const script = `
      import { generateSbom } from ${JSON.stringify(join(import.meta.dirname, '..', '..', '..', 'src', 'attest', 'index.ts'))};
      const r = await generateSbom({ lockfile: ${JSON.stringify(NPM_V3)}, installed: false, format: 'cyclonedx',
        timestamp: new Date(0), tool: { name: 'vouch', version: '0' } });
      process.stdout.write(r.text);`;
    const run = (lang: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'], LANG: lang, LC_ALL: lang },
        maxBuffer: 64 * 1024 * 1024,
      });
    const en = run('en_US.UTF-8');
    const da = run('da_DK.UTF-8');
    assert.equal(en.status, 0, en.stderr);
    assert.ok(en.stdout.length > 100_000);
    assert.equal(da.stdout, en.stdout);
  });

  it('CLI: SOURCE_DATE_EPOCH sets the time, and two runs are byte-identical', async () => {
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const a = await vouch(['sbom', '--lockfile', NPM_V3, '--no-installed'], env);
    const b = await vouch(['sbom', '--lockfile', NPM_V3, '--no-installed'], env);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.equal(JSON.parse(a.stdout).metadata.timestamp, '2023-11-14T22:13:20Z');
    const s = await vouch(['sbom', '--lockfile', NPM_V3, '--no-installed', '--format', 'spdx'], env);
    assert.equal(JSON.parse(s.stdout).creationInfo.created, '2023-11-14T22:13:20Z');
  });

  it('--timestamp wins over SOURCE_DATE_EPOCH; offsets are converted to UTC', async () => {
    const r = await vouch(
      ['sbom', '--lockfile', NPM_V3, '--no-installed', '--timestamp', '2024-05-01T14:00:00+02:00'],
      {
        SOURCE_DATE_EPOCH: '1700000000',
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).metadata.timestamp, '2024-05-01T12:00:00Z');
  });

  it('sbomTimestamp: flag, then SOURCE_DATE_EPOCH, then the clock', () => {
    assert.equal(
      sbomTimestamp('2024-05-01t12:00:00.5z', '1', never).toISOString(),
      '2024-05-01T12:00:00.500Z',
    );
    assert.equal(sbomTimestamp(undefined, '0', never).toISOString(), '1970-01-01T00:00:00.000Z');
    const now = new Date('2030-01-01T00:00:00Z');
    assert.equal(
      sbomTimestamp(undefined, undefined, () => now),
      now,
    );
    assert.equal(
      sbomTimestamp(undefined, '', () => now),
      now,
    );
  });

  it('refuses a malformed --timestamp or SOURCE_DATE_EPOCH (reproducible-builds: fail, never fall back)', async () => {
    for (const bad of [
      '2024-05-01',
      '2024-05-01 12:00:00Z',
      '2024-13-01T00:00:00Z',
      'yesterday',
      '1700000000',
    ]) {
      await expectCode(() => sbomTimestamp(bad, undefined, never), 'ERR_USAGE');
    }
    for (const bad of ['-1', '1.5', '17e8', ' 1', '1234567890123']) {
      await expectCode(() => sbomTimestamp(undefined, bad, never), 'ERR_USAGE');
    }
    const r = await vouch(['sbom', '--lockfile', NPM_V3], { SOURCE_DATE_EPOCH: 'soon' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /SOURCE_DATE_EPOCH "soon".*\[ERR_USAGE\]/);
  });
});
