import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { vouch } from './harness.js';

// The command describes the working directory, so this file runs in a temporary one (outside any git
// repository); npm's user agent spares each run an `npm --version`.
const UA = { npm_config_user_agent: 'npm/10.8.2 node/v20.17.0 linux x64 workspaces/false' };

describe('cli: provenance', () => {
  const dir = tempDir('vouch-cli-prov-');
  const home = process.cwd();
  before(() => {
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'b.tgz'), 'b\n');
    writeFileSync(join(dir, 'dist', 'a.tgz'), 'a\n');
    writeFileSync(join(dir, 'package-lock.json'), '{}\n');
    process.chdir(dir);
  });
  after(() => process.chdir(home));

  it('--help explains the platforms and shows an example', async () => {
    const r = await vouch(['provenance', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--subject <path\|glob\.\.\.>/);
    assert.match(r.stdout, /GITHUB_ACTIONS=true/);
    assert.match(r.stdout, /Examples:\n {2}vouch provenance --subject/);
  });

  it('prints the statement (2-space JSON, trailing newline) and warns on stderr about what is missing', async () => {
    const r = await vouch(['provenance', '--subject', 'dist/*.tgz'], UA);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.endsWith('}\n'));
    const st = JSON.parse(r.stdout);
    assert.equal(r.stdout, `${JSON.stringify(st, null, 2)}\n`);
    assert.equal(st.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(
      st.subject.map((s: { name: string; digest: { sha256: string } }) => [s.name, s.digest.sha256]),
      [
        ['dist/a.tgz', createHash('sha256').update('a\n').digest('hex')],
        ['dist/b.tgz', createHash('sha256').update('b\n').digest('hex')],
      ],
    );
    assert.equal(st.predicate.buildDefinition.buildType, 'https://vouch.dev/buildtypes/local/v1');
    assert.match(r.stderr, /warning: incomplete provenance: source commit/);
    assert.match(r.stderr, /warning: incomplete provenance: source repository: unknown/);
    assert.match(r.stderr, /warning: incomplete provenance: work tree: not a git checkout/);
  });

  it('--strict refuses incomplete provenance (exit 1, ERR_PROVENANCE_INCOMPLETE) and writes nothing', async () => {
    const r = await vouch(['provenance', '--subject', 'dist/a.tgz', '--strict', '--output', 'p.json'], UA);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /source commit.*\[ERR_PROVENANCE_INCOMPLETE\]/);
    assert.equal(r.stdout, '');
    const j = await vouch(['provenance', '--subject', 'dist/a.tgz', '--strict', '--json'], UA);
    assert.equal(j.code, 1);
    assert.equal(JSON.parse(j.stdout).error.code, 'ERR_PROVENANCE_INCOMPLETE');
  });

  it('--output writes atomically, refuses to overwrite without --force; --json summarises', async () => {
    const args = [
      'provenance',
      '--subject',
      'dist/a.tgz',
      '--subject',
      'dist/b.tgz',
      '--output',
      'prov.json',
    ];
    const first = await vouch(args, UA);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Provenance \(local\) for 2 subject\(s\) written to prov\.json/);
    const written = readFileSync('prov.json', 'utf8');
    assert.equal(JSON.parse(written).subject.length, 2);
    const again = await vouch(args, UA);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /ERR_OUTPUT_EXISTS/);
    const forced = await vouch([...args, '--force', '--json'], UA);
    assert.equal(forced.code, 0);
    const summary = JSON.parse(forced.stdout);
    assert.equal(summary.ok, true);
    assert.equal(summary.platform, 'local');
    assert.deepEqual(
      summary.subjects.map((s: { name: string }) => s.name),
      ['dist/a.tgz', 'dist/b.tgz'],
    );
    assert.equal(summary.incomplete.length, 3);
  });

  it('GitHub Actions environment: GitHub build type, and no token from the environment in the output', async () => {
    const env = {
      ...UA,
      GITHUB_ACTIONS: 'true',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_WORKFLOW_REF: 'o/r/.github/workflows/build.yml@refs/tags/v1',
      GITHUB_REF: 'refs/tags/v1',
      GITHUB_SHA: 'd'.repeat(40),
      GITHUB_EVENT_NAME: 'push',
      GITHUB_RUN_ID: '5',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_TOKEN: 'ghs_cli_secret_token',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'cli_oidc_secret',
    };
    const r = await vouch(
      ['provenance', '--subject', 'dist/a.tgz', '--started-on', '2020-01-01T00:00:00Z'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const st = JSON.parse(r.stdout);
    assert.equal(st.predicate.buildDefinition.buildType, 'https://actions.github.io/buildtypes/workflow/v1');
    assert.equal(
      st.predicate.runDetails.builder.id,
      'https://github.com/o/r/.github/workflows/build.yml@refs/tags/v1',
    );
    assert.equal(st.predicate.runDetails.metadata.startedOn, '2020-01-01T00:00:00Z');
    assert.ok(!r.stdout.includes('secret') && !r.stderr.includes('secret'));
  });

  it('usage and input errors have their exit codes', async () => {
    const none = await vouch(['provenance'], UA);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--subject is required \[ERR_USAGE\]/);
    const nomatch = await vouch(['provenance', '--subject', 'dist/*.zip'], UA);
    assert.equal(nomatch.code, 3);
    assert.match(nomatch.stderr, /subject "dist\/\*\.zip" matches no file \[ERR_PROVENANCE_SUBJECT\]/);
    const badTime = await vouch(['provenance', '--subject', 'dist/a.tgz', '--started-on', 'today'], UA);
    assert.equal(badTime.code, 2);
    assert.match(badTime.stderr, /--started-on must be an RFC 3339 date-time/);
    const lock = await vouch(['provenance', '--subject', 'dist/a.tgz', '--lockfile', 'yarn.lock'], UA);
    assert.equal(lock.code, 3);
    assert.match(lock.stderr, /ERR_LOCKFILE_NOT_FOUND/);
    const gh = await vouch(['provenance', '--subject', 'dist/a.tgz'], { ...UA, GITHUB_ACTIONS: 'true' });
    assert.equal(gh.code, 3);
    assert.match(
      gh.stderr,
      /GitHub Actions detected, but GITHUB_SERVER_URL is not set \[ERR_INPUT_MALFORMED\]/,
    );
  });
});
