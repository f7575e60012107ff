import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { vouch } from './harness.js';

const env = { VOUCH_PASSWORD: 'detached-pass' };

describe('cli: OpenPGP and CMS detached signatures end to end', () => {
  const dir = tempDir();
  const p = (n: string) => join(dir, n);

  it('--format openpgp: gpg verifies what vouch signs; vouch verifies it; tampering is exit 1', async () => {
    assert.equal(
      (await vouch(['keygen', '--format', 'openpgp', '--name', 'Bot', '--out', p('bot')], env)).code,
      0,
    );
    writeFileSync(p('a.txt'), 'openpgp artifact\n');
    assert.equal(
      (await vouch(['sign', p('a.txt'), '--format', 'openpgp', '--key', p('bot.asc')], env)).code,
      0,
    );
    const home = join(dir, 'gnupg');
    execFileSync('mkdir', ['-m', '700', home]);
    after(() => spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: home } }));
    const gpg = (...args: string[]) =>
      spawnSync('gpg', ['--batch', '--homedir', home, ...args], { encoding: 'utf8' });
    assert.equal(gpg('--import', p('bot.pub.asc')).status, 0);
    assert.equal(gpg('--verify', p('a.txt.asc'), p('a.txt')).status, 0);
    const ok = await vouch([
      'verify',
      p('a.txt'),
      '--signature',
      p('a.txt.asc'),
      '--key',
      p('bot.pub.asc'),
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal((JSON.parse(ok.stdout) as { format: string }).format, 'openpgp');
    appendFileSync(p('a.txt'), 'x');
    const bad = await vouch(['verify', p('a.txt'), '--signature', p('a.txt.asc'), '--key', p('bot.pub.asc')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ERR_PGP_SIGNATURE/);
  });

  it('--format cms: openssl verifies what vouch signs; vouch checks chain and content', async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '30',
      '-subj',
      '/CN=ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
    writeFileSync(p('ext'), 'extendedKeyUsage=codeSigning\nkeyUsage=critical,digitalSignature\n');
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'leaf.key',
      '-out',
      'leaf.csr',
      '-subj',
      '/CN=signer',
    );
    ssl(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'leaf.pem',
      '-days',
      '10',
      '-extfile',
      'ext',
    );
    writeFileSync(p('b.txt'), 'cms artifact\n');
    const s = await vouch(
      ['sign', p('b.txt'), '--format', 'cms', '--key', p('leaf.key'), '--certificate', p('leaf.pem')],
      env,
    );
    assert.equal(s.code, 0, s.stderr);
    ssl(
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      'b.txt.p7s',
      '-content',
      'b.txt',
      '-CAfile',
      'ca.pem',
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    );
    const ok = await vouch(['verify', p('b.txt'), '--signature', p('b.txt.p7s'), '--ca-bundle', p('ca.pem')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /signer: CN=signer/);
    const noCa = await vouch([
      'verify',
      p('b.txt'),
      '--signature',
      p('b.txt.p7s'),
      '--ca-bundle',
      p('leaf.csr'),
    ]);
    assert.equal(noCa.code, 3);
    assert.match(noCa.stderr, /ERR_CERT_MALFORMED/);
    appendFileSync(p('b.txt'), 'x');
    const bad = await vouch([
      'verify',
      p('b.txt'),
      '--signature',
      p('b.txt.p7s'),
      '--ca-bundle',
      p('ca.pem'),
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ERR_CMS_SIGNATURE/);
  });
});
