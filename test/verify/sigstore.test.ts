import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isVouchError, toBase64, toHex, type VouchErrorCode } from '../../src/core/index.js';
import { type Artifact, keyIdOf } from '../../src/crypto/index.js';
import {
  type Bundle,
  bundleFromDsse,
  bundleFromMessageSignature,
  type DsseEnvelope,
  INTOTO_PAYLOAD_TYPE,
  pae,
  parseBundle,
  serializeBundle,
  type TransparencyLogEntry,
} from '../../src/envelope/index.js';
import {
  buildTrustedRoot,
  parseTrustedRoot,
  trustedRootToJson,
  type VerifyOptions,
  verifyBundle,
} from '../../src/verify/index.js';
import { expectCode, tempDir } from '../helpers.js';
import { type EntryOptions, type Leaf, makeLog, makePki, OIDC_ISSUER, pem, SUBJECT, T0 } from './fixtures.js';

const pki = await makePki();
const log = makeLog('log.example');
const otherLog = makeLog('other.example');
const leaf = await pki.issue();

const ARTIFACT = Buffer.from('hello, vouch\n');
const SHA256 = createHash('sha256').update(ARTIFACT).digest();
const BYTES: Artifact = { kind: 'bytes', bytes: ARTIFACT };
const ROOT = buildTrustedRoot({ tlogs: [log.spec()], certificateAuthorities: [pki.authority()] });
const KEYLESS: VerifyOptions = {
  trustedRoot: ROOT,
  identity: { subject: SUBJECT, issuer: OIDC_ISSUER },
  // The test CA does not log to CT; SCTs are covered by the conformance cases.
  ctlogThreshold: 0,
};

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

// ------------------------------------------------------------------------------------ entry bodies (Rekor)

type Signer = { kind: 'cert'; der: Uint8Array } | { kind: 'key'; key: KeyObject };

function v1Verifier(s: Signer): string {
  const text =
    s.kind === 'cert'
      ? pem('CERTIFICATE', s.der)
      : pem('PUBLIC KEY', s.key.export({ type: 'spki', format: 'der' }));
  return Buffer.from(text).toString('base64');
}

function v2Verifier(s: Signer): Record<string, unknown> {
  return s.kind === 'cert'
    ? { x509Certificate: { rawBytes: toBase64(s.der) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }
    : {
        publicKey: { rawBytes: toBase64(s.key.export({ type: 'spki', format: 'der' })) },
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      };
}

function hashedrekordV1(sig: Uint8Array, digest: Uint8Array, s: Signer) {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: toHex(digest) } },
      signature: { content: toBase64(sig), publicKey: { content: v1Verifier(s) } },
    },
  };
}

function hashedrekordV2(sig: Uint8Array, digest: Uint8Array, s: Signer) {
  return {
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: 'SHA2_256', digest: toBase64(digest) },
        signature: { content: toBase64(sig), verifier: v2Verifier(s) },
      },
    },
  };
}

function dsseV1(env: DsseEnvelope, s: Signer) {
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: toHex(sha256(Buffer.from('envelope'))) },
      payloadHash: { algorithm: 'sha256', value: toHex(sha256(env.payload)) },
      signatures: env.signatures.map((x) => ({ signature: toBase64(x.sig), verifier: v1Verifier(s) })),
    },
  };
}

function dsseV2(env: DsseEnvelope, s: Signer) {
  return {
    apiVersion: '0.0.2',
    kind: 'dsse',
    spec: {
      dsseV002: {
        payloadHash: { algorithm: 'SHA2_256', digest: toBase64(sha256(env.payload)) },
        signatures: env.signatures.map((x) => ({ content: toBase64(x.sig), verifier: v2Verifier(s) })),
      },
    },
  };
}

const b64twice = (b: Uint8Array) => Buffer.from(toBase64(b)).toString('base64');

function intotoV2(env: DsseEnvelope, s: Signer, withPayload = true) {
  return {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: {
          payloadType: env.payloadType,
          ...(withPayload ? { payload: b64twice(env.payload) } : {}),
          signatures: env.signatures.map((x) => ({ publicKey: v1Verifier(s), sig: b64twice(x.sig) })),
        },
        hash: { algorithm: 'sha256', value: toHex(sha256(Buffer.from('envelope'))) },
        payloadHash: { algorithm: 'sha256', value: toHex(sha256(env.payload)) },
      },
    },
  };
}

function intotoV1(env: DsseEnvelope, s: Signer) {
  return {
    apiVersion: '0.0.1',
    kind: 'intoto',
    spec: {
      content: {
        hash: { algorithm: 'sha256', value: toHex(sha256(Buffer.from('envelope'))) },
        payloadHash: { algorithm: 'sha256', value: toHex(sha256(env.payload)) },
      },
      publicKey: v1Verifier(s),
    },
  };
}

// ------------------------------------------------------------------------------------------------ bundles

const CERT = (l: Leaf = leaf): Signer => ({ kind: 'cert', der: l.der });

function signMessage(key: KeyObject, data: Uint8Array = ARTIFACT): Buffer {
  return sign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key);
}

/** A keyless message-signature bundle, logged as a Rekor v1 hashedrekord unless `entries` says otherwise. */
function messageBundle(
  o: {
    l?: Leaf;
    signature?: Buffer;
    digestHint?: Buffer | null;
    entries?: (sig: Buffer) => TransparencyLogEntry[];
    entry?: EntryOptions;
  } = {},
): Bundle {
  const l = o.l ?? leaf;
  const signature = o.signature ?? signMessage(l.privateKey);
  const entries = o.entries?.(signature) ?? [log.entry(hashedrekordV1(signature, SHA256, CERT(l)), o.entry)];
  return bundleFromMessageSignature(
    {
      signature,
      ...(o.digestHint === null
        ? {}
        : { messageDigest: { algorithm: 'SHA2_256', digest: o.digestHint ?? SHA256 } }),
    },
    { key: { kind: 'certificate', certificate: l.der }, tlogEntries: entries },
  );
}

function statementFor(digest: Uint8Array, name = 'hello.txt'): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name, digest: { sha256: toHex(digest) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'https://example/build' } },
    }),
  );
}

function envelope(
  key: KeyObject,
  payload = statementFor(SHA256),
  payloadType = INTOTO_PAYLOAD_TYPE,
): DsseEnvelope {
  return {
    payloadType,
    payload,
    signatures: [{ keyid: '', sig: signMessage(key, pae(payloadType, payload)) }],
  };
}

function dsseBundle(
  o: { env?: DsseEnvelope; l?: Leaf; body?: (env: DsseEnvelope) => unknown; entry?: EntryOptions } = {},
): Bundle {
  const l = o.l ?? leaf;
  const env = o.env ?? envelope(l.privateKey);
  const body = o.body?.(env) ?? dsseV1(env, CERT(l));
  return bundleFromDsse(env, {
    key: { kind: 'certificate', certificate: l.der },
    tlogEntries: [log.entry(body, o.entry)],
  });
}

function withEntries(b: Bundle, tlogEntries: TransparencyLogEntry[]): Bundle {
  return { ...b, verificationMaterial: { ...b.verificationMaterial, tlogEntries } };
}

function firstEntry(b: Bundle): TransparencyLogEntry {
  const e = b.verificationMaterial.tlogEntries[0];
  assert.ok(e !== undefined);
  return e;
}

async function rejects(code: VouchErrorCode, check: string, fn: () => Promise<unknown>): Promise<void> {
  await expectCode(fn, code);
  try {
    await fn();
  } catch (e) {
    assert.ok(isVouchError(e));
    const { check: actual } = e.details ?? {};
    assert.equal(actual, check, `details.check of ${e.code}: ${e.message}`);
  }
}

// ------------------------------------------------------------------------------------------------- tests

describe('verifyBundle: keyless message signatures (Rekor v1)', () => {
  it('verifies signature, log entry (SET + inclusion proof), certificate and identity', async () => {
    const r = await verifyBundle(messageBundle(), BYTES, KEYLESS);
    assert.equal(r.signer.kind, 'certificate');
    assert.ok(r.signer.kind === 'certificate');
    assert.equal(r.signer.subject, SUBJECT);
    assert.equal(r.signer.issuer, OIDC_ISSUER);
    assert.deepEqual(r.signer.sans, [SUBJECT]);
    assert.equal(r.signer.ca, 'https://ca.example');
    assert.equal(r.tlogEntries, 1);
    assert.deepEqual(r.timestamps, [{ source: 'tlog', time: T0, authority: 'https://log.example' }]);
    assert.deepEqual(
      r.checks.map((c) => c.id),
      [
        'signature',
        'artifact',
        'tlog',
        'timestamps',
        'certificate.validity',
        'certificate.chain',
        'identity',
      ],
    );
    assert.match(
      r.checks.find((c) => c.id === 'tlog')?.detail ?? '',
      /signed entry timestamp .* and inclusion proof/,
    );
  });

  it('takes the artifact as a file or as its sha256 digest, after a JSON round trip', async () => {
    const dir = tempDir();
    const path = join(dir, 'hello.txt');
    writeFileSync(path, ARTIFACT);
    const b = parseBundle(serializeBundle(messageBundle()));
    for (const a of [
      { kind: 'file', path },
      { kind: 'digest', algorithm: 'sha256', digest: SHA256 },
    ] as Artifact[]) {
      assert.equal((await verifyBundle(b, a, KEYLESS)).tlogEntries, 1);
    }
  });

  it('accepts any identity only when asked to, and reports the first SAN', async () => {
    const r = await verifyBundle(messageBundle(), BYTES, {
      trustedRoot: ROOT,
      ctlogThreshold: 0,
      allowAnyIdentity: true,
    });
    assert.ok(r.signer.kind === 'certificate');
    assert.equal(r.signer.subject, SUBJECT);
    assert.match(r.checks.at(-1)?.detail ?? '', /any identity allowed/);
  });

  it('accepts an entry with only a SET, and one with only an inclusion proof plus another timestamp', async () => {
    const setOnly = messageBundle({ entry: { proof: false } });
    assert.equal((await verifyBundle(setOnly, BYTES, KEYLESS)).tlogEntries, 1);
    const sig = signMessage(leaf.privateKey);
    const both = messageBundle({
      signature: sig,
      entries: () => [
        log.entry(hashedrekordV1(sig, SHA256, CERT()), { set: false }),
        otherLog.entry(hashedrekordV1(sig, SHA256, CERT()), { proof: false }),
      ],
    });
    const root = buildTrustedRoot({
      tlogs: [log.spec(), otherLog.spec()],
      certificateAuthorities: [pki.authority()],
    });
    const r = await verifyBundle(both, BYTES, { ...KEYLESS, trustedRoot: root, tlogThreshold: 2 });
    assert.equal(r.tlogEntries, 2);
    assert.equal(r.timestamps.length, 1);
  });

  it('treats the log key validity and certificate validity as closed intervals', async () => {
    const root = buildTrustedRoot({
      tlogs: [log.spec({ start: new Date(0), end: T0 })],
      certificateAuthorities: [pki.authority({ start: T0, end: T0 })],
    });
    const l = await pki.issue({ notBefore: T0, notAfter: T0 });
    const r = await verifyBundle(messageBundle({ l }), BYTES, { ...KEYLESS, trustedRoot: root });
    assert.deepEqual(
      r.timestamps.map((t) => t.time),
      [T0],
    );
  });

  it('rejects a key bundle without a key and a certificate bundle without a trusted root (ERR_VERIFY_NO_TRUST)', async () => {
    const keyBundle = bundleFromMessageSignature(
      { signature: signMessage(leaf.privateKey) },
      { key: { kind: 'publicKey', hint: 'x' } },
    );
    await rejects('ERR_VERIFY_NO_TRUST', 'key', () => verifyBundle(keyBundle, BYTES, { trustedRoot: ROOT }));
    await rejects('ERR_VERIFY_NO_TRUST', 'certificate.chain', () =>
      verifyBundle(messageBundle(), BYTES, { identity: KEYLESS.identity ?? {} }),
    );
  });

  it('refuses a certificate bundle without an identity policy, a bad policy or bad thresholds (ERR_USAGE)', async () => {
    await rejects('ERR_USAGE', 'identity', () => verifyBundle(messageBundle(), BYTES, { trustedRoot: ROOT }));
    await expectCode(() => verifyBundle(messageBundle(), BYTES, { ...KEYLESS, identity: {} }), 'ERR_USAGE');
    await expectCode(
      () => verifyBundle(messageBundle(), BYTES, { ...KEYLESS, tlogThreshold: -1 }),
      'ERR_USAGE',
    );
    await expectCode(
      () => verifyBundle(messageBundle(), BYTES, { ...KEYLESS, timestampThreshold: 0.5 }),
      'ERR_USAGE',
    );
  });

  it('refuses a message signature without its artifact (ERR_USAGE)', async () => {
    await rejects('ERR_USAGE', 'signature', () => verifyBundle(messageBundle(), undefined, KEYLESS));
  });

  it('rejects a key that is not the certificate key (ERR_KEY_MISMATCH)', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    await rejects('ERR_KEY_MISMATCH', 'key', () =>
      verifyBundle(messageBundle(), BYTES, { ...KEYLESS, key: other }),
    );
  });

  it('rejects another artifact: digest mismatch with a hint (ERR_DIGEST_MISMATCH), bad signature without', async () => {
    const other: Artifact = { kind: 'bytes', bytes: Buffer.from('something else') };
    await rejects('ERR_DIGEST_MISMATCH', 'artifact', () => verifyBundle(messageBundle(), other, KEYLESS));
    await rejects('ERR_SIGNATURE_INVALID', 'signature', () =>
      verifyBundle(messageBundle({ digestHint: null }), other, KEYLESS),
    );
    // The hint must match even when the signature is good.
    await rejects('ERR_DIGEST_MISMATCH', 'artifact', () =>
      verifyBundle(messageBundle({ digestHint: sha256(Buffer.from('x')) }), BYTES, KEYLESS),
    );
  });

  it('rejects a signature made by another key (ERR_SIGNATURE_INVALID)', async () => {
    const other = await pki.issue();
    const sig = signMessage(other.privateKey);
    await rejects('ERR_SIGNATURE_INVALID', 'signature', () =>
      verifyBundle(messageBundle({ signature: sig }), BYTES, KEYLESS),
    );
  });

  it('rejects an entry from a log the root does not trust (ERR_TLOG_UNTRUSTED)', async () => {
    const sig = signMessage(leaf.privateKey);
    const b = messageBundle({
      signature: sig,
      entries: () => [otherLog.entry(hashedrekordV1(sig, SHA256, CERT()))],
    });
    await rejects('ERR_TLOG_UNTRUSTED', 'tlog', () => verifyBundle(b, BYTES, KEYLESS));
  });

  it('rejects an integrated time outside the log key validity (ERR_TLOG_UNTRUSTED)', async () => {
    const root = buildTrustedRoot({
      tlogs: [log.spec({ start: new Date(0), end: new Date(T0.getTime() - 1000) })],
      certificateAuthorities: [pki.authority()],
    });
    await rejects('ERR_TLOG_UNTRUSTED', 'tlog.set', () =>
      verifyBundle(messageBundle(), BYTES, { ...KEYLESS, trustedRoot: root }),
    );
  });

  it('rejects a SET that does not cover the entry (ERR_TLOG_SET_INVALID)', async () => {
    const b = messageBundle();
    const e = firstEntry(b);
    for (const tampered of [
      { ...e, integratedTime: e.integratedTime + 1n },
      { ...e, logIndex: e.logIndex + 1n },
      { ...e, inclusionPromise: { signedEntryTimestamp: sign('sha256', Buffer.from('x'), log.privateKey) } },
    ]) {
      await rejects('ERR_TLOG_SET_INVALID', 'tlog.set', () =>
        verifyBundle(withEntries(b, [tampered]), BYTES, KEYLESS),
      );
    }
  });

  it('rejects an entry that logged something else (ERR_TLOG_BODY_MISMATCH)', async () => {
    const sig = signMessage(leaf.privateKey);
    const other = await pki.issue();
    const bodies: [string, unknown][] = [
      ['signature', hashedrekordV1(signMessage(leaf.privateKey, Buffer.from('x')), SHA256, CERT())],
      ['digest', hashedrekordV1(sig, sha256(Buffer.from('x')), CERT())],
      ['certificate', hashedrekordV1(sig, SHA256, CERT(other))],
      ['key instead of certificate', hashedrekordV1(sig, SHA256, { kind: 'key', key: leaf.publicKey })],
      ['DSSE kind for a message', dsseV1(envelope(leaf.privateKey), CERT())],
      ['malformed spec', { apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: {} } }],
      [
        'bad PEM',
        {
          ...hashedrekordV1(sig, SHA256, CERT()),
          spec: {
            data: { hash: { algorithm: 'sha256', value: toHex(SHA256) } },
            signature: { content: toBase64(sig), publicKey: { content: 'bm90IHBlbQ==' } },
          },
        },
      ],
      [
        'unknown hash',
        {
          ...hashedrekordV1(sig, SHA256, CERT()),
          spec: {
            data: { hash: { algorithm: 'md5', value: toHex(SHA256) } },
            signature: hashedrekordV1(sig, SHA256, CERT()).spec.signature,
          },
        },
      ],
    ];
    for (const [what, body] of bodies) {
      const b = messageBundle({ signature: sig, entries: () => [log.entry(body)] });
      await rejects('ERR_TLOG_BODY_MISMATCH', 'tlog.body', () => verifyBundle(b, BYTES, KEYLESS)).catch(
        (e) => {
          throw new Error(`${what}: ${(e as Error).message}`);
        },
      );
    }
    // kindVersion is not signed: it must agree with the body.
    const b = messageBundle({
      signature: sig,
      entries: () => [log.entry(hashedrekordV1(sig, SHA256, CERT()), { kind: 'dsse' })],
    });
    await rejects('ERR_TLOG_BODY_MISMATCH', 'tlog.body', () => verifyBundle(b, BYTES, KEYLESS));
    const notJson = messageBundle({
      signature: sig,
      entries: () => [log.entry(Buffer.from('{'), { kind: 'hashedrekord', version: '0.0.1' })],
    });
    await rejects('ERR_TLOG_BODY_MISMATCH', 'tlog.body', () => verifyBundle(notJson, BYTES, KEYLESS));
  });

  it('refuses an entry kind it does not read (ERR_BUNDLE_UNSUPPORTED)', async () => {
    const b = messageBundle({
      entries: () => [log.entry({ apiVersion: '0.0.1', kind: 'rekord', spec: {} })],
    });
    await rejects('ERR_BUNDLE_UNSUPPORTED', 'tlog.body', () => verifyBundle(b, BYTES, KEYLESS));
  });

  it('rejects bad inclusion proofs and checkpoints with the failing step code', async () => {
    const b = messageBundle({ entry: { set: false } });
    const e = firstEntry(b);
    const proof = e.inclusionProof;
    assert.ok(proof !== undefined);
    const opts = { ...KEYLESS, timestampThreshold: 0 };
    // A flipped proof hash.
    const hashes = proof.hashes.map((h, i) =>
      i === 0 ? Buffer.from(h).map((x, j) => (j === 0 ? x ^ 1 : x)) : h,
    );
    await rejects('ERR_MERKLE_PROOF', 'tlog.inclusion', () =>
      verifyBundle(withEntries(b, [{ ...e, inclusionProof: { ...proof, hashes } }]), BYTES, opts),
    );
    // No checkpoint to anchor the root.
    const { checkpoint: _, ...noCheckpoint } = proof;
    await rejects('ERR_TLOG_INCLUSION', 'tlog.inclusion', () =>
      verifyBundle(withEntries(b, [{ ...e, inclusionProof: noCheckpoint }]), BYTES, opts),
    );
    // A checkpoint for another origin, size or root (signed by the right key).
    const checkpoints: NonNullable<EntryOptions['checkpoint']>[] = [
      ({ size, root }) => `evil.example\n${size}\n${root.toString('base64')}\n`,
      ({ origin, size, root }) => `${origin}\n${size + 1n}\n${root.toString('base64')}\n`,
      ({ origin, size }) => `${origin}\n${size}\n${Buffer.alloc(32).toString('base64')}\n`,
      ({ origin, size }) => `${origin}\n${size}\n`,
    ];
    for (const checkpoint of checkpoints) {
      const bad = messageBundle({ entry: { set: false, checkpoint } });
      await rejects('ERR_CHECKPOINT_INVALID', 'tlog.checkpoint', () => verifyBundle(bad, BYTES, opts));
    }
    // Rekor v1 origins carry the tree ID after the name.
    const v1origin = messageBundle({
      entry: {
        checkpoint: ({ origin, size, root }) =>
          `${origin} - 1234\n${size}\n${root.toString('base64')}\nTimestamp: 1\n`,
      },
    });
    assert.equal((await verifyBundle(v1origin, BYTES, KEYLESS)).tlogEntries, 1);
  });

  it('rejects a checkpoint signed by another log (ERR_NOTE_SIGNATURE)', async () => {
    const b = messageBundle({ entry: { set: false } });
    const e = firstEntry(b);
    const proof = e.inclusionProof;
    assert.ok(proof?.checkpoint !== undefined);
    const forged = otherLog.entry(e.canonicalizedBody, {
      set: false,
      kind: 'hashedrekord',
      version: '0.0.1',
    });
    const swapped = {
      ...e,
      inclusionProof: { ...proof, checkpoint: forged.inclusionProof?.checkpoint ?? proof.checkpoint },
    };
    await rejects('ERR_NOTE_SIGNATURE', 'tlog.checkpoint', () =>
      verifyBundle(withEntries(b, [swapped]), BYTES, { ...KEYLESS, timestampThreshold: 0 }),
    );
  });

  it('rejects entries with neither proof nor SET (ERR_TLOG_INCLUSION), duplicates and missing entries', async () => {
    const bare = messageBundle({ entry: { set: false, proof: false } });
    await rejects('ERR_TLOG_INCLUSION', 'tlog.inclusion', () => verifyBundle(bare, BYTES, KEYLESS));
    const b = messageBundle();
    await rejects('ERR_BUNDLE_MALFORMED', 'tlog', () =>
      verifyBundle(withEntries(b, [firstEntry(b), firstEntry(b)]), BYTES, { ...KEYLESS, tlogThreshold: 2 }),
    );
    await rejects('ERR_TLOG_MISSING', 'tlog', () => verifyBundle(withEntries(b, []), BYTES, KEYLESS));
    await rejects('ERR_TLOG_MISSING', 'tlog', () => verifyBundle(b, BYTES, { ...KEYLESS, tlogThreshold: 2 }));
  });

  it('needs a verified timestamp for a certificate (ERR_TIMESTAMP_MISSING)', async () => {
    const proofOnly = messageBundle({ entry: { set: false } });
    await rejects('ERR_TIMESTAMP_MISSING', 'timestamps', () => verifyBundle(proofOnly, BYTES, KEYLESS));
    await rejects('ERR_TIMESTAMP_MISSING', 'timestamps', () =>
      verifyBundle(proofOnly, BYTES, { ...KEYLESS, timestampThreshold: 0 }),
    );
    await rejects('ERR_TIMESTAMP_MISSING', 'timestamps', () =>
      verifyBundle(messageBundle(), BYTES, { ...KEYLESS, timestampThreshold: 2 }),
    );
  });

  it('checks the certificate at the verified time only (ERR_CERT_VALIDITY)', async () => {
    const expired = await pki.issue({
      notBefore: new Date(T0.getTime() - 20 * 60_000),
      notAfter: new Date(T0.getTime() - 10 * 60_000),
    });
    await rejects('ERR_CERT_VALIDITY', 'certificate.validity', () =>
      verifyBundle(messageBundle({ l: expired }), BYTES, KEYLESS),
    );
    const future = await pki.issue({
      notBefore: new Date(T0.getTime() + 1000),
      notAfter: new Date(T0.getTime() + 60_000),
    });
    await rejects('ERR_CERT_VALIDITY', 'certificate.validity', () =>
      verifyBundle(messageBundle({ l: future }), BYTES, KEYLESS),
    );
  });

  it('needs a CA that is valid at the signing time and issued the certificate (ERR_CERT_CHAIN)', async () => {
    const root = buildTrustedRoot({
      tlogs: [log.spec()],
      certificateAuthorities: [pki.authority({ start: new Date(T0.getTime() + 1000) })],
    });
    await rejects('ERR_CERT_CHAIN', 'certificate.chain', () =>
      verifyBundle(messageBundle(), BYTES, { ...KEYLESS, trustedRoot: root }),
    );
    const otherPki = await makePki();
    const stranger = await otherPki.issue();
    await rejects('ERR_CERT_CHAIN', 'certificate.chain', () =>
      verifyBundle(messageBundle({ l: stranger }), BYTES, KEYLESS),
    );
  });

  it('refuses a v0.1 chain that carries the root (ERR_CERT_CHAIN)', async () => {
    const b = messageBundle();
    const chained: Bundle = {
      ...b,
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
      version: '0.1',
      verificationMaterial: {
        ...b.verificationMaterial,
        key: { kind: 'x509CertificateChain', certificates: [leaf.der, pki.intermediateDer, pki.rootDer] },
      },
    };
    await rejects('ERR_CERT_CHAIN', 'certificate.chain', () => verifyBundle(chained, BYTES, KEYLESS));
    const withIntermediate: Bundle = {
      ...chained,
      verificationMaterial: {
        ...chained.verificationMaterial,
        key: { kind: 'x509CertificateChain', certificates: [leaf.der, pki.intermediateDer] },
      },
    };
    assert.equal((await verifyBundle(withIntermediate, BYTES, KEYLESS)).tlogEntries, 1);
  });

  it('refuses a certificate with a critical extension it does not understand (ERR_CERT_CHAIN)', async () => {
    const l = await pki.issue({ critical: [['1.3.6.1.4.1.99999.1', Buffer.from([0x05, 0x00])]] });
    await rejects('ERR_CERT_CHAIN', 'certificate.chain', () =>
      verifyBundle(messageBundle({ l }), BYTES, KEYLESS),
    );
  });

  it("takes the full path search for a leaf the CA's first certificate did not issue", async () => {
    const direct = await pki.issue({ byRoot: true });
    const r = await verifyBundle(messageBundle({ l: direct }), BYTES, KEYLESS);
    assert.match(r.checks.find((c) => c.id === 'certificate.chain')?.detail ?? '', /ca\.example/);
    const noEku = await pki.issue({ byRoot: true, eku: ['1.3.6.1.5.5.7.3.1'] });
    await rejects('ERR_CERT_EKU', 'certificate.chain', () =>
      verifyBundle(messageBundle({ l: noEku }), BYTES, KEYLESS),
    );
  });

  it('refuses a CA whose chain does not end in its root (ERR_CERT_CHAIN)', async () => {
    const reversed = buildTrustedRoot({
      tlogs: [log.spec()],
      certificateAuthorities: [
        { certChain: [pki.rootDer, pki.intermediateDer], uri: 'https://reversed.example' },
      ],
    });
    await rejects('ERR_CERT_CHAIN', 'certificate.chain', () =>
      verifyBundle(messageBundle(), BYTES, { ...KEYLESS, trustedRoot: reversed }),
    );
    // Intermediates in the bundle are not trusted: a root-only CA cannot reach an intermediate's leaf.
    const rootOnly = buildTrustedRoot({
      tlogs: [log.spec()],
      certificateAuthorities: [{ certChain: [pki.rootDer], uri: 'https://root-only.example' }],
    });
    await rejects('ERR_CERT_CHAIN', 'certificate.chain', () =>
      verifyBundle(messageBundle(), BYTES, { ...KEYLESS, trustedRoot: rootOnly }),
    );
  });

  it('needs every certificate of the CA valid at the signing time (ERR_CERT_VALIDITY)', async () => {
    // The intermediate is valid for 300 days around T0; the log saw this leaf 400 days later.
    const later = new Date(T0.getTime() + 400 * 86_400_000);
    const l = await pki.issue({
      notBefore: new Date(later.getTime() - 60_000),
      notAfter: new Date(later.getTime() + 60_000),
    });
    await rejects('ERR_CERT_VALIDITY', 'certificate.chain', () =>
      verifyBundle(messageBundle({ l, entry: { integratedTime: later } }), BYTES, KEYLESS),
    );
  });

  it('refuses a bundle model with an empty certificate chain (ERR_BUNDLE_MALFORMED)', async () => {
    const b = messageBundle();
    const empty: Bundle = {
      ...b,
      verificationMaterial: {
        ...b.verificationMaterial,
        key: { kind: 'x509CertificateChain', certificates: [] },
      },
    };
    await rejects('ERR_BUNDLE_MALFORMED', 'bundle', () => verifyBundle(empty, BYTES, KEYLESS));
    const garbage: Bundle = {
      ...b,
      verificationMaterial: {
        ...b.verificationMaterial,
        key: { kind: 'certificate', certificate: Buffer.from('not DER') },
      },
    };
    await rejects('ERR_CERT_MALFORMED', 'bundle', () => verifyBundle(garbage, BYTES, KEYLESS));
  });

  it('treats a log whose key Vouch cannot use as untrusted (ERR_TLOG_UNTRUSTED)', async () => {
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey;
    const json = trustedRootToJson(ROOT) as {
      tlogs: { publicKey: { rawBytes: string; keyDetails: string } }[];
    };
    for (const t of json.tlogs) {
      t.publicKey.rawBytes = toBase64(p521.export({ type: 'spki', format: 'der' }));
      t.publicKey.keyDetails = 'PKIX_ECDSA_P521_SHA_512';
    }
    const trustedRoot = parseTrustedRoot(json);
    await rejects('ERR_TLOG_UNTRUSTED', 'tlog.set', () =>
      verifyBundle(messageBundle(), BYTES, { ...KEYLESS, trustedRoot }),
    );
  });

  it('needs the code signing usage (ERR_CERT_EKU)', async () => {
    const l = await pki.issue({ eku: ['1.3.6.1.5.5.7.3.1'] });
    await rejects('ERR_CERT_EKU', 'certificate.chain', () =>
      verifyBundle(messageBundle({ l }), BYTES, KEYLESS),
    );
  });

  it('enforces the identity policy (ERR_CERT_IDENTITY, ERR_CERT_ISSUER)', async () => {
    await rejects('ERR_CERT_IDENTITY', 'identity', () =>
      verifyBundle(messageBundle(), BYTES, {
        ...KEYLESS,
        identity: { subject: 'https://evil.example', issuer: OIDC_ISSUER },
      }),
    );
    await rejects('ERR_CERT_ISSUER', 'identity', () =>
      verifyBundle(messageBundle(), BYTES, {
        ...KEYLESS,
        identity: { subject: SUBJECT, issuer: 'https://evil.example' },
      }),
    );
  });

  it('requires SCTs by default', async () => {
    let thrown: unknown;
    try {
      await verifyBundle(messageBundle(), BYTES, {
        trustedRoot: ROOT,
        identity: { subject: SUBJECT, issuer: OIDC_ISSUER },
      });
    } catch (e) {
      thrown = e;
    }
    assert.ok(isVouchError(thrown), String(thrown));
    assert.ok(['ERR_SCT_MISSING', 'ERR_SCT_INVALID'].includes(thrown.code), thrown.code);
    const { check } = thrown.details ?? {};
    assert.equal(check, 'certificate.sct');
  });
});

describe('verifyBundle: DSSE envelopes', () => {
  it('verifies an in-toto statement logged as dsse 0.0.1 and returns it', async () => {
    const r = await verifyBundle(dsseBundle(), BYTES, KEYLESS);
    assert.equal(r.statement?.subject[0]?.name, 'hello.txt');
    assert.match(r.checks.find((c) => c.id === 'artifact')?.detail ?? '', /subject hello\.txt \(sha256:/);
    const digest: Artifact = { kind: 'digest', algorithm: 'sha256', digest: SHA256 };
    assert.equal((await verifyBundle(dsseBundle(), digest, KEYLESS)).tlogEntries, 1);
  });

  it('verifies intoto 0.0.2 (with and without the payload) and intoto 0.0.1 entries', async () => {
    for (const body of [
      (env: DsseEnvelope) => intotoV2(env, CERT()),
      (env: DsseEnvelope) => intotoV2(env, CERT(), false),
      (env: DsseEnvelope) => intotoV1(env, CERT()),
    ]) {
      assert.equal((await verifyBundle(dsseBundle({ body }), BYTES, KEYLESS)).tlogEntries, 1);
    }
  });

  it('verifies without an artifact, saying the subject was not checked', async () => {
    const r = await verifyBundle(dsseBundle(), undefined, KEYLESS);
    assert.match(r.checks.find((c) => c.id === 'artifact')?.detail ?? '', /no artifact given/);
    assert.ok(r.statement !== undefined);
  });

  it('rejects an artifact that is no subject (ERR_INTOTO_SUBJECT_MISMATCH)', async () => {
    await rejects('ERR_INTOTO_SUBJECT_MISMATCH', 'artifact', () =>
      verifyBundle(dsseBundle(), { kind: 'bytes', bytes: Buffer.from('other') }, KEYLESS),
    );
  });

  it('refuses to bind an artifact to a payload that is not in-toto (ERR_DSSE_PAYLOAD_TYPE)', async () => {
    const env = envelope(leaf.privateKey, Buffer.from('plain text'), 'text/plain');
    await rejects('ERR_DSSE_PAYLOAD_TYPE', 'artifact', () =>
      verifyBundle(dsseBundle({ env }), BYTES, KEYLESS),
    );
    assert.equal((await verifyBundle(dsseBundle({ env }), undefined, KEYLESS)).statement, undefined);
  });

  it('rejects an envelope signed by another key (ERR_DSSE_SIGNATURE) or with two signatures', async () => {
    const other = await pki.issue();
    await rejects('ERR_DSSE_SIGNATURE', 'signature', () =>
      verifyBundle(dsseBundle({ env: envelope(other.privateKey) }), BYTES, KEYLESS),
    );
    const env = envelope(leaf.privateKey);
    const b = dsseBundle({ env });
    const two: Bundle = {
      ...b,
      content: {
        kind: 'dsseEnvelope',
        dsseEnvelope: { ...env, signatures: [...env.signatures, ...env.signatures] },
      },
    };
    await rejects('ERR_BUNDLE_MALFORMED', 'bundle', () => verifyBundle(two, BYTES, KEYLESS));
  });

  it('rejects log entries that do not match the envelope (ERR_TLOG_BODY_MISMATCH)', async () => {
    const env = envelope(leaf.privateKey);
    const again = envelope(leaf.privateKey);
    const otherPayload = envelope(leaf.privateKey, statementFor(SHA256, 'renamed.txt'));
    const bodies: ((e: DsseEnvelope) => unknown)[] = [
      () => dsseV1(again, CERT()),
      () => dsseV1(otherPayload, CERT()),
      () => intotoV2(again, CERT()),
      () => intotoV2({ ...env, payloadType: 'text/plain' }, CERT()),
      () => ({
        ...intotoV2(env, CERT()),
        spec: {
          content: {
            ...intotoV2(env, CERT()).spec.content,
            envelope: {
              ...intotoV2(otherPayload, CERT()).spec.content.envelope,
              signatures: intotoV2(env, CERT()).spec.content.envelope.signatures,
            },
          },
        },
      }),
      () => intotoV1(otherPayload, CERT()),
      () =>
        hashedrekordV1(
          env.signatures[0]?.sig ?? Buffer.alloc(0),
          sha256(pae(env.payloadType, env.payload)),
          CERT(),
        ),
      () => dsseV1({ ...env, signatures: [...env.signatures, ...env.signatures] }, CERT()),
    ];
    for (const [i, body] of bodies.entries()) {
      await rejects('ERR_TLOG_BODY_MISMATCH', 'tlog.body', () =>
        verifyBundle(dsseBundle({ env, body }), BYTES, KEYLESS),
      ).catch((e) => {
        throw new Error(`body ${i}: ${(e as Error).message}`);
      });
    }
  });
});

describe('verifyBundle: managed keys and Rekor v2', () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const KEY: Signer = { kind: 'key', key: pair.publicKey };

  function keyBundle(entries: (sig: Buffer) => TransparencyLogEntry[] = () => []): Bundle {
    const signature = signMessage(pair.privateKey);
    return bundleFromMessageSignature(
      { signature, messageDigest: { algorithm: 'SHA2_256', digest: SHA256 } },
      { key: { kind: 'publicKey', hint: keyIdOf(pair.publicKey) }, tlogEntries: entries(signature) },
    );
  }

  it('without a trusted root, verifies the signature only and says so', async () => {
    const r = await verifyBundle(keyBundle(), BYTES, { key: pair.publicKey });
    assert.deepEqual(r.signer, { kind: 'key', keyId: keyIdOf(pair.publicKey) });
    assert.equal(r.tlogEntries, 0);
    assert.deepEqual(r.timestamps, []);
    assert.match(r.checks.at(-1)?.detail ?? '', /no trusted root/);
    await rejects('ERR_SIGNATURE_INVALID', 'signature', () =>
      verifyBundle(keyBundle(), BYTES, {
        key: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey,
      }),
    );
  });

  it('with a trusted root, verifies its Rekor v1 entry too', async () => {
    const b = keyBundle((sig) => [log.entry(hashedrekordV1(sig, SHA256, KEY))]);
    const r = await verifyBundle(b, BYTES, { key: pair.publicKey, trustedRoot: ROOT });
    assert.equal(r.tlogEntries, 1);
    assert.equal(r.timestamps.length, 1);
    await rejects('ERR_TLOG_MISSING', 'tlog', () =>
      verifyBundle(keyBundle(), BYTES, { key: pair.publicKey, trustedRoot: ROOT }),
    );
    const certBody = keyBundle((sig) => [log.entry(hashedrekordV1(sig, SHA256, CERT()))]);
    await rejects('ERR_TLOG_BODY_MISMATCH', 'tlog.body', () =>
      verifyBundle(certBody, BYTES, { key: pair.publicKey, trustedRoot: ROOT }),
    );
  });

  it('verifies Rekor v2 hashedrekord and dsse entries (inclusion proof, Ed25519 checkpoint)', async () => {
    const v2 = makeLog('log2025.example', 'ed25519');
    const root = buildTrustedRoot({ tlogs: [v2.spec()] });
    const opts = { key: pair.publicKey, trustedRoot: root, timestampThreshold: 0 };
    const message = keyBundle((sig) => [v2.entry(hashedrekordV2(sig, SHA256, KEY), { set: false })]);
    const r = await verifyBundle(message, BYTES, opts);
    assert.equal(r.tlogEntries, 1);
    assert.deepEqual(r.timestamps, []);
    const env = envelope(pair.privateKey);
    for (const body of [
      dsseV2(env, KEY),
      hashedrekordV2(
        env.signatures[0]?.sig ?? Buffer.alloc(0),
        sha256(pae(env.payloadType, env.payload)),
        KEY,
      ),
    ]) {
      const b = bundleFromDsse(env, {
        key: { kind: 'publicKey', hint: '' },
        tlogEntries: [v2.entry(body, { set: false })],
      });
      assert.equal((await verifyBundle(b, BYTES, opts)).tlogEntries, 1);
    }
    // A Rekor v2 hashedrekord over another PAE, and a Rekor v1 hashedrekord, do not bind a DSSE envelope.
    const wrongPae = hashedrekordV2(env.signatures[0]?.sig ?? Buffer.alloc(0), sha256(env.payload), KEY);
    const v1Body = hashedrekordV1(
      env.signatures[0]?.sig ?? Buffer.alloc(0),
      sha256(pae(env.payloadType, env.payload)),
      KEY,
    );
    for (const body of [wrongPae, v1Body]) {
      const b = bundleFromDsse(env, {
        key: { kind: 'publicKey', hint: '' },
        tlogEntries: [v2.entry(body, { set: false })],
      });
      await rejects('ERR_TLOG_BODY_MISMATCH', 'tlog.body', () => verifyBundle(b, BYTES, opts));
    }
  });

  it('verifies RSA managed keys signing PKCS#1 v1.5 (cosign) or PSS (Vouch)', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (const padding of [1, 6]) {
      const signature = sign('sha256', ARTIFACT, { key: rsa.privateKey, padding, saltLength: 32 });
      const b = bundleFromMessageSignature({ signature }, { key: { kind: 'publicKey', hint: '' } });
      assert.deepEqual((await verifyBundle(b, BYTES, { key: rsa.publicKey })).signer, {
        kind: 'key',
        keyId: keyIdOf(rsa.publicKey),
      });
    }
  });

  it('accepts a P-384 signature over the hash its message digest names (sigstore-js), or over SHA-384', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const digest: Artifact = { kind: 'digest', algorithm: 'sha256', digest: SHA256 };
    const withHint = bundleFromMessageSignature(
      {
        signature: sign('sha256', ARTIFACT, p384.privateKey),
        messageDigest: { algorithm: 'SHA2_256', digest: SHA256 },
      },
      { key: { kind: 'publicKey', hint: '' } },
    );
    assert.match(
      (await verifyBundle(withHint, BYTES, { key: p384.publicKey })).checks[0]?.detail ?? '',
      /ecdsa-p384/,
    );
    assert.equal((await verifyBundle(withHint, digest, { key: p384.publicKey })).signer.kind, 'key');
    const noHint = bundleFromMessageSignature(
      { signature: sign('sha256', ARTIFACT, p384.privateKey) },
      { key: { kind: 'publicKey', hint: '' } },
    );
    await rejects('ERR_SIGNATURE_INVALID', 'signature', () =>
      verifyBundle(noHint, BYTES, { key: p384.publicKey }),
    );
    const sha384 = bundleFromMessageSignature(
      {
        signature: sign('sha384', ARTIFACT, p384.privateKey),
        messageDigest: { algorithm: 'SHA2_256', digest: SHA256 },
      },
      { key: { kind: 'publicKey', hint: '' } },
    );
    assert.equal((await verifyBundle(sha384, BYTES, { key: p384.publicKey })).signer.kind, 'key');
    // A sha256 digest cannot check a SHA-384 signature.
    await rejects('ERR_SIGNATURE_INVALID', 'signature', () =>
      verifyBundle(sha384, digest, { key: p384.publicKey }),
    );
  });

  it('needs the bytes for an Ed25519 message signature (ERR_USAGE for a digest)', async () => {
    const ed = generateKeyPairSync('ed25519');
    const b = bundleFromMessageSignature(
      { signature: signMessage(ed.privateKey) },
      { key: { kind: 'publicKey', hint: '' } },
    );
    assert.equal((await verifyBundle(b, BYTES, { key: ed.publicKey })).tlogEntries, 0);
    await rejects('ERR_USAGE', 'signature', () =>
      verifyBundle(b, { kind: 'digest', algorithm: 'sha256', digest: SHA256 }, { key: ed.publicKey }),
    );
  });
});

describe('verifyBundle: mutations', () => {
  it('rejects every single-bit change to the signature, log entry, proof and checkpoint', async () => {
    const good = messageBundle();
    const e = firstEntry(good);
    const proof = e.inclusionProof;
    assert.ok(proof?.checkpoint !== undefined);
    const checkpoint = Buffer.from(proof.checkpoint.envelope);
    const sig =
      good.content.kind === 'messageSignature' ? good.content.messageSignature.signature : Buffer.alloc(0);
    const targets: [string, number, (at: number, bit: number) => Bundle][] = [
      ['signature', sig.length, (at, bit) => messageBundle({ signature: flip(sig, at, bit) })],
      [
        'body',
        e.canonicalizedBody.length,
        (at, bit) => withEntries(good, [{ ...e, canonicalizedBody: flip(e.canonicalizedBody, at, bit) }]),
      ],
      [
        'SET',
        e.inclusionPromise?.signedEntryTimestamp.length ?? 0,
        (at, bit) =>
          withEntries(good, [
            {
              ...e,
              inclusionPromise: {
                signedEntryTimestamp: flip(
                  e.inclusionPromise?.signedEntryTimestamp ?? Buffer.alloc(0),
                  at,
                  bit,
                ),
              },
            },
          ]),
      ],
      [
        'root hash',
        proof.rootHash.length,
        (at, bit) =>
          withEntries(good, [
            { ...e, inclusionProof: { ...proof, rootHash: flip(proof.rootHash, at, bit) } },
          ]),
      ],
      [
        'checkpoint',
        checkpoint.length,
        (at, bit) =>
          withEntries(good, [
            {
              ...e,
              inclusionProof: {
                ...proof,
                checkpoint: { envelope: flip(checkpoint, at, bit).toString('latin1') },
              },
            },
          ]),
      ],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: targets.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (t, n, bit) => {
          const [name, length, make] = targets[t] as (typeof targets)[number];
          let thrown: unknown;
          try {
            await verifyBundle(make(n % length, bit), BYTES, KEYLESS);
          } catch (err) {
            thrown = err;
          }
          assert.ok(isVouchError(thrown), `${name} byte ${n % length} bit ${bit}: ${String(thrown)}`);
        },
      ),
      { numRuns: 150 },
    );
  });
});

function flip(b: Uint8Array, at: number, bit: number): Buffer {
  const c = Buffer.from(b);
  c[at] = (c[at] as number) ^ (1 << bit);
  return c;
}
