import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { certificateIdentity, compileIdentityPolicy, matchIdentity } from '../../src/verify/identity.js';
import { expectCode, VECTORS } from '../helpers.js';
import { makePki, OIDC_ISSUER, SUBJECT, utf8 } from './fixtures.js';

const CONF = join(VECTORS, 'sigstore-conformance', 'cases');
const BEACON =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const GITHUB = 'https://token.actions.githubusercontent.com';

function leafOf(caseName: string): Buffer {
  const b = JSON.parse(readFileSync(join(CONF, caseName, 'bundle.sigstore.json'), 'utf8')) as {
    verificationMaterial: {
      certificate?: { rawBytes: string };
      x509CertificateChain?: { certificates: { rawBytes: string }[] };
    };
  };
  const vm = b.verificationMaterial;
  const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates[0]?.rawBytes ?? '';
  return Buffer.from(raw, 'base64');
}

const pki = await makePki();

describe('certificateIdentity', () => {
  it('reads a real Fulcio certificate: URI SAN, issuer (v1 and v2 agree) and the GitHub extensions', () => {
    const id = certificateIdentity(leafOf('happy-path-v0.3'));
    assert.deepEqual(id.sans, [{ type: 'uri', value: BEACON }]);
    assert.equal(id.issuer, GITHUB);
    assert.equal(id.extensions.issuer, GITHUB);
    assert.equal(
      id.extensions.sourceRepositoryURI,
      'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon',
    );
    assert.equal(id.extensions.sourceRepositoryRef, 'refs/heads/main');
    assert.equal(id.extensions.githubWorkflowTrigger, 'workflow_dispatch');
    assert.equal(id.extensions.runnerEnvironment, 'github-hosted');
    assert.equal(id.extensions.sourceRepositoryVisibilityAtSigning, 'public');
    assert.equal(Object.hasOwn(id.extensions, 'issuerV1'), false);
  });

  it('reads v0.1/v0.2 chain leaves the same way', () => {
    assert.equal(certificateIdentity(leafOf('happy-path-v0.2')).issuer, GITHUB);
  });

  it('reads email, DNS and Fulcio username (otherName) SANs; other otherNames are skipped', async () => {
    const leaf = await pki.issue({
      sans: [
        { type: 'email', value: 'dev@example.com' },
        { type: 'dns', value: 'build.example.com' },
        { type: 'username', value: 'octocat' },
      ],
    });
    assert.deepEqual(certificateIdentity(leaf.der).sans, [
      { type: 'email', value: 'dev@example.com' },
      { type: 'dns', value: 'build.example.com' },
      { type: 'otherName', value: 'octocat' },
    ]);
  });

  it('falls back to the deprecated raw 1.1 issuer extension', async () => {
    const leaf = await pki.issue({ issuer: null, issuerV1: 'https://accounts.example' });
    assert.equal(certificateIdentity(leaf.der).issuer, 'https://accounts.example');
  });

  it('has no issuer when neither extension is present', async () => {
    const leaf = await pki.issue({ issuer: null });
    const id = certificateIdentity(leaf.der);
    assert.equal(id.issuer, undefined);
    assert.equal(Object.hasOwn(id.extensions, 'issuer'), false);
  });

  it('refuses 1.1 and 1.8 issuers that disagree (ERR_CERT_MALFORMED)', async () => {
    const leaf = await pki.issue({ issuer: 'https://a.example', issuerV1: 'https://b.example' });
    await expectCode(() => certificateIdentity(leaf.der), 'ERR_CERT_MALFORMED');
  });

  it('refuses a 1.8 issuer that is not a DER UTF8String (ERR_CERT_MALFORMED)', async () => {
    const leaf = await pki.issue({
      issuer: null,
      extensions: [['1.3.6.1.4.1.57264.1.8', Buffer.from('https://raw.example')]],
    });
    await expectCode(() => certificateIdentity(leaf.der), 'ERR_CERT_MALFORMED');
  });

  it('refuses bad UTF-8 in a Fulcio extension (ERR_INPUT_ENCODING)', async () => {
    const leaf = await pki.issue({
      extensions: [['1.3.6.1.4.1.57264.1.12', Buffer.from([0x0c, 0x02, 0xc3, 0x28])]],
    });
    await expectCode(() => certificateIdentity(leaf.der), 'ERR_INPUT_ENCODING');
  });

  it('refuses bytes that are not a certificate (ERR_CERT_MALFORMED)', async () => {
    const good = leafOf('happy-path-v0.3');
    for (const bad of [
      Buffer.alloc(0),
      Buffer.from([0x30, 0x80, 0x00, 0x00]),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
      utf8('not a certificate'),
    ]) {
      await expectCode(() => certificateIdentity(bad), 'ERR_CERT_MALFORMED');
    }
  });
});

describe('identity policy', () => {
  const id = { sans: [{ type: 'uri' as const, value: SUBJECT }], issuer: OIDC_ISSUER, extensions: {} };

  it('matches an exact subject and issuer', () => {
    assert.deepEqual(matchIdentity(id, compileIdentityPolicy({ subject: SUBJECT, issuer: OIDC_ISSUER })), {
      subject: SUBJECT,
      issuer: OIDC_ISSUER,
    });
  });

  it('anchors regexps: the whole value must match', async () => {
    const ok = compileIdentityPolicy({
      subjectRegExp: 'https://github\\.com/example/.*',
      issuerRegExp: 'https://token\\.example',
    });
    assert.equal(matchIdentity(id, ok).subject, SUBJECT);
    // A prefix of the subject or issuer is not a match.
    await expectCode(
      () => matchIdentity(id, compileIdentityPolicy({ subjectRegExp: 'https://github\\.com' })),
      'ERR_CERT_IDENTITY',
    );
    await expectCode(
      () => matchIdentity(id, compileIdentityPolicy({ subject: SUBJECT, issuerRegExp: 'https://token' })),
      'ERR_CERT_ISSUER',
    );
    // Alternation cannot escape the anchors.
    await expectCode(
      () =>
        matchIdentity(id, compileIdentityPolicy({ subjectRegExp: 'nothing|https://github\\.com/example' })),
      'ERR_CERT_IDENTITY',
    );
  });

  it('regexps are RE2, as `vouch policy check` validates them: (?i) works, lookaround is refused', async () => {
    const insensitive = compileIdentityPolicy({
      subjectRegExp: '(?i)^HTTPS://GITHUB\\.COM/example/.*$',
      issuerRegExp: '(?i)https://TOKEN\\.example',
    });
    assert.equal(matchIdentity(id, insensitive).subject, SUBJECT);
    await expectCode(() => compileIdentityPolicy({ subjectRegExp: '^(?=https).*$' }), 'ERR_USAGE');
    await expectCode(() => compileIdentityPolicy({ subjectRegExp: '(a)\\1' }), 'ERR_USAGE');
  });

  it('matches in linear time: a backtracking pattern over a hostile SAN does not hang', () => {
    const hostile = { ...id, sans: [{ type: 'email' as const, value: `${'a'.repeat(28)}!` }] };
    const started = performance.now();
    assert.throws(() => matchIdentity(hostile, compileIdentityPolicy({ subjectRegExp: '(a+)+b' })));
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  });

  it('matches any SAN, and every constraint given must hold', async () => {
    const two = { ...id, sans: [{ type: 'email' as const, value: 'a@example.com' }, ...id.sans] };
    assert.equal(matchIdentity(two, compileIdentityPolicy({ subject: SUBJECT })).subject, SUBJECT);
    await expectCode(
      () =>
        matchIdentity(two, compileIdentityPolicy({ subject: SUBJECT, subjectRegExp: '.*@example\\.com' })),
      'ERR_CERT_IDENTITY',
    );
  });

  it('rejects another subject (ERR_CERT_IDENTITY) and another or missing issuer (ERR_CERT_ISSUER)', async () => {
    await expectCode(
      () => matchIdentity(id, compileIdentityPolicy({ subject: `${SUBJECT}x` })),
      'ERR_CERT_IDENTITY',
    );
    await expectCode(
      () => matchIdentity(id, compileIdentityPolicy({ subject: SUBJECT, issuer: 'https://evil.example' })),
      'ERR_CERT_ISSUER',
    );
    await expectCode(
      () =>
        matchIdentity(
          { sans: id.sans, extensions: {} },
          compileIdentityPolicy({ subject: SUBJECT, issuer: OIDC_ISSUER }),
        ),
      'ERR_CERT_ISSUER',
    );
    await expectCode(
      () => matchIdentity({ sans: [], extensions: {} }, compileIdentityPolicy({ subjectRegExp: '.*' })),
      'ERR_CERT_IDENTITY',
    );
  });

  it('refuses a policy without a subject and a regexp that does not compile (ERR_USAGE)', async () => {
    await expectCode(() => compileIdentityPolicy({}), 'ERR_USAGE');
    await expectCode(() => compileIdentityPolicy({ issuer: OIDC_ISSUER }), 'ERR_USAGE');
    await expectCode(() => compileIdentityPolicy({ subjectRegExp: '(' }), 'ERR_USAGE');
    await expectCode(() => compileIdentityPolicy({ subject: SUBJECT, issuerRegExp: '[' }), 'ERR_USAGE');
  });
});
