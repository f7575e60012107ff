import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { VouchError } from '../core/index.js';
import { ALGORITHMS, algorithmForKey, verifyBytes } from '../crypto/index.js';
import { cosignedMessage, splitCosignature } from './cosignature.js';
import type { NoteVerifier } from './note.js';
import { decodeStdBase64, isKeyName } from './text.js';

/** C2SP signed-note signature type bytes. */
const TYPE_ED25519 = 0x01;
const TYPE_COSIGNATURE_V1 = 0x04;
/** rekor-tiles (pkg/note): RSA keys hash under the "undefined" type 0xff followed by this identifier. */
const RSA_KEY_ID_TYPE = Buffer.concat([Uint8Array.of(0xff), Buffer.from('PKIX-RSA-PKCS#1v1.5', 'ascii')]);
const ED25519_KEY_BYTES = 32;

/** C2SP signed-note: key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]. */
function c2spKeyHash(name: string, typeAndKey: Uint8Array): Buffer {
  return createHash('sha256').update(name, 'utf8').update('\n').update(typeAndKey).digest().subarray(0, 4);
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

function ed25519Raw(key: KeyObject): Buffer {
  // RFC 8410 §4: an Ed25519 SPKI is a fixed 12-byte header followed by the 32-byte public key.
  return spki(key).subarray(-ED25519_KEY_BYTES);
}

function ed25519FromRaw(raw: Uint8Array, what: string): KeyObject {
  try {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
      format: 'jwk',
    });
  } catch (e) {
    throw new VouchError('ERR_KEY_MALFORMED', `${what} is not an Ed25519 public key`, { cause: e });
  }
}

function ed25519Verify(key: KeyObject) {
  return (msg: Uint8Array, sig: Uint8Array): boolean => verifyBytes(ALGORITHMS.ed25519, key, msg, sig);
}

function cosignatureVerify(key: KeyObject) {
  return (msg: Uint8Array, sig: Uint8Array): boolean => {
    const parts = splitCosignature(sig);
    if (parts === undefined) return false;
    return verifyBytes(ALGORITHMS.ed25519, key, cosignedMessage(parts.timestamp, msg), parts.signature);
  };
}

/**
 * Reads a C2SP verifier key, `<name>+<hex key ID>+base64(type || key)`, checking that the key ID matches.
 * Types: 0x01 Ed25519 note signatures (Go sumdb, Tessera logs), 0x04 Ed25519 cosignature/v1 (witnesses).
 * ERR_KEY_MALFORMED for a bad vkey, ERR_ALG_UNSUPPORTED for another type byte.
 */
export function noteVerifierFromVkey(vkey: string): NoteVerifier {
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw new VouchError('ERR_KEY_MALFORMED', 'verifier key is not name+keyid+key');
  const name = vkey.slice(0, first);
  const hashHex = vkey.slice(first + 1, second);
  const key = decodeStdBase64(vkey.slice(second + 1));
  if (!isKeyName(name) || !/^[0-9a-fA-F]{8}$/.test(hashHex) || key === undefined || key.byteLength === 0) {
    throw new VouchError('ERR_KEY_MALFORMED', 'verifier key is not name+keyid+key');
  }
  const keyHash = c2spKeyHash(name, key);
  if (keyHash.toString('hex') !== hashHex.toLowerCase()) {
    throw new VouchError('ERR_KEY_MALFORMED', `verifier key ID ${hashHex} does not match the key of ${name}`);
  }
  const type = key[0];
  const raw = key.subarray(1);
  if (type !== TYPE_ED25519 && type !== TYPE_COSIGNATURE_V1) {
    throw new VouchError(
      'ERR_ALG_UNSUPPORTED',
      `verifier key type 0x${(type ?? 0).toString(16)} is not supported`,
    );
  }
  if (raw.byteLength !== ED25519_KEY_BYTES) {
    throw new VouchError('ERR_KEY_MALFORMED', `verifier key for ${name} is not a 32-byte Ed25519 key`);
  }
  const pub = ed25519FromRaw(raw, `verifier key for ${name}`);
  const verify = type === TYPE_ED25519 ? ed25519Verify(pub) : cosignatureVerify(pub);
  return { name, keyHash, verify };
}

/**
 * A verifier for checkpoints signed by a Sigstore log with its PKIX key, the way the log computes the key ID:
 * - ECDSA (Rekor v1, rekor-tiles): SHA-256(SPKI DER)[:4]; ASN.1 DER ECDSA over the note text with the
 *   curve's hash (SHA-256 for P-256, SHA-384 for P-384);
 * - Ed25519 (rekor-tiles): the C2SP Ed25519 key ID, SHA-256(name || 0x0A || 0x01 || 32-byte key)[:4];
 * - RSA (rekor-tiles): SHA-256(name || 0x0A || 0xFF || "PKIX-RSA-PKCS#1v1.5" || SPKI DER)[:4];
 *   PKCS#1 v1.5 with SHA-256.
 * `name` is the key name on the signature line: the log's host name for Rekor v1 ("rekor.sigstore.dev"),
 * the checkpoint origin for Rekor v2 (the host of its base URL). ERR_USAGE for an invalid name;
 * ERR_ALG_UNSUPPORTED / ERR_ALG_WEAK for other keys.
 */
export function noteVerifierFromPublicKey(name: string, key: KeyObject): NoteVerifier {
  if (!isKeyName(name)) throw new VouchError('ERR_USAGE', `"${name}" is not a valid note key name`);
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const alg = algorithmForKey(pub, 'pkcs1');
  switch (alg.keyType) {
    case 'ed25519':
      return {
        name,
        keyHash: c2spKeyHash(name, Buffer.concat([Uint8Array.of(TYPE_ED25519), ed25519Raw(pub)])),
        verify: ed25519Verify(pub),
      };
    case 'ec':
      return {
        name,
        keyHash: createHash('sha256').update(spki(pub)).digest().subarray(0, 4),
        verify: (msg, sig) => verifyBytes(alg, pub, msg, sig),
      };
    case 'rsa':
      return {
        name,
        keyHash: c2spKeyHash(name, Buffer.concat([RSA_KEY_ID_TYPE, spki(pub)])),
        verify: (msg, sig) => verifyBytes(alg, pub, msg, sig),
      };
  }
}
