// The distribution reference grammar (github.com/distribution/reference reference.go, normalize.go) and
// the tag names derived from digests (distribution-spec v1.1 referrers tag schema, cosign's .sig/.att).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  cosignTag,
  formatReference,
  parseReference,
  type Reference,
  referrersTag,
  withDigest,
} from '../../src/oci/index.js';
import { expectCode } from '../helpers.js';

const HEX = 'a'.repeat(64);
const D = `sha256:${HEX}`;
const RUNS = Number(process.env['VOUCH_PROPERTY_RUNS'] ?? 200);

describe('parseReference', () => {
  const valid: [string, Reference][] = [
    ['alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['alpine:3.20', { registry: 'docker.io', repository: 'library/alpine', tag: '3.20' }],
    ['docker.io/alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['index.docker.io/library/alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['acme/app', { registry: 'docker.io', repository: 'acme/app' }],
    ['ghcr.io/acme/app:v1.2.3', { registry: 'ghcr.io', repository: 'acme/app', tag: 'v1.2.3' }],
    [
      `127.0.0.1:5000/acme/app:1.0@${D}`,
      { registry: '127.0.0.1:5000', repository: 'acme/app', tag: '1.0', digest: D },
    ],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/app', { registry: 'localhost:5000', repository: 'app' }],
    ['[::1]:5000/app:x', { registry: '[::1]:5000', repository: 'app', tag: 'x' }],
    // normalize.go: a first component with uppercase letters is a registry host (hosts are case-insensitive).
    ['Acme/app', { registry: 'acme', repository: 'app' }],
    ['Registry.Example.COM/a/b', { registry: 'registry.example.com', repository: 'a/b' }],
    [
      'reg-1.example.com:443/a__b/c.d/e-f--g',
      { registry: 'reg-1.example.com:443', repository: 'a__b/c.d/e-f--g' },
    ],
    [`app@${D}`, { registry: 'docker.io', repository: 'library/app', digest: D }],
    ['a/b:_tag.-x', { registry: 'docker.io', repository: 'a/b', tag: '_tag.-x' }],
    [
      `a/b@sha512:${'b'.repeat(128)}`,
      { registry: 'docker.io', repository: 'a/b', digest: `sha512:${'b'.repeat(128)}` },
    ],
  ];
  for (const [input, want] of valid) {
    it(`reads ${input.length > 60 ? `${input.slice(0, 57)}...` : input}`, () => {
      assert.deepEqual(parseReference(input), want);
    });
  }

  const invalid: [string, string][] = [
    ['', 'empty'],
    ['ghcr.io/Acme/app', 'uppercase repository'],
    ['ghcr.io/acme/app:', 'empty tag'],
    ['ghcr.io/acme/app:-x', 'tag starting with -'],
    [`ghcr.io/acme/app:${'t'.repeat(129)}`, 'tag longer than 128'],
    ['ghcr.io/acme//app', 'empty path component'],
    ['ghcr.io/acme/app_', 'trailing separator'],
    ['ghcr.io/acme/.app', 'leading separator'],
    ['ghcr.io/acme/a___b', 'three underscores'],
    ['ghcr.io/-bad/app', 'component starting with -'],
    ['-bad.io/app', 'domain starting with -'],
    ['http://ghcr.io/acme/app', 'a URL'],
    ['ghcr.io/acme/app@sha256:abc', 'short digest'],
    [`ghcr.io/acme/app@sha256:${'A'.repeat(64)}`, 'uppercase sha256 hex'],
    [`ghcr.io/acme/app@sha256:${'a'.repeat(63)}`, '63 hex characters'],
    [`ghcr.io/acme/app@md5:${'a'.repeat(32)}`, 'unsupported algorithm'],
    [`ghcr.io/acme/app@${HEX}`, 'digest without algorithm'],
    [HEX, 'a 64-hex image ID'],
    [`ghcr.io/${'a'.repeat(250)}`, 'name over 255 characters'],
    [`ghcr.io/acme/app@sha256:${HEX}@x`, 'two @'],
    ['ghcr.io/acme app', 'space'],
  ];
  for (const [input, why] of invalid) {
    it(`refuses ${why}`, async () => {
      await expectCode(() => parseReference(input), 'ERR_OCI_REFERENCE');
    });
  }

  it('formats what it reads back to the same reference', () => {
    const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}$/);
    const ref = fc.record({
      registry: fc.constantFrom(
        'ghcr.io',
        '127.0.0.1:5000',
        'localhost',
        '[::1]:5000',
        'registry.example.com:8443',
      ),
      path: fc.array(component, { minLength: 1, maxLength: 3 }),
      tag: fc.option(fc.stringMatching(/^\w[\w.-]{0,20}$/), { nil: undefined }),
      digest: fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
    });
    fc.assert(
      fc.property(ref, (r) => {
        const text = `${r.registry}/${r.path.join('/')}${r.tag === undefined ? '' : `:${r.tag}`}${r.digest === undefined ? '' : `@sha256:${r.digest}`}`;
        const parsed = parseReference(text);
        assert.equal(formatReference(parsed), text);
        assert.deepEqual(parseReference(formatReference(parsed)), parsed);
      }),
      { numRuns: RUNS },
    );
  });

  it('pins a reference to a digest, refusing a malformed one', async () => {
    const ref = parseReference('ghcr.io/acme/app:1');
    assert.deepEqual(withDigest(ref, D), { ...ref, digest: D });
    await expectCode(() => withDigest(ref, 'sha256:xyz'), 'ERR_OCI_REFERENCE');
  });

  it('is a TypeError on a non-string (programmer error)', () => {
    assert.throws(() => parseReference(42 as unknown as string), TypeError);
  });
});

describe('tags derived from digests', () => {
  it('referrers tag schema: <alg>-<hex>, truncated to 64 characters', () => {
    assert.equal(referrersTag(D), `sha256-${HEX}`);
    assert.equal(referrersTag(`sha512:${'c'.repeat(128)}`), `sha512-${'c'.repeat(64)}`);
  });
  it("cosign's legacy tags: sha256-<hex>.sig and .att", () => {
    assert.equal(cosignTag(D, 'sig'), `sha256-${HEX}.sig`);
    assert.equal(cosignTag(D, 'att'), `sha256-${HEX}.att`);
  });
});
