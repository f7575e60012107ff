import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVouchError } from '../../src/core/index.js';
import { parsePolicyInput } from '../../src/policy/index.js';

const digest = `sha256:${'ab'.repeat(32)}`;
const key = { kind: 'key', keyId: 'f'.repeat(64) };

describe('parsePolicyInput', () => {
  it('reads artifact, signatures, attestations and now; RFC 3339 strings become Dates', () => {
    const input = parsePolicyInput({
      artifact: {
        digest,
        name: 'dist/app.tgz',
        oci: { registry: 'ghcr.io', repository: 'acme/app', tag: 'v1' },
      },
      now: '2026-03-01T12:00:00Z',
      signatures: [{ signer: key, time: '2026-02-27T10:00:00+01:00' }],
      attestations: [
        {
          signer: {
            kind: 'certificate',
            subject: 'https://github.com/acme/app/.github/workflows/r.yml@refs/heads/main',
            issuer: 'https://token.actions.githubusercontent.com',
            extensions: { sourceRepositoryURI: 'https://github.com/acme/app' },
          },
          source: 'oci-referrer:sha256:1',
          predicateType: 'https://slsa.dev/provenance/v1',
          predicate: { x: [1, null] },
        },
      ],
    });
    assert.equal(input.now.toISOString(), '2026-03-01T12:00:00.000Z');
    assert.equal(input.signatures[0]?.time?.toISOString(), '2026-02-27T09:00:00.000Z');
    assert.equal(input.signatures[0]?.source, 'input.signatures[0]');
    assert.deepEqual(input.attestations[0]?.signer, {
      kind: 'certificate',
      subject: 'https://github.com/acme/app/.github/workflows/r.yml@refs/heads/main',
      issuer: 'https://token.actions.githubusercontent.com',
      extensions: { sourceRepositoryURI: 'https://github.com/acme/app' },
    });
    assert.deepEqual(input.attestations[0]?.predicate, { x: [1, null] });
    assert.deepEqual(input.artifact.oci, { registry: 'ghcr.io', repository: 'acme/app', tag: 'v1' });
  });

  it('now defaults to the current time', () => {
    const before = Date.now();
    const input = parsePolicyInput({ artifact: { digest } });
    assert.ok(input.now.getTime() >= before && input.now.getTime() <= Date.now());
    assert.deepEqual([input.signatures, input.attestations], [[], []]);
  });

  const bad: [string, unknown, string][] = [
    ['not an object', [], ''],
    ['no artifact', {}, 'artifact'],
    ['a digest that is not <alg>:<hex>', { artifact: { digest: 'abc' } }, 'artifact.digest'],
    ['a time that is not RFC 3339', { artifact: { digest }, now: 'yesterday' }, 'now'],
    [
      'a signer of an unknown kind',
      { artifact: { digest }, signatures: [{ signer: { kind: 'pgp' } }] },
      'signatures[0].signer.kind',
    ],
    [
      'a key signer without its id',
      { artifact: { digest }, signatures: [{ signer: { kind: 'key' } }] },
      'signatures[0].signer.keyId',
    ],
    [
      'an attestation without a predicate',
      { artifact: { digest }, attestations: [{ signer: key, predicateType: 'x' }] },
      'attestations[0].predicate',
    ],
    [
      'a certificate extension that is not a string',
      {
        artifact: { digest },
        signatures: [{ signer: { kind: 'certificate', subject: 's', extensions: { a: 1 } } }],
      },
      'signatures[0].signer.extensions.a',
    ],
    [
      'too many signatures',
      { artifact: { digest }, signatures: Array(257).fill({ signer: key }) },
      'signatures',
    ],
  ];
  for (const [name, json, path] of bad) {
    it(`refuses ${name} (ERR_INPUT_MALFORMED at ${path || 'the document'})`, () => {
      try {
        parsePolicyInput(json);
        assert.fail('parsed');
      } catch (e) {
        assert.ok(isVouchError(e, 'ERR_INPUT_MALFORMED'), String(e));
        assert.equal(e.details?.['path'], path);
      }
    });
  }
});
