// The verification engine: real bundles signed with real keys (and a real GitHub keyless attestation),
// verified against a policy's trust, then decided by the policy. Every bad item must deny.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Artifact } from '../../src/crypto/index.js';
import {
  buildStatement,
  dsseToJson,
  INTOTO_PAYLOAD_TYPE,
  serializeBundle,
  serializeStatement,
  signBlobToBundle,
  signDsse,
} from '../../src/envelope/index.js';
import { COSIGN_SIGN_PREDICATE_TYPE } from '../../src/oci/index.js';
import {
  type CheckResult,
  type CompiledPolicy,
  compilePolicy,
  type Decision,
} from '../../src/policy/index.js';
import {
  type Evidence,
  loadPolicyTrustedRoot,
  parseTrustedRoot,
  verifyWithPolicy,
} from '../../src/verify/index.js';
import { expectCode, tempDir, VECTORS } from '../helpers.js';
import { BUILDER, keyedReleaseGate, provenance, sbom, vulns } from '../policy/fixtures.js';
import { attestBundle, type Key, newKey } from './keys.js';

const SLSA = 'https://slsa.dev/provenance/v1';
const CDX = 'https://cyclonedx.org/bom';
const VULNS = 'https://in-toto.io/attestation/vulns/v0.2';
const NOW = new Date('2026-03-01T12:00:00Z');

/** The release gate of the policy tests with our keys (and no maxAge). */
interface GateDoc {
  spec: { signatures: { keys: Record<string, unknown>[]; threshold?: number } };
}

async function gate(keys: readonly Key[], tweak: (doc: GateDoc) => void = () => {}): Promise<CompiledPolicy> {
  const doc = keyedReleaseGate(
    keys.map((k, i) => ({ name: `key${i}`, publicKey: k.pem })),
  ) as unknown as GateDoc;
  tweak(doc);
  return compilePolicy(JSON.stringify(doc));
}

const bytesOf = (s: string): Evidence => ({ kind: 'bundle', bytes: Buffer.from(s), source: 'test' });

function check(d: Decision, id: string): CheckResult {
  const c = d.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id} in ${d.checks.map((x) => x.id).join(', ')}`);
  return c;
}

describe('verify/engine: verifyWithPolicy', () => {
  let release: Key;
  let other: Key;
  let edKey: Key;
  const dir = tempDir();
  let file: string;
  let digest: string;
  let content: Artifact;
  const attest = (key: Key, predicateType: string, predicate: unknown, sha = digest) =>
    attestBundle(key.signer, { name: 'dist/app.tgz', digest: sha }, predicateType, predicate);
  let good: Evidence[];

  before(async () => {
    release = await newKey('ecdsa-p256');
    other = await newKey('ecdsa-p256');
    edKey = await newKey('ed25519');
    file = join(dir, 'app.tgz');
    writeFileSync(file, 'the release tarball\n');
    digest = `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
    content = { kind: 'file', path: file };
    good = [
      {
        kind: 'bundle',
        bytes: Buffer.from(serializeBundle(await signBlobToBundle(release.signer, content))),
        source: 'sig.json',
      },
      { kind: 'bundle', bytes: Buffer.from(await attest(release, SLSA, provenance())), source: 'prov.json' },
      { kind: 'bundle', bytes: Buffer.from(await attest(release, CDX, sbom())), source: 'sbom.json' },
      { kind: 'bundle', bytes: Buffer.from(await attest(release, VULNS, vulns())), source: 'vulns.json' },
    ];
  });

  const decide = async (
    evidence: readonly Evidence[],
    policy: CompiledPolicy,
    tier: 'fast' | 'deep' = 'deep',
  ) =>
    verifyWithPolicy({
      artifact: { digest, name: 'dist/app.tgz' },
      content,
      evidence,
      policy,
      tier,
      now: NOW,
    });

  it('allows a signed artifact whose attestations meet the policy (deep tier), recording the policy digest', async () => {
    const policy = await gate([release]);
    const d = await decide(good, policy);
    assert.equal(
      d.allow,
      true,
      d.checks
        .filter((c) => c.outcome === 'fail')
        .map((c) => `${c.id}: ${c.message}`)
        .join('\n'),
    );
    assert.equal(d.policy.digest, policy.digest);
    assert.match(d.policy.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(check(d, 'signatures.threshold').outcome, 'pass');
    assert.equal(check(d, 'attestations.provenance.present').outcome, 'pass');
    assert.equal(check(d, 'baseline.builder').outcome, 'pass');
    assert.equal(check(d, 'rules.no-high-vulns').outcome, 'pass');
  });

  it('fast tier: signatures and presence only; deep checks are listed as skipped', async () => {
    const d = await decide(good, await gate([release]), 'fast');
    assert.equal(d.allow, true);
    assert.equal(d.tier, 'fast');
    assert.equal(check(d, 'baseline.builder').outcome, 'skipped');
    assert.equal(check(d, 'signatures.threshold').outcome, 'pass');
  });

  it('a signature over other bytes denies (ERR_DIGEST_MISMATCH), it is not skipped', async () => {
    const otherFile = join(dir, 'other.tgz');
    writeFileSync(otherFile, 'not the release\n');
    const wrong = serializeBundle(await signBlobToBundle(release.signer, { kind: 'file', path: otherFile }));
    const d = await decide([bytesOf(wrong), ...good.slice(1)], await gate([release]));
    assert.equal(d.allow, false);
    const c = check(d, 'input.evidence.0');
    assert.equal(c.outcome, 'fail');
    assert.equal(c.mode, 'enforce');
    assert.equal(c.code, 'ERR_DIGEST_MISMATCH');
  });

  it('a signature by a key the policy does not trust is reported (warn) and not counted', async () => {
    const foreign = serializeBundle(await signBlobToBundle(other.signer, content));
    const d = await decide([bytesOf(foreign), ...good.slice(1)], await gate([release]));
    assert.equal(d.allow, false);
    assert.equal(check(d, 'input.evidence.0').mode, 'warn');
    assert.equal(check(d, 'signatures.threshold').outcome, 'fail');
  });

  it('an attestation about another artifact denies (ERR_INTOTO_SUBJECT_MISMATCH)', async () => {
    const elsewhere = await attest(release, SLSA, provenance(), `sha256:${'0'.repeat(64)}`);
    const d = await decide(
      [good[0] as Evidence, bytesOf(elsewhere), ...good.slice(2)],
      await gate([release]),
    );
    assert.equal(d.allow, false);
    assert.equal(check(d, 'input.evidence.1').code, 'ERR_INTOTO_SUBJECT_MISMATCH');
  });

  it('unreadable evidence denies with its code', async () => {
    for (const [text, code] of [
      ['{', 'ERR_JSON_PARSE'],
      ['{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}', 'ERR_BUNDLE_MALFORMED'],
    ] as const) {
      const d = await decide([...good, bytesOf(text)], await gate([release]));
      assert.equal(d.allow, false, text);
      assert.equal(check(d, 'input.evidence.4').code, code);
    }
  });

  it('a malformed predicate of a known type denies (ERR_PREDICATE_MALFORMED)', async () => {
    const bad = await attest(release, SLSA, { buildDefinition: 'nope' });
    const d = await decide([...good, bytesOf(bad)], await gate([release]));
    assert.equal(d.allow, false);
    assert.equal(check(d, 'input.evidence.4').code, 'ERR_PREDICATE_MALFORMED');
  });

  it('provenance off the baseline denies and names the deviation', async () => {
    const evil = await attest(release, SLSA, provenance({ builder: 'https://evil.example/runner' }));
    const d = await decide([good[0] as Evidence, bytesOf(evil), ...good.slice(2)], await gate([release]));
    assert.equal(d.allow, false);
    const c = check(d, 'baseline.builder');
    assert.equal(c.outcome, 'fail');
    assert.match(c.message, /evil\.example/);
    assert.match(c.message, new RegExp(BUILDER.replaceAll('.', '\\.')));
  });

  it('k of n: threshold 2 needs two distinct trusted keys', async () => {
    const policy = await gate([release, other], (doc) => {
      doc.spec.signatures.threshold = 2;
    });
    assert.equal((await decide(good, policy)).allow, false);
    const second = serializeBundle(await signBlobToBundle(other.signer, content));
    assert.equal((await decide([...good, bytesOf(second)], policy)).allow, true);
    // The same signer twice is one signer.
    assert.equal((await decide([...good, good[0] as Evidence], policy)).allow, false);
  });

  it('a revoked key denies even when another key meets the threshold', async () => {
    const policy = await gate([release, other], (doc) => {
      (doc.spec.signatures.keys[1] as Record<string, unknown>)['revoked'] = true;
    });
    const byRevoked = serializeBundle(await signBlobToBundle(other.signer, content));
    const d = await decide([...good, bytesOf(byRevoked)], policy);
    assert.equal(d.allow, false);
    assert.equal(check(d, 'signatures.revoked').outcome, 'fail');
  });

  it('Ed25519 message signatures verify against the artifact bytes', async () => {
    const policy = await gate([edKey]);
    const ed = [
      bytesOf(serializeBundle(await signBlobToBundle(edKey.signer, content))),
      bytesOf(await attest(edKey, SLSA, provenance())),
      bytesOf(await attest(edKey, CDX, sbom())),
      bytesOf(await attest(edKey, VULNS, vulns())),
    ];
    assert.equal((await decide(ed, policy)).allow, true);
  });

  it('an image signature (cosign sign/v1 statement) counts as a signature; a legacy DSSE envelope as an attestation', async () => {
    const policy = await gate([release]);
    const sig = await attest(release, COSIGN_SIGN_PREDICATE_TYPE, {});
    const payload = serializeStatement(
      buildStatement({
        subjects: [{ name: 'dist/app.tgz', digest: { sha256: digest.slice(7) } }],
        predicateType: SLSA,
        predicate: provenance(),
      }),
    );
    const env = await signDsse(INTOTO_PAYLOAD_TYPE, payload, [release.signer]);
    const legacy: Evidence = {
      kind: 'cosign-attestation',
      envelope: Buffer.from(JSON.stringify(dsseToJson(env))),
      source: 'oci-tag:sha256-x.att',
      via: 'cosign-tag',
    };
    const d = await decide([bytesOf(sig), legacy, ...good.slice(2)], policy);
    assert.equal(
      d.allow,
      true,
      d.checks
        .filter((c) => c.outcome === 'fail')
        .map((c) => `${c.id}: ${c.message}`)
        .join('\n'),
    );
  });

  describe('keyless: a real GitHub attestation (slsa-verifier testdata) against the public-good trusted root', () => {
    const V = join(VECTORS, 'in-toto', 'slsa-provenance-v1-bcr');
    const root = parseTrustedRoot(
      readFileSync(join(VECTORS, 'sigstore-conformance', '_defaults', 'public-good-trusted_root.json')),
    );
    const policyFor = () =>
      compilePolicy(
        JSON.stringify({
          apiVersion: 'vouch.dev/v1',
          kind: 'Policy',
          metadata: { name: 'bcr' },
          spec: {
            match: [{ name: 'MODULE*.bazel' }],
            signatures: {
              identities: [
                {
                  issuer: 'https://token.actions.githubusercontent.com',
                  subjectRegExp:
                    '^https://github\\.com/bazel-contrib/publish-to-bcr/\\.github/workflows/publish\\.yaml@refs/tags/v.+$',
                },
              ],
            },
            attestations: [{ id: 'provenance', predicateType: 'slsa' }],
          },
        }),
      );
    const run = async (name: string, trusted = true) => {
      const module = readFileSync(join(V, name));
      return verifyWithPolicy({
        artifact: { digest: `sha256:${createHash('sha256').update(module).digest('hex')}`, name },
        evidence: [bytesOf(readFileSync(join(V, `${name}.intoto.jsonl`), 'utf8').trim())],
        policy: await policyFor(),
        tier: 'fast',
        ...(trusted ? { trustedRoot: root } : {}),
        now: NOW,
      });
    };

    it('the publish-to-bcr attestation is trusted: the provenance is present', async () => {
      const d = await run('MODULE.bazel');
      assert.equal(check(d, 'attestations.provenance.present').outcome, 'pass');
      // An attestation is not a signature: the threshold of 1 still wants one.
      assert.equal(check(d, 'signatures.threshold').outcome, 'fail');
    });

    it('the same file attested by another workflow is untrusted: reported, and the provenance is missing', async () => {
      const d = await run('MODULE-wrong-signer.bazel');
      assert.equal(check(d, 'input.evidence.0').mode, 'warn');
      assert.equal(check(d, 'attestations.provenance.present').outcome, 'fail');
      assert.equal(d.allow, false);
    });

    it('without a trusted root, keyless evidence is a denial (ERR_VERIFY_NO_TRUST), not a skip', async () => {
      const d = await run('MODULE.bazel', false);
      assert.equal(check(d, 'input.evidence.0').code, 'ERR_VERIFY_NO_TRUST');
      assert.equal(d.allow, false);
    });
  });
});

describe('verify/gate: loadPolicyTrustedRoot', () => {
  const dir = tempDir('vouch-root-');
  it('reads the trusted root the policy names, and refuses one changed since the policy was compiled', async () => {
    const root = readFileSync(
      join(VECTORS, 'sigstore-conformance', '_defaults', 'public-good-trusted_root.json'),
    );
    writeFileSync(join(dir, 'trusted_root.json'), root);
    const policy = await compilePolicy(
      JSON.stringify({
        apiVersion: 'vouch.dev/v1',
        kind: 'Policy',
        metadata: { name: 'keyless' },
        spec: {
          match: [{ name: '*' }],
          signatures: {
            identities: [
              {
                issuer: 'https://token.actions.githubusercontent.com',
                subjectRegExp: '^https://github\\.com/acme/.+$',
              },
            ],
            trustedRoot: 'trusted_root.json',
          },
        },
      }),
      { baseDir: dir },
    );
    const loaded = await loadPolicyTrustedRoot(policy);
    assert.ok(loaded !== undefined && loaded.certificateAuthorities.length > 0);
    const changed = JSON.parse(root.toString('utf8'));
    changed.tlogs = [];
    writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(changed));
    await expectCode(() => loadPolicyTrustedRoot(policy), 'ERR_TRUST_ROOT_MALFORMED');
  });
});
