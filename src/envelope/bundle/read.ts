import { failAt, VouchError } from '../../core/index.js';
import { readDsseFields } from '../dsse.js';
import { decodeBytes, Fields, parseDocument, readContext } from '../fields.js';
import {
  BUNDLE_V01,
  BUNDLE_V02,
  BUNDLE_V03,
  BUNDLE_V03_LEGACY,
  type Bundle,
  type BundleContent,
  type BundleVersion,
  type HashOutput,
  type InclusionProof,
  type MessageSignature,
  type TransparencyLogEntry,
  type VerificationKey,
} from './types.js';

// Sigstore bundle: protobuf-specs dev.sigstore.bundle.v1.Bundle in the protobuf JSON mapping (camelCase
// names, base64 bytes, decimal-string int64s). Per-version rules follow protobuf-specs and the checks of
// sigstore-js @sigstore/bundle validate.ts. The whole document is attacker-controlled.

const CONTEXT = readContext('ERR_BUNDLE_MALFORMED', 'bundle', true);

const MEDIA_TYPES: ReadonlyMap<string, BundleVersion> = new Map([
  [BUNDLE_V01, '0.1'],
  [BUNDLE_V02, '0.2'],
  [BUNDLE_V03_LEGACY, '0.3'],
  [BUNDLE_V03, '0.3'],
]);

/** Bounds on repeated fields; real bundles hold one tlog entry, a few certificates and ~30 proof hashes. */
const MAX_TLOG_ENTRIES = 64;
const MAX_CERTIFICATES = 10;
const MAX_PROOF_HASHES = 64;
const MAX_TIMESTAMPS = 32;
const MAX_DSSE_SIGNATURES = 64;

const HASH_ALGORITHMS: ReadonlyMap<unknown, { name: HashOutput['algorithm']; bytes: number }> = new Map<
  unknown,
  { name: HashOutput['algorithm']; bytes: number }
>([
  // protobuf JSON accepts an enum by name or by number (sigstore_common.proto HashAlgorithm).
  ['SHA2_256', { name: 'SHA2_256', bytes: 32 }],
  [1, { name: 'SHA2_256', bytes: 32 }],
  ['SHA2_384', { name: 'SHA2_384', bytes: 48 }],
  [2, { name: 'SHA2_384', bytes: 48 }],
  ['SHA2_512', { name: 'SHA2_512', bytes: 64 }],
  [3, { name: 'SHA2_512', bytes: 64 }],
]);

function readKey(vm: Fields, version: BundleVersion): VerificationKey {
  const present = (['publicKey', 'x509CertificateChain', 'certificate'] as const).filter((k) => vm.has(k));
  const kind = present[0];
  if (kind === undefined || present.length > 1) {
    return vm.fail('', 'must hold exactly one of publicKey, x509CertificateChain, certificate');
  }
  switch (kind) {
    case 'publicKey':
      // PublicKeyIdentifier.hint is optional: the key comes out of band.
      return { kind, hint: vm.object(kind).optString('hint') ?? '' };
    case 'x509CertificateChain': {
      // protobuf-specs: the chain form is deprecated in v0.3, which carries the leaf alone (`certificate`).
      if (version === '0.3') vm.fail(kind, 'is not allowed in a v0.3 bundle (use certificate)');
      const certs = vm.object(kind).objects('certificates', MAX_CERTIFICATES);
      if (certs.length === 0) vm.fail(`${kind}.certificates`, 'must not be empty');
      return { kind, certificates: certs.map((c) => c.bytes('rawBytes', { nonEmpty: true })) };
    }
    case 'certificate':
      if (version !== '0.3')
        vm.fail(kind, `was introduced in v0.3 and is not allowed in a v${version} bundle`);
      return { kind, certificate: vm.object(kind).bytes('rawBytes', { nonEmpty: true }) };
  }
}

function readProof(p: Fields): InclusionProof {
  const hashes = p.array('hashes', MAX_PROOF_HASHES).map(({ value, path }) => {
    const h = decodeBytes(p.ctx, value, path);
    if (h.byteLength === 0) failAt(p.ctx, path, 'must not be empty');
    return h;
  });
  const checkpoint = p.optObject('checkpoint');
  return {
    logIndex: p.uint64('logIndex'),
    rootHash: p.bytes('rootHash', { nonEmpty: true }),
    treeSize: p.uint64('treeSize'),
    hashes,
    ...(checkpoint === undefined
      ? {}
      : { checkpoint: { envelope: checkpoint.string('envelope', { nonEmpty: true }) } }),
  };
}

function readEntry(e: Fields, version: BundleVersion): TransparencyLogEntry {
  const kv = e.object('kindVersion');
  const promise = e.optObject('inclusionPromise');
  const proof = e.optObject('inclusionProof');
  if (version === '0.1') {
    // v0.1 entries were verified by their signed entry timestamp (protobuf-specs; sigstore-js assertBundleV01).
    if (promise === undefined) e.fail('inclusionPromise', 'is required in a v0.1 bundle');
  } else {
    // v0.2+: an inclusion proof with its signed checkpoint is required (sigstore-js assertBundleV02/Latest).
    if (proof === undefined) e.fail('inclusionProof', `is required in a v${version} bundle`);
    if (!proof.has('checkpoint')) e.fail('inclusionProof.checkpoint', `is required in a v${version} bundle`);
  }
  return {
    logIndex: e.uint64('logIndex'),
    logId: e.object('logId').bytes('keyId', { nonEmpty: true }),
    kindVersion: {
      kind: kv.string('kind', { nonEmpty: true }),
      version: kv.string('version', { nonEmpty: true }),
    },
    integratedTime: e.uint64('integratedTime'),
    ...(promise === undefined
      ? {}
      : {
          inclusionPromise: {
            signedEntryTimestamp: promise.bytes('signedEntryTimestamp', { nonEmpty: true }),
          },
        }),
    ...(proof === undefined ? {} : { inclusionProof: readProof(proof) }),
    canonicalizedBody: e.bytes('canonicalizedBody', { nonEmpty: true }),
  };
}

function readMessageSignature(ms: Fields): MessageSignature {
  const md = ms.optObject('messageDigest');
  let messageDigest: HashOutput | undefined;
  if (md !== undefined) {
    const alg = HASH_ALGORITHMS.get(md.raw('algorithm'));
    if (alg === undefined) {
      throw new VouchError(
        'ERR_DIGEST_UNSUPPORTED',
        `invalid bundle: ${md.at('algorithm')} must be SHA2_256, SHA2_384 or SHA2_512`,
        { details: { path: md.at('algorithm') } },
      );
    }
    const digest = md.bytes('digest');
    if (digest.byteLength !== alg.bytes) md.fail('digest', `must be ${alg.bytes} bytes for ${alg.name}`);
    messageDigest = { algorithm: alg.name, digest };
  }
  return {
    // MessageSignature.message_digest is optional (an unauthenticated hint); the signature is required.
    ...(messageDigest === undefined ? {} : { messageDigest }),
    signature: ms.bytes('signature', { nonEmpty: true }),
  };
}

function readContent(root: Fields): BundleContent {
  const ms = root.optObject('messageSignature');
  const env = root.optObject('dsseEnvelope');
  if ((ms === undefined) === (env === undefined)) {
    return root.fail('', 'must hold exactly one of messageSignature, dsseEnvelope');
  }
  if (ms !== undefined) return { kind: 'messageSignature', messageSignature: readMessageSignature(ms) };
  const e = env as Fields;
  const dsseEnvelope = readDsseFields(e, MAX_DSSE_SIGNATURES);
  // protobuf-specs Bundle.dsse_envelope: "a client MUST reject an envelope if the number of signatures is not
  // equal to one"; sigstore-js also refuses an empty payload.
  if (dsseEnvelope.signatures.length !== 1)
    e.fail('signatures', 'must hold exactly one signature in a bundle');
  if (dsseEnvelope.payload.byteLength === 0) e.fail('payload', 'must not be empty');
  return { kind: 'dsseEnvelope', dsseEnvelope };
}

/**
 * Reads a Sigstore bundle (v0.1, v0.2, v0.3) from JSON text, bytes or an already-parsed value into the
 * decoded model. Strict on what it reads: an unknown or missing media type is ERR_BUNDLE_MEDIA_TYPE; missing
 * or wrong-typed fields, bad base64, negative or non-integer int64s, empty certificate chains, both or
 * neither content kinds, per-version violations and oversized repeated fields are ERR_BUNDLE_MALFORMED with
 * the JSON path in the message; bad JSON is ERR_JSON_PARSE. Unknown fields are ignored (protobuf JSON forward
 * compatibility; see docs/decisions/005-envelope-reading.md).
 */
export function parseBundle(input: unknown): Bundle {
  const value =
    typeof input === 'string' || input instanceof Uint8Array ? parseDocument(input, CONTEXT, false) : input;
  const root = new Fields(value, '', CONTEXT);
  const mediaType = root.raw('mediaType');
  const version = typeof mediaType === 'string' ? MEDIA_TYPES.get(mediaType) : undefined;
  if (typeof mediaType !== 'string' || version === undefined) {
    throw new VouchError(
      'ERR_BUNDLE_MEDIA_TYPE',
      mediaType === undefined
        ? 'the bundle has no mediaType'
        : `unsupported bundle media type ${JSON.stringify(mediaType)} (supported: ${[...MEDIA_TYPES.keys()].join(', ')})`,
    );
  }
  const vm = root.object('verificationMaterial');
  const key = readKey(vm, version);
  const tlogEntries = vm.objects('tlogEntries', MAX_TLOG_ENTRIES).map((e) => readEntry(e, version));
  const tvd = vm.optObject('timestampVerificationData');
  const rfc3161Timestamps =
    tvd === undefined
      ? []
      : tvd
          .objects('rfc3161Timestamps', MAX_TIMESTAMPS)
          .map((t) => t.bytes('signedTimestamp', { nonEmpty: true }));
  return {
    mediaType,
    version,
    verificationMaterial: { key, tlogEntries, rfc3161Timestamps },
    content: readContent(root),
  };
}
