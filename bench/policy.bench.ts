// Policy decisions per second on one core (one loop, no workers): a typical release gate (an ECDSA P-256
// signature, SLSA provenance against a baseline, the CycloneDX SBOM of a real ~876-package lockfile, a vulns
// predicate with a few findings, a CEL rule) decided by verifyWithPolicy in the fast and deep tiers, from
// bundle bytes to Decision. References measured in the same run: one bare bundle verification (parse +
// verifyBundle) of the same signature bundle, raw node:crypto verify of its signature, and evaluatePolicy
// alone on an input built beforehand.
import { createHash, verify as nodeVerify } from 'node:crypto';
import { resolve } from 'node:path';
import { generateSbom } from '../src/attest/index.js';
import { ALGORITHMS, createFileSigner, exportPublicKeyPem, generateKeyPair } from '../src/crypto/index.js';
import {
  buildStatement,
  parseBundle,
  serializeBundle,
  signBlobToBundle,
  signStatementToBundle,
} from '../src/envelope/index.js';
import {
  type CompiledPolicy,
  compilePolicy,
  type Decision,
  evaluatePolicy,
  type PolicyInput,
  type Tier,
} from '../src/policy/index.js';
import { type Evidence, verifyBundle, verifyWithPolicy } from '../src/verify/index.js';
import {
  CDX,
  finding,
  keyedReleaseGate,
  NOW,
  provenance,
  SLSA,
  VULNS,
  vulns,
} from '../test/policy/fixtures.js';
import { opsPerSecond, type Row, report } from './lib.js';

const SECONDS = Number(process.env['VOUCH_BENCH_POLICY_SECONDS'] ?? 2);
const LOCKFILE = resolve(
  import.meta.dirname,
  '..',
  '..',
  'shared',
  'vectors',
  'lockfiles',
  'npm-v3.slsa-verifier.package-lock.json',
);

const pair = await generateKeyPair(ALGORITHMS['ecdsa-p256']);
const signer = createFileSigner(pair.privateKey);
const artifactBytes = Buffer.from('the release tarball\n'.repeat(512));
const sha = createHash('sha256').update(artifactBytes).digest();
const artifact = { digest: `sha256:${sha.toString('hex')}`, name: 'dist/app.tgz' };

// The release gate of the policy tests with this key; no maxAge (key bundles carry no verified time).
const policy: CompiledPolicy = await compilePolicy(
  JSON.stringify(keyedReleaseGate([{ name: 'release', publicKey: exportPublicKeyPem(pair.publicKey) }])),
);

const sbom = await generateSbom({
  lockfile: LOCKFILE,
  installed: false,
  format: 'cyclonedx',
  timestamp: NOW,
  tool: { name: 'vouch', version: 'bench' },
});
const predicates: [string, unknown][] = [
  [SLSA, provenance()],
  [CDX, JSON.parse(sbom.text)],
  [
    VULNS,
    vulns([
      finding('GHSA-xvch-5gv4-984h', 'MEDIUM'),
      finding('GHSA-vh95-rmgr-6w4m', 'LOW'),
      finding('CVE-2021-44906', 'CRITICAL', true),
    ]),
  ],
];

const signatureText = serializeBundle(
  await signBlobToBundle(signer, { kind: 'bytes', bytes: artifactBytes }),
);
const evidence: Evidence[] = [{ kind: 'bundle', bytes: Buffer.from(signatureText), source: 'sig.json' }];
for (const [predicateType, predicate] of predicates) {
  const st = buildStatement({
    subjects: [{ name: artifact.name, digest: { sha256: sha.toString('hex') } }],
    predicateType,
    predicate,
  });
  const text = serializeBundle(await signStatementToBundle(signer, st));
  evidence.push({ kind: 'bundle', bytes: Buffer.from(text), source: predicateType });
}
const evidenceBytes = evidence.reduce((n, e) => n + (e.kind === 'bundle' ? e.bytes.length : 0), 0);

const decide = (tier: Tier) => verifyWithPolicy({ artifact, evidence, policy, tier, now: NOW });

// The input verifyWithPolicy hands to evaluatePolicy, built once: the policy's cost without the crypto.
const keyId = policy.trust.keys[0]?.keyId ?? '';
const signerInfo = { kind: 'key' as const, keyId, name: 'release' };
const input: PolicyInput = {
  artifact,
  now: NOW,
  signatures: [{ signer: signerInfo, source: 'sig.json' }],
  attestations: predicates.map(([predicateType, predicate]) => ({
    signer: signerInfo,
    source: predicateType,
    predicateType,
    predicate: predicate as PolicyInput['attestations'][number]['predicate'],
  })),
};

// A bench that measured a denial would measure the wrong path: both tiers must allow, with the same checks.
function mustAllow(d: Decision, what: string): void {
  const failed = d.checks.filter((c) => c.outcome === 'fail' && c.mode === 'enforce');
  if (!d.allow) throw new Error(`${what} denied: ${failed.map((c) => `${c.id}: ${c.message}`).join('; ')}`);
}
for (const tier of ['fast', 'deep'] as const) {
  const viaEngine = await decide(tier);
  mustAllow(viaEngine, `verifyWithPolicy ${tier}`);
  mustAllow(evaluatePolicy(policy, input, { tier }), `evaluatePolicy ${tier}`);
  const ran = viaEngine.checks.filter((c) => c.outcome !== 'skipped').length;
  console.log(`${tier} tier: ${ran} of ${viaEngine.checks.length} checks run`);
}

// The reference: the same signature bundle, parsed and verified on its own, and its bare ECDSA signature.
const bareArtifact = { kind: 'digest' as const, algorithm: 'sha256' as const, digest: sha };
const bare = () => verifyBundle(parseBundle(signatureText), bareArtifact, { key: pair.publicKey });
// The gate has only the digest, so the ECDSA check runs over a precomputed hash (pure JS, src/crypto/prehash.ts);
// with the bytes at hand it is node:crypto's. Both shown, to separate the bundle's cost from the curve's.
const bytesArtifact = { kind: 'bytes' as const, bytes: artifactBytes };
const bareBytes = () => verifyBundle(parseBundle(signatureText), bytesArtifact, { key: pair.publicKey });
const rawSig = Buffer.from(
  (JSON.parse(signatureText) as { messageSignature: { signature: string } }).messageSignature.signature,
  'base64',
);
if (!nodeVerify('sha256', artifactBytes, pair.publicKey, rawSig)) throw new Error('raw verify failed');
await bare();
await bareBytes();

console.log(
  `SBOM: ${sbom.components} components, ${(Buffer.byteLength(sbom.text) / 1024).toFixed(0)} KiB; ` +
    `4 bundles, ${(evidenceBytes / 1024).toFixed(0)} KiB of evidence per decision; ${SECONDS} s per figure, one core`,
);
const raw = await opsPerSecond(() => nodeVerify('sha256', artifactBytes, pair.publicKey, rawSig), SECONDS);
const bareOps = await opsPerSecond(bare, SECONDS);
const bareBytesOps = await opsPerSecond(bareBytes, SECONDS);
const fast = await opsPerSecond(() => decide('fast'), SECONDS);
const deep = await opsPerSecond(() => decide('deep'), SECONDS);
const evalFast = await opsPerSecond(() => evaluatePolicy(policy, input, { tier: 'fast' }), SECONDS);
const evalDeep = await opsPerSecond(() => evaluatePolicy(policy, input, { tier: 'deep' }), SECONDS);

const perSecond = (n: number, unit: string) => `${n.toFixed(0)} ${unit}/s`;
const cost = (name: string, ops: number, unit: string): Row => ({
  name,
  value: perSecond(ops, unit),
  reference: perSecond(bareOps, 'op'),
  ratio: bareOps / ops,
});
console.log(`fast-tier decision = ${(bareOps / fast).toFixed(1)}× a bare bundle verification`);
console.log(`deep-tier decision = ${(bareOps / deep).toFixed(1)}× a bare bundle verification`);
report('Policy decisions on one core (ratio = cost in bare bundle verifications of the signature)', [
  cost('fast tier, verifyWithPolicy (4 bundles + policy)', fast, 'dec'),
  cost('deep tier, verifyWithPolicy (4 bundles + policy)', deep, 'dec'),
  cost('fast tier, evaluatePolicy alone', evalFast, 'eval'),
  cost('deep tier, evaluatePolicy alone', evalDeep, 'eval'),
  {
    name: 'bare bundle verification (digest) vs raw node:crypto verify',
    value: perSecond(bareOps, 'op'),
    reference: perSecond(raw, 'op'),
    ratio: raw / bareOps,
  },
  {
    name: 'bare bundle verification (artifact bytes) vs raw node:crypto verify',
    value: perSecond(bareBytesOps, 'op'),
    reference: perSecond(raw, 'op'),
    ratio: raw / bareBytesOps,
  },
]);
