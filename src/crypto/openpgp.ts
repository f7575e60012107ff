import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ReadableStream } from 'node:stream/web';
import type { Key, MaybeStream, Message, PrivateKey, PublicKey, Signature, SignaturePacket } from 'openpgp';
import { unreadable, VouchError } from '../core/index.js';
import type { Artifact } from './artifact.js';

/** openpgp is loaded on first use: it costs ~100 ms at start-up, and only OpenPGP commands need it. */
const openpgp = () => import('openpgp');

/**
 * OpenPGP detached signatures (RFC 9580, and the RFC 4880 v4 keys gpg 2.2 still makes) through the
 * `openpgp` library. What is signed is bytes in memory or a file, which is streamed so that an artifact of
 * any size is hashed in constant memory. A digest alone cannot be signed: the OpenPGP hash covers the data
 * followed by the signature's own trailer (RFC 9580 §5.2.4), so the data itself is needed.
 */
export type OpenPgpContent = Uint8Array | Artifact;

/** What a good signature proves: who made it (as given in the keys the caller trusts) and when. */
export interface OpenPgpVerification {
  /** Fingerprint of the primary key (the certificate), uppercase hex as gpg prints it. */
  readonly fingerprint: string;
  /** Key ID of the key that made the signature: the primary key or one of its signing subkeys. */
  readonly keyId: string;
  /** The signature's creation time (self-asserted by the signer). */
  readonly created: Date;
  readonly userIds: readonly string[];
}

export interface GeneratedOpenPgpKey {
  readonly privateKeyArmored: string;
  readonly publicKeyArmored: string;
  readonly fingerprint: string;
}

// 1 MiB reads, as elsewhere in Vouch: constant memory, negligible per-chunk overhead.
const CHUNK = 1 << 20;

/**
 * A file as a web stream. Built with the public constructor on purpose: openpgp re-points a stream's
 * prototype methods when it clones it, which does nothing for Node's internal stream class that
 * `ReadableStream.from` returns, and the verification then waits forever.
 */
function fileStream(path: string): ReadableStream<Uint8Array> {
  const chunks = createReadStream(path, { highWaterMark: CHUNK })[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done === true) controller.close();
        else controller.enqueue(next.value as Buffer);
      } catch (e) {
        controller.error(unreadable(path, e));
      }
    },
    async cancel() {
      await chunks.return?.();
    },
  });
}

async function toMessage(content: OpenPgpContent): Promise<Message<MaybeStream<Uint8Array>>> {
  const { createMessage } = await openpgp();
  if (content instanceof Uint8Array) return createMessage({ binary: content });
  switch (content.kind) {
    case 'bytes':
      return createMessage({ binary: content.bytes });
    case 'file': {
      // Checked up front so that a missing file is ERR_INPUT_UNREADABLE before any key is touched.
      const st = await stat(content.path).catch((e: unknown) => {
        throw unreadable(content.path, e);
      });
      if (!st.isFile()) {
        throw new VouchError('ERR_INPUT_UNREADABLE', `${content.path} is not a regular file`);
      }
      return createMessage({ binary: fileStream(content.path) });
    }
    case 'digest':
      throw new VouchError('ERR_USAGE', 'OpenPGP signatures need the artifact itself, not only its digest');
  }
}

// openpgp's streams are read through `getReader` only: that is the method openpgp re-points when it clones
// a stream; the async iterator stays on the old, locked one.

/** Reads openpgp's output (a value, or a web stream of small values such as armor text) to the end. */
async function drain<T>(value: T | ReadableStream<T>): Promise<T[]> {
  if (!(value instanceof ReadableStream)) return [value];
  const reader = value.getReader();
  const parts: T[] = [];
  for (;;) {
    const next = await reader.read();
    if (next.done) return parts;
    parts.push(next.value);
  }
}

/** Reads a stream to the end and drops what it reads, so that a large artifact is never held in memory. */
async function discard(value: unknown): Promise<void> {
  if (!(value instanceof ReadableStream)) return;
  const reader = value.getReader();
  for (;;) if ((await reader.read()).done) return;
}

function upperHex(hex: string): string {
  return hex.toUpperCase();
}

function textOf(input: string | Uint8Array): string | undefined {
  if (typeof input === 'string') return input;
  // Armored input given as bytes: sniff the armor header line (RFC 9580 §6.2), allowing leading whitespace.
  const head = Buffer.from(input.subarray(0, 64)).toString('latin1').trimStart();
  return head.startsWith('-----BEGIN PGP ') ? Buffer.from(input).toString('utf8') : undefined;
}

/**
 * Generates a signing-only OpenPGP key (v4, so that gpg 2.2 reads it): Ed25519 (EdDSA, RFC 9580
 * §5.5.5.5 legacy form) or RSA 3072, no encryption subkey, no expiry, the secret encrypted under
 * `passphrase` (iterated and salted S2K with AES-256, RFC 9580 §3.7.1.3).
 */
export async function generateOpenPgpKey(o: {
  name: string;
  email?: string;
  passphrase: string;
  algorithm?: 'ed25519' | 'rsa3072';
}): Promise<GeneratedOpenPgpKey> {
  const { generateKey } = await openpgp();
  if (o.passphrase.length === 0) {
    throw new VouchError('ERR_KEY_PASSWORD_MISSING', 'an empty passphrase is refused');
  }
  if (o.name.trim().length === 0) throw new VouchError('ERR_USAGE', 'an OpenPGP key needs a name');
  const userID = o.email === undefined ? { name: o.name } : { name: o.name, email: o.email };
  const kind =
    (o.algorithm ?? 'ed25519') === 'ed25519'
      ? ({ type: 'ecc', curve: 'ed25519Legacy' } as const)
      : ({ type: 'rsa', rsaBits: 3072 } as const);
  let pair: { privateKey: PrivateKey; publicKey: PublicKey };
  try {
    pair = await generateKey({
      ...kind,
      userIDs: [userID],
      passphrase: o.passphrase,
      subkeys: [],
      format: 'object',
    });
  } catch (e) {
    // The user ID is the only input openpgp can refuse here (e.g. a malformed email address).
    throw new VouchError('ERR_USAGE', `cannot generate an OpenPGP key: ${(e as Error).message}`);
  }
  return {
    privateKeyArmored: pair.privateKey.armor(),
    publicKeyArmored: pair.publicKey.armor(),
    fingerprint: upperHex(pair.privateKey.getFingerprint()),
  };
}

async function unlock(key: PrivateKey, passphrase: () => Promise<string>): Promise<PrivateKey> {
  const { decryptKey } = await openpgp();
  if (key.isDecrypted()) return key;
  const pass = await passphrase();
  try {
    return await decryptKey({ privateKey: key, passphrase: pass });
  } catch {
    // No cause attached: openpgp's error may describe the decrypted material; the passphrase itself and
    // anything derived from it must never reach a message or a log.
    throw new VouchError('ERR_KEY_PASSWORD', 'cannot decrypt the OpenPGP private key: wrong passphrase');
  }
}

/**
 * Signs `content` with the key's signing key (primary or subkey) and returns an ASCII-armored detached
 * signature (RFC 9580 §6.2, "PGP SIGNATURE") that `gpg --verify sig file` accepts. The passphrase is asked
 * for only when the key is encrypted.
 */
export async function signOpenPgpDetached(
  content: OpenPgpContent,
  armoredPrivateKey: string,
  passphrase: () => Promise<string>,
): Promise<string> {
  const pgp = await openpgp();
  const { readPrivateKey, sign } = pgp;
  let key: PrivateKey;
  try {
    key = await readPrivateKey({ armoredKey: armoredPrivateKey });
  } catch {
    throw new VouchError('ERR_PGP_MALFORMED', 'the OpenPGP private key cannot be parsed');
  }
  const unlocked = await unlock(key, passphrase);
  const message = await toMessage(content);
  let armored: string;
  try {
    // `format: 'object'`, not 'armored': for a streamed artifact openpgp's armored path buffers the whole
    // message. Here the literal data is read and dropped while the hash follows it (a passive clone), and
    // the signature packet completes when the data ends. Despite the typings, a detached sign returns a
    // Signature.
    const out: unknown = await sign({ message, signingKeys: unlocked, detached: true, format: 'object' });
    if (!(out instanceof pgp.Signature))
      throw new VouchError('ERR_INTERNAL', 'openpgp returned no signature');
    const [parts] = await Promise.all([drain<string>(out.armor()), discard(message.getLiteralData())]);
    armored = parts.join('');
  } catch (e) {
    if (e instanceof VouchError) throw e;
    // Expired, revoked or sign-incapable keys end here; the message is generic so no key detail leaks.
    throw new VouchError(
      'ERR_PGP_KEY_UNUSABLE',
      'the OpenPGP key cannot sign (expired, revoked or without a signing key)',
    );
  }
  return armored;
}

/** Parses a detached signature and returns its document signatures (RFC 9580 §5.2.1: binary 0x00, text 0x01). */
async function parseSignature(input: string | Uint8Array): Promise<SignaturePacket[]> {
  const { enums, readSignature } = await openpgp();
  const text = textOf(input);
  let sig: Signature;
  try {
    sig =
      text === undefined
        ? await readSignature({ binarySignature: input as Uint8Array })
        : await readSignature({ armoredSignature: text });
  } catch (e) {
    throw new VouchError('ERR_PGP_MALFORMED', 'the OpenPGP signature cannot be parsed', { cause: e });
  }
  const usable = sig.packets.filter(
    (p) => p.signatureType === enums.signature.binary || p.signatureType === enums.signature.text,
  );
  if (usable.length === 0) {
    throw new VouchError('ERR_PGP_MALFORMED', 'the input holds no OpenPGP document signature');
  }
  return usable;
}

// One armored key block; a keyring file is often several blocks concatenated (`cat a.asc b.asc`).
const KEY_BLOCK = /-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP \1 KEY BLOCK-----/g;

async function parsePublicKeys(input: string | Uint8Array): Promise<PublicKey[]> {
  const { readKeys } = await openpgp();
  const text = textOf(input);
  let keys: Key[];
  try {
    if (text === undefined) {
      keys = await readKeys({ binaryKeys: input as Uint8Array });
    } else {
      const blocks = text.match(KEY_BLOCK) ?? [text];
      keys = (await Promise.all(blocks.map((armoredKeys) => readKeys({ armoredKeys })))).flat();
    }
  } catch (e) {
    throw new VouchError('ERR_PGP_MALFORMED', 'the OpenPGP public key cannot be parsed', { cause: e });
  }
  if (keys.length === 0) throw new VouchError('ERR_PGP_MALFORMED', 'no OpenPGP key was given');
  // A secret key given by mistake is used for its public half only.
  return keys.map((k) => k.toPublic());
}

/** What `describeOpenPgpKeys` reports per certificate (for `vouch inspect` and key listings). */
export interface OpenPgpKeyInfo {
  /** Key packet version: 4 (RFC 4880) or 6 (RFC 9580). */
  readonly version: number;
  readonly fingerprint: string;
  readonly keyId: string;
  readonly algorithm: string;
  readonly created: Date;
  readonly userIds: readonly string[];
}

/** Parses OpenPGP certificates (armored or binary, one or a keyring); unparseable input is ERR_PGP_MALFORMED. */
export async function describeOpenPgpKeys(publicKeys: string | Uint8Array): Promise<OpenPgpKeyInfo[]> {
  return (await parsePublicKeys(publicKeys)).map((k) => ({
    version: k.keyPacket.version,
    fingerprint: upperHex(k.getFingerprint()),
    keyId: upperHex(k.getKeyID().toHex()),
    algorithm: k.getAlgorithmInfo().algorithm,
    created: k.getCreationTime(),
    userIds: k.getUserIDs(),
  }));
}

/**
 * Verifies a detached OpenPGP signature (armored or binary) over `content` against the given public keys,
 * which are the caller's trust decision. The signing key must have been valid (not expired, not revoked)
 * when the signature was made; a hard revocation (compromise, or no reason given) voids every signature
 * (the Reason for Revocation subpacket, RFC 9580 §5.2.3). The signature must not be dated after `at` (default now).
 *
 * The signature and keys are attacker-controlled input: every parse failure is ERR_PGP_MALFORMED, every
 * failed check ERR_PGP_SIGNATURE, and openpgp's exceptions never decide the outcome on their own.
 * With several signatures in one file, the first that verifies is reported.
 */
export async function verifyOpenPgpDetached(
  content: OpenPgpContent,
  signature: string | Uint8Array,
  publicKeys: string | Uint8Array,
  o: { at?: Date } = {},
): Promise<OpenPgpVerification> {
  const pgp = await openpgp();
  const { PacketList, verify } = pgp;
  const packets = await parseSignature(signature);
  const keys = await parsePublicKeys(publicKeys);
  const candidates = packets.flatMap((packet) => {
    const signer = keys.find((k) => k.getKeys(packet.issuerKeyID).length > 0);
    return signer === undefined ? [] : [{ packet, signer }];
  });
  // Refuse before reading a possibly huge artifact when no given key could have made the signature.
  if (candidates.length === 0) {
    const ids = packets.map((p) => upperHex(p.issuerKeyID.toHex())).join(', ');
    throw new VouchError('ERR_PGP_SIGNATURE', `the signature was made by key ${ids}, which was not given`);
  }
  let lastFailure: unknown;
  for (const { packet, signer } of candidates) {
    // One signature per pass: a detached verification consumes the (possibly streamed) artifact.
    const single = new PacketList<SignaturePacket>();
    single.push(packet);
    try {
      const result = await verify({
        message: await toMessage(content),
        signature: new pgp.Signature(single),
        verificationKeys: signer,
        format: 'binary',
        date: o.at ?? new Date(),
        expectSigned: false,
      });
      // The hash sees the streamed artifact only as `data` is read (openpgp clones the stream passively).
      await discard(result.data);
      const [check] = result.signatures;
      if (check === undefined) continue;
      await check.verified;
    } catch (e) {
      // A failure to read the artifact is not a bad signature.
      if (e instanceof VouchError) throw e;
      lastFailure = e;
      continue;
    }
    if (packet.created === null) continue;
    return {
      fingerprint: upperHex(signer.getFingerprint()),
      keyId: upperHex(packet.issuerKeyID.toHex()),
      created: packet.created,
      userIds: signer.getUserIDs(),
    };
  }
  throw new VouchError('ERR_PGP_SIGNATURE', failureMessage(lastFailure), { cause: lastFailure });
}

// The verdict is already "failed"; openpgp's text only chooses which explanation the user reads.
function failureMessage(failure: unknown): string {
  const reason = failure instanceof Error ? failure.message : '';
  if (/expired|revoked|newer than the signature/i.test(reason)) {
    return 'the OpenPGP signing key was not valid (expired, revoked or not yet created) when the signature was made';
  }
  if (/in the future/i.test(reason)) return 'the OpenPGP signature is dated after the verification time';
  return 'the OpenPGP signature does not verify';
}
