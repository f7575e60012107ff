// Issue 5 §5: random mutations of signed evidence never turn a deny into an allow, and damaging any evidence
// an allowing policy relies on denies. Real bundles, real keys, the real engine and policy.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { serializeBundle, signBlobToBundle } from '../../src/envelope/index.js';
import { type CompiledPolicy, compilePolicy } from '../../src/policy/index.js';
import { type Evidence, verifyWithPolicy } from '../../src/verify/index.js';
import { tempDir } from '../helpers.js';
import { provenance, sbom } from '../policy/fixtures.js';
import { attestBundle, newKey } from '../verify/keys.js';

const RUNS = Number(process.env['VOUCH_PROPERTY_RUNS'] ?? 150);
const NOW = new Date('2026-03-01T12:00:00Z');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a leaf of a JSON value. */
function leaves(v: Json, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...path, i]));
  if (v !== null && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [path];
}

function setAt(v: Json, path: readonly (string | number)[], value: Json): Json {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? setAt(x, rest, value) : x));
  const o = v as { [k: string]: Json };
  return { ...o, [head]: setAt(o[head] as Json, rest, value) };
}

/** One way to damage an evidence item: flip bytes, cut it, or rewrite one JSON leaf. */
const damage = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('leaf' as const),
    pick: fc.nat(),
    value: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.base64String({ maxLength: 40 }),
    ),
  }),
);

function apply(e: Evidence, d: DamageOf): Evidence {
  if (e.kind !== 'bundle') return e;
  const bytes = Buffer.from(e.bytes);
  if (d.kind === 'flip') {
    const at = d.at % bytes.length;
    bytes[at] = bytes[at] === d.byte ? (d.byte + 1) % 256 : d.byte;
    return { ...e, bytes };
  }
  if (d.kind === 'cut') return { ...e, bytes: bytes.subarray(0, d.at % bytes.length) };
  let json: Json;
  try {
    json = JSON.parse(bytes.toString('utf8')) as Json;
  } catch {
    return e; // already damaged past JSON
  }
  const paths = leaves(json);
  const path = paths[d.pick % paths.length] ?? [];
  return { ...e, bytes: Buffer.from(JSON.stringify(setAt(json, path, d.value))) };
}
type DamageOf =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'cut'; at: number }
  | { kind: 'leaf'; pick: number; value: Json };

describe('properties: the gate never turns damaged evidence into an allow', () => {
  const dir = tempDir('vouch-gate-props-');
  const file = join(dir, 'app.tgz');
  let policy: CompiledPolicy;
  let allowed: Evidence[];
  let denied: Evidence[];
  let digest: string;

  before(async () => {
    writeFileSync(file, 'release bytes\n');
    digest = `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
    const { signer, pem } = await newKey();
    policy = await compilePolicy(
      JSON.stringify({
        apiVersion: 'vouch.dev/v1',
        kind: 'Policy',
        metadata: { name: 'props' },
        spec: {
          match: [{ name: 'app.tgz' }],
          signatures: { keys: [{ name: 'release', publicKey: pem }] },
          attestations: [
            { id: 'provenance', predicateType: 'slsa' },
            { id: 'sbom', predicateType: 'cyclonedx' },
          ],
          baseline: { builder: 'https://github.com/actions/runner/github-hosted' },
        },
      }),
    );
    const attest = async (predicateType: string, predicate: unknown): Promise<Evidence> => ({
      kind: 'bundle',
      source: predicateType,
      bytes: Buffer.from(await attestBundle(signer, { name: 'app.tgz', digest }, predicateType, predicate)),
    });
    const sig: Evidence = {
      kind: 'bundle',
      source: 'signature',
      bytes: Buffer.from(serializeBundle(await signBlobToBundle(signer, { kind: 'file', path: file }))),
    };
    const sbomAtt = await attest('https://cyclonedx.org/bom', sbom());
    allowed = [sig, await attest('https://slsa.dev/provenance/v1', provenance()), sbomAtt];
    // Denied: the provenance names another builder.
    denied = [
      sig,
      await attest('https://slsa.dev/provenance/v1', provenance({ builder: 'https://evil.example' })),
      sbomAtt,
    ];
  });

  const decide = (evidence: readonly Evidence[], tier: 'fast' | 'deep' = 'deep') =>
    verifyWithPolicy({
      artifact: { digest, name: 'app.tgz' },
      content: { kind: 'file', path: file },
      evidence,
      policy,
      tier,
      now: NOW,
    });

  it('the baselines hold: the allowed set allows, the denied set denies', async () => {
    assert.equal((await decide(allowed)).allow, true);
    assert.equal((await decide(denied)).allow, false);
  });

  it('damaging, dropping or duplicating items of a denied set never allows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), damage), { maxLength: 3 }),
        fc.subarray([0, 1, 2]),
        fc.boolean(),
        async (damages, keep, duplicate) => {
          let ev = keep.map((i) => denied[i] as Evidence);
          for (const [i, d] of damages)
            if (ev.length > 0) ev = ev.map((e, j) => (j === i % ev.length ? apply(e, d) : e));
          if (duplicate) ev = [...ev, ...ev];
          assert.equal((await decide(ev)).allow, false);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('damaging a signed part of evidence the allowed set needs denies, in both tiers', async () => {
    // The signed or binding leaves: signature, digest, DSSE payload and signature, the key hint.
    const signedLeaf = (path: readonly (string | number)[]) =>
      /^(messageSignature\.(signature|messageDigest\.digest)|dsseEnvelope\.(payload|signatures\.0\.sig)|verificationMaterial\.publicKey\.hint)$/.test(
        path.join('.'),
      );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1 }),
        fc.nat(),
        fc.base64String({ minLength: 4, maxLength: 40 }),
        fc.constantFrom('fast' as const, 'deep' as const),
        async (which, pick, value, tier) => {
          const e = allowed[which] as Extract<Evidence, { kind: 'bundle' }>;
          const json = JSON.parse(Buffer.from(e.bytes).toString('utf8')) as Json;
          const targets = leaves(json).filter(signedLeaf);
          const path = targets[pick % targets.length] ?? [];
          const original = path.reduce<Json>((v, k) => (v as Record<string, Json>)[k] as Json, json);
          fc.pre(original !== value);
          const damaged = { ...e, bytes: Buffer.from(JSON.stringify(setAt(json, path, value))) };
          const ev = allowed.map((x, i) => (i === which ? damaged : x));
          assert.equal((await decide(ev, tier)).allow, false, `${path.join('.')} = ${value}`);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
