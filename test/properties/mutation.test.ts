// Property tests: any byte changed in a valid signature, artifact, public key, DSSE envelope or bundle is
// rejected with a VouchError (or `false` from a verify function) — never accepted, never a crash.
// A JSON mutation counts as "neutral" only when the mutated document still verifies AND its authenticated
// content is identical to the original (whitespace, an equivalent escape, an unauthenticated key hint).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { isVouchError } from '../../src/core/index.js';
import {
  type Artifact,
  createFileSigner,
  generateKeyPair,
  getAlgorithm,
  loadPublicKey,
  SIGNING_ALGORITHMS,
  signArtifact,
  verifyArtifact,
} from '../../src/crypto/index.js';
import {
  buildStatement,
  bundleToJson,
  dsseToJson,
  parseBundle,
  parseDsseEnvelope,
  serializeBundle,
  signBlobToBundle,
  signDsse,
  signStatementToBundle,
  verifyDsse,
} from '../../src/envelope/index.js';
import { parseTrustedRoot, type VerifyOptions, verifyBundle } from '../../src/verify/index.js';
import { VECTORS } from '../helpers.js';

const RUNS = Number(process.env['VOUCH_PROPERTY_RUNS'] ?? 400);

interface Tally {
  tried: number;
  rejected: number;
  neutral: number;
}

function tally(): Tally {
  return { tried: 0, rejected: 0, neutral: 0 };
}

function report(t: TestContext, name: string, c: Tally): void {
  t.diagnostic(`${name}: ${c.tried} mutations tried, ${c.rejected} rejected, ${c.neutral} neutral`);
  assert.equal(c.tried, c.rejected + c.neutral);
  assert.ok(c.rejected > 0);
}

/** A byte position and a different value for it. */
function byteMutation(len: number) {
  return fc.record({ index: fc.nat(len - 1), xor: fc.integer({ min: 1, max: 255 }) });
}

function mutate(bytes: Uint8Array, m: { index: number; xor: number }): Buffer {
  const out = Buffer.from(bytes);
  out[m.index] = (out[m.index] as number) ^ m.xor;
  return out;
}

/** Runs `attempt`; a VouchError or `false` is a rejection, `true` must be neutral; anything else is a crash. */
async function judge(c: Tally, attempt: () => Promise<boolean>, neutral: () => boolean): Promise<void> {
  c.tried++;
  let accepted: boolean;
  try {
    accepted = await attempt();
  } catch (e) {
    if (!isVouchError(e)) throw new Error(`crash (not a VouchError): ${String(e)}`, { cause: e });
    c.rejected++;
    return;
  }
  if (!accepted) {
    c.rejected++;
    return;
  }
  assert.ok(neutral(), 'a mutated input that changes authenticated content was accepted');
  c.neutral++;
}

const data = Buffer.from('the artifact: vouch property test\n');
const artifact: Artifact = { kind: 'bytes', bytes: data };

describe('property: signatures, artifacts and keys', () => {
  for (const id of SIGNING_ALGORITHMS) {
    it(`${id}: any changed byte of signature, artifact or public key is rejected`, async (t) => {
      const alg = getAlgorithm(id);
      const pair = await generateKeyPair(alg);
      const { signature } = await signArtifact(createFileSigner(pair.privateKey, alg), artifact);
      const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
      const c = tally();
      const runs = alg.keyType === 'rsa' ? Math.ceil(RUNS / 4) : RUNS;
      await fc.assert(
        fc.asyncProperty(byteMutation(signature.length), async (m) => {
          await judge(
            c,
            async () => (await verifyArtifact(alg, pair.publicKey, artifact, mutate(signature, m))).valid,
            () => false,
          );
        }),
        { numRuns: runs },
      );
      await fc.assert(
        fc.asyncProperty(byteMutation(data.length), async (m) => {
          const a: Artifact = { kind: 'bytes', bytes: mutate(data, m) };
          await judge(
            c,
            async () => (await verifyArtifact(alg, pair.publicKey, a, signature)).valid,
            () => false,
          );
        }),
        { numRuns: runs },
      );
      await fc.assert(
        fc.asyncProperty(byteMutation(spki.length), async (m) => {
          await judge(
            c,
            async () => {
              const key = loadPublicKey(mutate(spki, m));
              return (await verifyArtifact(alg, key, artifact, signature)).valid;
            },
            () => false,
          );
        }),
        { numRuns: runs },
      );
      report(t, id, c);
    });
  }
});

/**
 * The authenticated content of a bundle: its JSON without the unauthenticated hints (key hint, DSSE keyid,
 * message digest — a verifier that accepted the bundle has checked a present digest against the artifact).
 */
function projection(json: Record<string, unknown>): string {
  const copy = JSON.parse(JSON.stringify(json)) as {
    verificationMaterial?: { publicKey?: { hint?: string } };
    messageSignature?: { messageDigest?: unknown };
    dsseEnvelope?: { signatures?: { keyid?: string }[] };
  };
  if (copy.verificationMaterial?.publicKey) copy.verificationMaterial.publicKey.hint = '';
  if (copy.messageSignature) delete copy.messageSignature.messageDigest;
  for (const s of copy.dsseEnvelope?.signatures ?? []) s.keyid = '';
  return JSON.stringify(copy);
}

async function mutateBundle(
  t: TestContext,
  name: string,
  text: Buffer,
  artifactFor: Artifact,
  options: VerifyOptions,
  runs: number,
): Promise<void> {
  const original = projection(bundleToJson(parseBundle(text)));
  await verifyBundle(parseBundle(text), artifactFor, options);
  const c = tally();
  await fc.assert(
    fc.asyncProperty(byteMutation(text.length), async (m) => {
      const mutated = mutate(text, m);
      await judge(
        c,
        async () => {
          await verifyBundle(parseBundle(mutated), artifactFor, options);
          return true;
        },
        () => projection(bundleToJson(parseBundle(mutated))) === original,
      );
    }),
    { numRuns: runs },
  );
  report(t, name, c);
}

describe('property: DSSE envelopes and bundles', () => {
  it('DSSE envelope JSON: any changed byte is rejected or changes nothing authenticated', async (t) => {
    const pair = await generateKeyPair(getAlgorithm('ecdsa-p256'));
    const signer = createFileSigner(pair.privateKey);
    const env = await signDsse('application/vnd.in-toto+json', Buffer.from('{"hello":"world"}'), [signer]);
    const text = Buffer.from(JSON.stringify(dsseToJson(env)));
    const keys = [{ key: pair.publicKey }];
    const strip = (j: ReturnType<typeof dsseToJson>) =>
      JSON.stringify({ ...j, signatures: j.signatures.map((s) => s.sig) });
    const original = strip(dsseToJson(env));
    const c = tally();
    await fc.assert(
      fc.asyncProperty(byteMutation(text.length), async (m) => {
        const mutated = mutate(text, m);
        await judge(
          c,
          async () => {
            verifyDsse(parseDsseEnvelope(mutated), keys);
            return true;
          },
          () => strip(dsseToJson(parseDsseEnvelope(mutated))) === original,
        );
      }),
      { numRuns: RUNS },
    );
    report(t, 'dsse', c);
  });

  it('Vouch message-signature bundle: any changed byte is rejected or changes nothing authenticated', async (t) => {
    const pair = await generateKeyPair(getAlgorithm('ecdsa-p256'));
    const bundle = await signBlobToBundle(createFileSigner(pair.privateKey), artifact);
    await mutateBundle(
      t,
      'blob bundle',
      Buffer.from(serializeBundle(bundle)),
      artifact,
      { key: pair.publicKey },
      RUNS,
    );
  });

  it('Vouch attestation bundle: any changed byte is rejected or changes nothing authenticated', async (t) => {
    const pair = await generateKeyPair(getAlgorithm('ed25519'));
    const statement = buildStatement({
      subjects: [{ name: 'a', digest: { sha256: createHash('sha256').update(data).digest('hex') } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'x' } },
    });
    const bundle = await signStatementToBundle(createFileSigner(pair.privateKey), statement);
    await mutateBundle(
      t,
      'attestation bundle',
      Buffer.from(serializeBundle(bundle)),
      artifact,
      { key: pair.publicKey },
      RUNS,
    );
  });

  it('Sigstore keyless bundle (conformance happy-path-v0.3): any changed byte is rejected', async (t) => {
    const base = join(VECTORS, 'sigstore-conformance');
    const text = readFileSync(join(base, 'cases', 'happy-path-v0.3', 'bundle.sigstore.json'));
    const trustedRoot = parseTrustedRoot(
      readFileSync(join(base, '_defaults', 'public-good-trusted_root.json')),
    );
    const a: Artifact = { kind: 'bytes', bytes: readFileSync(join(base, '_defaults', 'a.txt')) };
    await mutateBundle(
      t,
      'keyless bundle',
      text,
      a,
      {
        trustedRoot,
        identity: {
          subject:
            'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
          issuer: 'https://token.actions.githubusercontent.com',
        },
      },
      Math.ceil(RUNS / 2),
    );
  });
});
