import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVouchError } from '../../src/core/index.js';
import { MAX_BUNDLES, parseVerifyRequest } from '../../src/server/index.js';
import { expectCode } from '../helpers.js';

const DIGEST = `sha256:${'d'.repeat(64)}`;
const base = (): Record<string, unknown> => ({ artifact: { digest: DIGEST }, bundles: [] });
/** An inline bundle `depth` objects and arrays deep, built as text (a literal that deep would not compile). */
const nested = (depth: number): unknown =>
  JSON.parse(`${'{"a":['.repeat(depth / 2)}1${']}'.repeat(depth / 2)}`);

describe('server: parseVerifyRequest', () => {
  it('reads the smallest and the fullest request', () => {
    assert.deepEqual(parseVerifyRequest(base()), { artifact: { digest: DIGEST }, bundles: [] });
    const full = parseVerifyRequest({
      artifact: {
        digest: DIGEST,
        name: 'dist/app.tgz',
        purl: 'pkg:npm/app@1.0.0',
        oci: { registry: '127.0.0.1:5000', repository: 'acme/app', tag: 'v1' },
      },
      bundles: ['eyJhIjoxfQ', { a: 1 }],
      tier: 'fast',
      policy: 'release',
    });
    assert.deepEqual(full.artifact.oci, { registry: '127.0.0.1:5000', repository: 'acme/app', tag: 'v1' });
    assert.deepEqual(
      full.bundles.map((b) => Buffer.from(b.bytes).toString()),
      ['{"a":1}', '{"a":1}'],
    );
    assert.equal(full.tier, 'fast');
    assert.equal(full.policy, 'release');
  });

  it('accepts an inline bundle 64 levels deep, byte for byte as JSON.stringify writes it', () => {
    const r = parseVerifyRequest({ ...base(), bundles: [nested(64)] });
    assert.equal(Buffer.from(r.bundles[0]?.bytes ?? []).toString(), JSON.stringify(nested(64)));
  });

  // Every refusal is ERR_REQUEST_MALFORMED with the JSON path of the offending field.
  const refused: [string, unknown, string][] = [
    ['not an object', 'x', ''],
    ['unknown top-level field', { ...base(), extra: 1 }, 'extra'],
    ['artifact missing', { bundles: [] }, 'artifact'],
    ['artifact not an object', { artifact: 'sha256:x', bundles: [] }, 'artifact'],
    ['unknown artifact field', { artifact: { digest: DIGEST, size: 3 }, bundles: [] }, 'artifact.size'],
    ['digest missing', { artifact: {}, bundles: [] }, 'artifact.digest'],
    ['digest upper-case', { artifact: { digest: DIGEST.toUpperCase() }, bundles: [] }, 'artifact.digest'],
    ['digest sha1', { artifact: { digest: `sha1:${'a'.repeat(40)}` }, bundles: [] }, 'artifact.digest'],
    ['digest short', { artifact: { digest: 'sha256:abcd' }, bundles: [] }, 'artifact.digest'],
    ['name not a string', { artifact: { digest: DIGEST, name: 1 }, bundles: [] }, 'artifact.name'],
    ['purl not a purl', { artifact: { digest: DIGEST, purl: 'npm/app' }, bundles: [] }, 'artifact.purl'],
    ['oci not an object', { artifact: { digest: DIGEST, oci: 'ghcr.io/a' }, bundles: [] }, 'artifact.oci'],
    [
      'oci unknown field',
      { artifact: { digest: DIGEST, oci: { registry: 'r', repository: 'a', digest: DIGEST } }, bundles: [] },
      'artifact.oci.digest',
    ],
    [
      'oci registry empty',
      { artifact: { digest: DIGEST, oci: { registry: '', repository: 'a' } }, bundles: [] },
      'artifact.oci.registry',
    ],
    ['bundles missing', { artifact: { digest: DIGEST } }, 'bundles'],
    ['bundles not an array', { artifact: { digest: DIGEST }, bundles: {} }, 'bundles'],
    ['bundle not base64', { artifact: { digest: DIGEST }, bundles: ['%%%'] }, 'bundles[0]'],
    ['bundle non-canonical base64', { artifact: { digest: DIGEST }, bundles: ['eR=='] }, 'bundles[0]'],
    ['bundle a number', { artifact: { digest: DIGEST }, bundles: [{}, 7] }, 'bundles[1]'],
    ['bundle an array', { artifact: { digest: DIGEST }, bundles: [[]] }, 'bundles[0]'],
    ['bundle nested 66 deep', { artifact: { digest: DIGEST }, bundles: [{}, nested(66)] }, 'bundles[1]'],
    [
      'bundle nested 200,000 deep',
      { artifact: { digest: DIGEST }, bundles: [nested(200_000)] },
      'bundles[0]',
    ],
    [
      'too many bundles',
      { artifact: { digest: DIGEST }, bundles: Array(MAX_BUNDLES + 1).fill({}) },
      'bundles',
    ],
    ['tier unknown', { ...base(), tier: 'full' }, 'tier'],
    ['tier not a string', { ...base(), tier: 1 }, 'tier'],
    ['policy empty', { ...base(), policy: '' }, 'policy'],
    [
      '__proto__ key',
      JSON.parse(`{"artifact":{"digest":"${DIGEST}"},"bundles":[],"__proto__":{"tier":"deep"}}`),
      '__proto__',
    ],
  ];
  for (const [what, body, path] of refused) {
    it(`refuses: ${what}`, async () => {
      await expectCode(() => parseVerifyRequest(body), 'ERR_REQUEST_MALFORMED');
      try {
        parseVerifyRequest(body);
      } catch (e) {
        assert.ok(isVouchError(e));
        assert.equal(e.details?.['path'], path);
      }
    });
  }
});
