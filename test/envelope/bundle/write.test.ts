import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { createFileSigner, generateKeyPair, getAlgorithm } from '../../../src/crypto/index.js';
import {
  type Bundle,
  buildStatement,
  bundleFromMessageSignature,
  bundleToJson,
  parseBundle,
  serializeBundle,
  signBlobToBundle,
  signStatementToBundle,
} from '../../../src/envelope/index.js';
import { VECTORS } from '../../helpers.js';

const CASES = join(VECTORS, 'sigstore-conformance', 'cases');

const INT64 = new Set(['logIndex', 'integratedTime', 'treeSize']);

/**
 * Drops proto3 default values the reference writers differ on: empty strings and lists, zero int64s, and
 * messages left empty by that (`"keyid": ""`, `"timestampVerificationData": {"rfc3161Timestamps": []}`).
 * `publicKey: {}` stays: it selects the key-material case of a oneof.
 */
function withoutDefaults(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutDefaults);
  if (typeof v !== 'object' || v === null) return v;
  const kept = Object.entries(v)
    .map(([k, x]) => [k, withoutDefaults(x)] as const)
    .filter(([k, x]) => {
      if (x === '' || (Array.isArray(x) && x.length === 0) || (INT64.has(k) && x === '0')) return false;
      const emptyMessage =
        typeof x === 'object' && x !== null && !Array.isArray(x) && Object.keys(x).length === 0;
      return !emptyMessage || k === 'publicKey';
    });
  return Object.fromEntries(kept);
}

describe('envelope/bundle/write: protobuf JSON', () => {
  it('reproduces every conformance bundle it reads (37 exactly, 5 up to proto3 default values)', () => {
    let n = 0;
    let exact = 0;
    for (const c of readdirSync(CASES).sort()) {
      const text = readFileSync(join(CASES, c, 'bundle.sigstore.json'), 'utf8');
      let b: Bundle;
      try {
        b = parseBundle(text);
      } catch {
        continue;
      }
      const upstream: unknown = JSON.parse(text);
      assert.deepEqual(bundleToJson(b), withoutDefaults(upstream), c);
      if (isDeepStrictEqual(bundleToJson(b), upstream)) exact++;
      n++;
    }
    assert.equal(n, 42);
    assert.equal(exact, 37);
  });

  it('writes int64 as decimal strings and leaves zero values out (Rekor v2 has no integratedTime)', () => {
    const b = parseBundle(readFileSync(join(CASES, 'rekor2-happy-path', 'bundle.sigstore.json')));
    const entry = (bundleToJson(b) as { verificationMaterial: { tlogEntries: { logIndex?: unknown }[] } })
      .verificationMaterial.tlogEntries[0];
    assert.equal(entry?.logIndex, '735');
    assert.equal('integratedTime' in (entry ?? {}), false);
    const zero: Bundle = {
      ...b,
      verificationMaterial: {
        ...b.verificationMaterial,
        tlogEntries: b.verificationMaterial.tlogEntries.map((e) => ({ ...e, logIndex: 0n })),
      },
    };
    const zeroEntry = (
      bundleToJson(zero) as { verificationMaterial: { tlogEntries: Record<string, unknown>[] } }
    ).verificationMaterial.tlogEntries[0];
    assert.equal('logIndex' in (zeroEntry ?? {}), false);
    assert.deepEqual(parseBundle(bundleToJson(zero)), zero);
  });

  it('writes standard padded base64', () => {
    const b = bundleFromMessageSignature(
      { signature: Buffer.from([0xfb, 0xff, 0xfe]) },
      { key: { kind: 'publicKey', hint: '' } },
    );
    assert.deepEqual(bundleToJson(b), {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: {} },
      messageSignature: { signature: '+//+' },
    });
    const one = bundleFromMessageSignature(
      { signature: Buffer.from([0xff]) },
      { key: { kind: 'publicKey', hint: '' } },
    );
    assert.equal(
      (bundleToJson(one) as { messageSignature: { signature: string } }).messageSignature.signature,
      '/w==',
    );
  });
});

describe('envelope/bundle/write: Vouch bundles are byte-stable', async () => {
  const signer = createFileSigner((await generateKeyPair(getAlgorithm('ecdsa-p256'))).privateKey);
  const blob = await signBlobToBundle(signer, { kind: 'bytes', bytes: Buffer.from('artifact') });
  const attestation = await signStatementToBundle(
    signer,
    buildStatement({
      subjects: [{ name: 'artifact', digest: { sha256: 'ab'.repeat(32) } }],
      predicateType: 'https://example.com/predicate/v1',
      predicate: { ok: true },
    }),
  );

  for (const [what, b] of [
    ['message signature', blob],
    ['DSSE', attestation],
  ] as const) {
    it(`${what}: serialise → parse → serialise gives the same bytes, one line and a newline`, () => {
      const text = serializeBundle(b);
      assert.ok(text.endsWith('}\n'));
      assert.equal(text.split('\n').length, 2);
      assert.equal(serializeBundle(parseBundle(text)), text);
      assert.deepEqual(parseBundle(text), b);
      assert.match(
        text,
        /^\{"mediaType":"application\/vnd\.dev\.sigstore\.bundle\.v0\.3\+json","verificationMaterial":\{"publicKey":\{"hint":"[0-9a-f]{64}"\}\},/,
      );
    });
  }
});
