// The sigstore-conformance bundle-verify suite (developer set), run the way the upstream harness runs it:
// every case with the artifact file and again with only its sha256 digest (where the signature algorithm
// allows), against its own trusted root or the public-good one, with its key or the default identity.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import { isVouchError, type VouchErrorCode } from '../../src/core/index.js';
import { type Artifact, loadPublicKey } from '../../src/crypto/index.js';
import { parseBundle } from '../../src/envelope/index.js';
import { parseTrustedRoot, type TrustedRoot, verifyBundle } from '../../src/verify/index.js';
import { VECTORS } from '../helpers.js';

const CONF = join(VECTORS, 'sigstore-conformance');
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * Every case, pinned: `pass`, or the code (and failed check) the rejection must carry. The upstream harness
 * only asks for "rejected"; pinning the code proves each case fails for the reason its README gives.
 */
const EXPECTED: Readonly<Record<string, 'pass' | { code: VouchErrorCode; check?: string }>> = {
  'bundle-empty-certificate-chain_fail': { code: 'ERR_BUNDLE_MALFORMED' },
  'bundle-from-wrong-instance_fail': { code: 'ERR_TLOG_UNTRUSTED', check: 'tlog' },
  'bundle-malformed-json_fail': { code: 'ERR_JSON_PARSE' },
  'bundle-negative-log-index_fail': { code: 'ERR_BUNDLE_MALFORMED' },
  'bundle-with-root-cert_fail': { code: 'ERR_CERT_CHAIN', check: 'certificate.chain' },
  'bundle-with-sct-with-extensions': 'pass',
  'checkpoint-bad-keyhint_fail': { code: 'ERR_NOTE_SIGNATURE', check: 'tlog.checkpoint' },
  'dsse-invalid-sig_fail': { code: 'ERR_DSSE_SIGNATURE', check: 'signature' },
  'dsse-mismatch-envelope_fail': { code: 'ERR_TLOG_BODY_MISMATCH', check: 'tlog.body' },
  'happy-path-intoto-in-dsse-v3': 'pass',
  'happy-path-v0.2': 'pass',
  'happy-path-v0.3': 'pass',
  'inclusion-proof-corrupted-hash_fail': { code: 'ERR_MERKLE_PROOF', check: 'tlog.inclusion' },
  'incorrect-public-key_fail': { code: 'ERR_TLOG_BODY_MISMATCH', check: 'tlog.body' },
  // The leaf is valid in 2030 only; the log saw it in 2023.
  'intoto-expired-certificate_fail': { code: 'ERR_CERT_VALIDITY', check: 'certificate.validity' },
  'intoto-log-entry-mismatch_fail': { code: 'ERR_TLOG_BODY_MISMATCH', check: 'tlog.body' },
  'intoto-set-outside-signing-cert-validity_fail': {
    code: 'ERR_CERT_VALIDITY',
    check: 'certificate.validity',
  },
  'intoto-tsa-timestamp-outside-cert-validity_fail': {
    code: 'ERR_CERT_VALIDITY',
    check: 'certificate.validity',
  },
  'intoto-with-custom-trust-root': 'pass',
  'invalid-ct-key_fail': { code: 'ERR_SCT_INVALID', check: 'certificate.sct' },
  // A v0.2 bundle whose inclusion proof has no checkpoint: the reader refuses it.
  'invalid-inclusion-proof_fail': { code: 'ERR_BUNDLE_MALFORMED' },
  'managed-key-and-trusted-root': 'pass',
  // key.pub itself is corrupt ("…wrongkey=="), so loading it fails.
  'managed-key-wrong-key_fail': { code: 'ERR_KEY_MALFORMED' },
  'message-digest-mismatch_fail': { code: 'ERR_DIGEST_MISMATCH', check: 'artifact' },
  'rekor2-checkpoint-cosigned': 'pass',
  'rekor2-checkpoint-missing-origin_fail': { code: 'ERR_NOTE_SIGNATURE', check: 'tlog.checkpoint' },
  'rekor2-checkpoint-missing-root-hash_fail': { code: 'ERR_NOTE_SIGNATURE', check: 'tlog.checkpoint' },
  'rekor2-checkpoint-multiple-cosigs': 'pass',
  'rekor2-checkpoint-no-matching-signature_fail': { code: 'ERR_NOTE_SIGNATURE', check: 'tlog.checkpoint' },
  'rekor2-checkpoint-two-sigs-cosigned': 'pass',
  'rekor2-checkpoint-two-sigs-from-origin': 'pass',
  'rekor2-dsse-invalid-sig_fail': { code: 'ERR_DSSE_SIGNATURE', check: 'signature' },
  'rekor2-dsse-mismatch-sig_fail': { code: 'ERR_TLOG_BODY_MISMATCH', check: 'tlog.body' },
  'rekor2-happy-path': 'pass',
  'rekor2-no-inclusion-proof_fail': { code: 'ERR_BUNDLE_MALFORMED' },
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': {
    code: 'ERR_TIMESTAMP_UNTRUSTED',
    check: 'timestamp.tsa',
  },
  'rekor2-timestamp-outside-tsa-cert-validity_fail': {
    code: 'ERR_TIMESTAMP_UNTRUSTED',
    check: 'timestamp.tsa',
  },
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': {
    code: 'ERR_TIMESTAMP_UNTRUSTED',
    check: 'timestamp.tsa',
  },
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': {
    code: 'ERR_TIMESTAMP_UNTRUSTED',
    check: 'timestamp.tsa',
  },
  'rekor2-timestamp-with-embedded-cert': 'pass',
  'rekor2-timestamp-without-embedded-cert': 'pass',
  'set-invalid-signature_fail': { code: 'ERR_TLOG_SET_INVALID', check: 'tlog.set' },
  'signature-mismatch_fail': { code: 'ERR_SIGNATURE_INVALID', check: 'signature' },
  'trust-root-tlog-validity-end-inclusive': 'pass',
  'wrong-hashedrekord-artifact_fail': { code: 'ERR_TLOG_BODY_MISMATCH', check: 'tlog.body' },
  'wrong-hashedrekord-cert-and-sig_fail': { code: 'ERR_TLOG_BODY_MISMATCH', check: 'tlog.body' },
  'wrong-material_fail': { code: 'ERR_DIGEST_MISMATCH', check: 'artifact' },
};

const publicGood = parseTrustedRoot(readFileSync(join(CONF, '_defaults', 'public-good-trusted_root.json')));

interface Case {
  name: string;
  file(n: string): string | undefined;
  artifactPath: string;
}

function loadCase(name: string): Case {
  const dir = join(CONF, 'cases', name);
  const file = (n: string) => (existsSync(join(dir, n)) ? join(dir, n) : undefined);
  return { name, file, artifactPath: file('artifact') ?? join(CONF, '_defaults', 'a.txt') };
}

/** Ed25519 message signatures are pure EdDSA: they need the artifact bytes, not a digest (RFC 8032). */
function needsBytes(c: Case): boolean {
  try {
    const b = JSON.parse(readFileSync(c.file('bundle.sigstore.json') ?? '', 'utf8')) as {
      messageSignature?: unknown;
      verificationMaterial?: {
        certificate?: { rawBytes?: string };
        x509CertificateChain?: { certificates?: { rawBytes?: string }[] };
      };
    };
    if (b.messageSignature === undefined) return false;
    const pem = c.file('key.pub');
    if (pem !== undefined) return loadPublicKey(readFileSync(pem)).asymmetricKeyType === 'ed25519';
    const vm = b.verificationMaterial;
    const raw = vm?.certificate?.rawBytes ?? vm?.x509CertificateChain?.certificates?.[0]?.rawBytes;
    return (
      raw !== undefined &&
      new X509Certificate(Buffer.from(raw, 'base64')).publicKey.asymmetricKeyType === 'ed25519'
    );
  } catch {
    return false;
  }
}

/** The upstream harness: every input is read here, so parse failures count as rejections too. */
async function runCase(c: Case, artifact: Artifact) {
  const own = c.file('trusted_root.json');
  const trustedRoot: TrustedRoot = own === undefined ? publicGood : parseTrustedRoot(readFileSync(own));
  const bundle = parseBundle(readFileSync(c.file('bundle.sigstore.json') ?? ''));
  const keyFile = c.file('key.pub');
  if (keyFile !== undefined) {
    return verifyBundle(bundle, artifact, { trustedRoot, key: loadPublicKey(readFileSync(keyFile)) });
  }
  const identity = c.file('identity');
  const issuer = c.file('issuer');
  return verifyBundle(bundle, artifact, {
    trustedRoot,
    identity: {
      subject: identity === undefined ? DEFAULT_IDENTITY : readFileSync(identity, 'utf8').trim(),
      issuer: issuer === undefined ? DEFAULT_ISSUER : readFileSync(issuer, 'utf8').trim(),
    },
  });
}

const names = readdirSync(join(CONF, 'cases')).sort();

describe('sigstore-conformance bundle-verify', () => {
  it('has an expectation for every case, and a case for every expectation', () => {
    assert.deepEqual(names, Object.keys(EXPECTED).sort());
    assert.equal(names.filter((n) => EXPECTED[n] === 'pass').length, 14);
    assert.ok(names.every((n) => (EXPECTED[n] === 'pass') === !n.endsWith('_fail')));
  });

  for (const name of names) {
    const c = loadCase(name);
    const expected = EXPECTED[name];
    const bytes = readFileSync(c.artifactPath);
    const artifacts: [string, Artifact][] = [['file', { kind: 'file', path: c.artifactPath }]];
    if (!needsBytes(c)) {
      artifacts.push([
        'sha256 digest',
        { kind: 'digest', algorithm: 'sha256', digest: createHash('sha256').update(bytes).digest() },
      ]);
    }
    for (const [mode, artifact] of artifacts) {
      it(`${name} (${mode})`, async () => {
        let result: Awaited<ReturnType<typeof runCase>> | undefined;
        let thrown: unknown;
        try {
          result = await runCase(c, artifact);
        } catch (e) {
          thrown = e;
        }
        if (expected === 'pass') {
          assert.equal(thrown, undefined, `expected success, got ${String(thrown)}`);
          assert.ok(result !== undefined);
          assert.ok(result.tlogEntries >= 1);
          assert.ok(result.timestamps.length >= 1);
          if (c.file('key.pub') === undefined) {
            assert.ok(result.signer.kind === 'certificate');
            assert.equal(result.signer.subject, DEFAULT_IDENTITY);
            assert.equal(result.signer.issuer, DEFAULT_ISSUER);
          } else {
            assert.equal(result.signer.kind, 'key');
          }
          return;
        }
        assert.ok(isVouchError(thrown), `expected a VouchError ${expected?.code}, got ${String(thrown)}`);
        assert.equal(thrown.code, expected?.code, thrown.message);
        if (expected?.check !== undefined) {
          const { check } = thrown.details ?? {};
          assert.equal(check, expected.check, thrown.message);
        }
      });
    }
  }
});

/** A case's trust root JSON, edited, then read. */
function editedRoot(name: string | undefined, edit: (j: RootJson) => void): TrustedRoot {
  const path =
    name === undefined
      ? join(CONF, '_defaults', 'public-good-trusted_root.json')
      : join(CONF, 'cases', name, 'trusted_root.json');
  const json = JSON.parse(readFileSync(path, 'utf8')) as RootJson;
  edit(json);
  return parseTrustedRoot(json);
}

interface RootJson {
  tlogs: { baseUrl: string; publicKey: { validFor: { start: string; end?: string } } }[];
  certificateAuthorities: { validFor: { start: string; end?: string } }[];
  ctlogs: unknown[];
}

const A_TXT: Artifact = { kind: 'file', path: join(CONF, '_defaults', 'a.txt') };
const bundleOf = (name: string) =>
  parseBundle(readFileSync(join(CONF, 'cases', name, 'bundle.sigstore.json')));
const IDENTITY = { subject: DEFAULT_IDENTITY, issuer: DEFAULT_ISSUER };

async function rejectsWith(code: VouchErrorCode, check: string, fn: () => Promise<unknown>): Promise<void> {
  let thrown: unknown;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(isVouchError(thrown), `expected ${code}, got ${String(thrown)}`);
  assert.equal(thrown.code, code, thrown.message);
  const { check: actual } = thrown.details ?? {};
  assert.equal(actual, check, thrown.message);
}

describe('sigstore-conformance vectors, edited', () => {
  it('a repeated RFC 3161 token does not count twice (ERR_BUNDLE_MALFORMED)', async () => {
    const b = bundleOf('rekor2-happy-path');
    const tokens = b.verificationMaterial.rfc3161Timestamps;
    const twice = {
      ...b,
      verificationMaterial: { ...b.verificationMaterial, rfc3161Timestamps: [...tokens, ...tokens] },
    };
    const trustedRoot = parseTrustedRoot(
      readFileSync(join(CONF, 'cases', 'rekor2-happy-path', 'trusted_root.json')),
    );
    await rejectsWith('ERR_BUNDLE_MALFORMED', 'timestamp.tsa', () =>
      verifyBundle(twice, A_TXT, { trustedRoot, identity: IDENTITY, timestampThreshold: 2 }),
    );
    // One token is one timestamp: a threshold of two is not met.
    await rejectsWith('ERR_TIMESTAMP_MISSING', 'timestamps', () =>
      verifyBundle(b, A_TXT, { trustedRoot, identity: IDENTITY, timestampThreshold: 2 }),
    );
  });

  it('a token and the TimeStampResp around it are one timestamp, not two', async () => {
    const b = bundleOf('rekor2-happy-path');
    const [resp] = b.verificationMaterial.rfc3161Timestamps;
    assert.ok(resp !== undefined);
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken } (RFC 3161 §2.4.2)
    const outer = asn1js.fromBER(resp).result.valueBlock as unknown as { value: asn1js.AsnType[] };
    const token = new Uint8Array((outer.value[1] as asn1js.AsnType).valueBeforeDecodeView);
    const both = {
      ...b,
      verificationMaterial: { ...b.verificationMaterial, rfc3161Timestamps: [resp, token] },
    };
    const trustedRoot = parseTrustedRoot(
      readFileSync(join(CONF, 'cases', 'rekor2-happy-path', 'trusted_root.json')),
    );
    await rejectsWith('ERR_BUNDLE_MALFORMED', 'timestamp.tsa', () =>
      verifyBundle(both, A_TXT, { trustedRoot, identity: IDENTITY, timestampThreshold: 2 }),
    );
  });

  it('one log entry under another (unsigned) logIndex does not count twice', async () => {
    for (const name of ['rekor2-happy-path', 'happy-path-v0.3']) {
      const b = bundleOf(name);
      const [entry] = b.verificationMaterial.tlogEntries;
      assert.ok(entry !== undefined);
      const { inclusionPromise: _, ...unsigned } = entry;
      const copy = { ...unsigned, logIndex: entry.logIndex + 1n };
      const twice = { ...b, verificationMaterial: { ...b.verificationMaterial, tlogEntries: [entry, copy] } };
      const own = join(CONF, 'cases', name, 'trusted_root.json');
      const trustedRoot = parseTrustedRoot(
        readFileSync(
          name.startsWith('rekor2') ? own : join(CONF, '_defaults', 'public-good-trusted_root.json'),
        ),
      );
      await rejectsWith('ERR_BUNDLE_MALFORMED', 'tlog', () =>
        verifyBundle(twice, A_TXT, { trustedRoot, identity: IDENTITY, tlogThreshold: 2 }),
      );
    }
  });

  it('a Rekor v2 log key must be valid at the TSA time (no integrated time of its own)', async () => {
    const trustedRoot = editedRoot('rekor2-happy-path', (j) => {
      for (const t of j.tlogs)
        if (t.baseUrl.includes('log2025-alpha1')) t.publicKey.validFor.end = '2025-06-01T00:00:00Z';
    });
    await rejectsWith('ERR_TLOG_UNTRUSTED', 'tlog', () =>
      verifyBundle(bundleOf('rekor2-happy-path'), A_TXT, { trustedRoot, identity: IDENTITY }),
    );
  });

  it('a log key validity that ends one second before the integrated time rejects the SET', async () => {
    const trustedRoot = editedRoot('trust-root-tlog-validity-end-inclusive', (j) => {
      for (const t of j.tlogs) {
        if (t.publicKey.validFor.end === '2023-07-12T15:56:36Z')
          t.publicKey.validFor.end = '2023-07-12T15:56:35Z';
      }
    });
    await rejectsWith('ERR_TLOG_UNTRUSTED', 'tlog.set', () =>
      verifyBundle(bundleOf('trust-root-tlog-validity-end-inclusive'), A_TXT, {
        trustedRoot,
        identity: IDENTITY,
      }),
    );
  });

  it('the identity policy decides: exact, anchored regexp, other subject, other issuer', async () => {
    const b = bundleOf('happy-path-v0.3');
    const trustedRoot = publicGood;
    const r = await verifyBundle(b, A_TXT, {
      trustedRoot,
      identity: {
        subjectRegExp: 'https://github\\.com/sigstore-conformance/.*',
        issuerRegExp: 'https://token\\.actions\\.githubusercontent\\.com',
      },
    });
    assert.ok(r.signer.kind === 'certificate');
    assert.equal(r.signer.extensions.sourceRepositoryRef, 'refs/heads/main');
    await rejectsWith('ERR_CERT_IDENTITY', 'identity', () =>
      verifyBundle(b, A_TXT, {
        trustedRoot,
        identity: { subjectRegExp: 'https://github\\.com/sigstore-conformance/' },
      }),
    );
    await rejectsWith('ERR_CERT_ISSUER', 'identity', () =>
      verifyBundle(b, A_TXT, {
        trustedRoot,
        identity: { subject: DEFAULT_IDENTITY, issuer: 'https://accounts.google.com' },
      }),
    );
    await rejectsWith('ERR_USAGE', 'identity', () => verifyBundle(b, A_TXT, { trustedRoot }));
  });

  it('SCTs, CA validity and thresholds come from the trust root and options', async () => {
    const b = bundleOf('happy-path-v0.3');
    const noCt = editedRoot(undefined, (j) => {
      j.ctlogs = [];
    });
    await rejectsWith('ERR_SCT_INVALID', 'certificate.sct', () =>
      verifyBundle(b, A_TXT, { trustedRoot: noCt, identity: IDENTITY }),
    );
    assert.equal(
      (await verifyBundle(b, A_TXT, { trustedRoot: noCt, identity: IDENTITY, ctlogThreshold: 0 }))
        .tlogEntries,
      1,
    );
    const lateCa = editedRoot(undefined, (j) => {
      for (const ca of j.certificateAuthorities) ca.validFor = { start: '2024-03-20T00:00:00Z' };
    });
    await rejectsWith('ERR_CERT_CHAIN', 'certificate.chain', () =>
      verifyBundle(b, A_TXT, { trustedRoot: lateCa, identity: IDENTITY }),
    );
    await rejectsWith('ERR_SCT_MISSING', 'certificate.sct', () =>
      verifyBundle(b, A_TXT, { trustedRoot: publicGood, identity: IDENTITY, ctlogThreshold: 2 }),
    );
    await rejectsWith('ERR_TLOG_MISSING', 'tlog', () =>
      verifyBundle(b, A_TXT, { trustedRoot: publicGood, identity: IDENTITY, tlogThreshold: 2 }),
    );
    await rejectsWith('ERR_TLOG_UNTRUSTED', 'tlog', () =>
      verifyBundle(bundleOf('bundle-from-wrong-instance_fail'), A_TXT, {
        trustedRoot: publicGood,
        allowAnyIdentity: true,
      }),
    );
  });
});
