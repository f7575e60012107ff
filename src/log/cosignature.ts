import { VouchError } from '../core/index.js';
import type { NoteSignature } from './note.js';

/**
 * C2SP tlog-cosignature v1 (Ed25519, signature type 0x04): a witness signs
 * "cosignature/v1\ntime <ts>\n" || checkpoint body, and its note signature is
 * timestamp (u64, big-endian) || Ed25519 signature (64 bytes).
 */

const TIMESTAMP_BYTES = 8;
const ED25519_SIGNATURE_BYTES = 64;
/** tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1. */
const MAX_TIMESTAMP = (1n << 63n) - 1n;

export interface TimestampedSignature {
  /** POSIX seconds at which the witness cosigned. */
  timestamp: bigint;
  signature: Uint8Array;
}

/** Splits a cosignature's bytes (after the key hash), or returns undefined if they have the wrong shape. */
export function splitCosignature(sig: Uint8Array): TimestampedSignature | undefined {
  if (sig.byteLength !== TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES) return undefined;
  const bytes = Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength);
  const timestamp = bytes.readBigUInt64BE(0);
  if (timestamp > MAX_TIMESTAMP) return undefined;
  return { timestamp, signature: bytes.subarray(TIMESTAMP_BYTES) };
}

/** tlog-cosignature §Ed25519 signed message: header line, time line (decimal, no leading zeros), body. */
export function cosignedMessage(timestamp: bigint, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`cosignature/v1\ntime ${timestamp.toString(10)}\n`, 'utf8'), body]);
}

/**
 * The time a witness claims to have cosigned, read from a note signature in the cosignature/v1 layout.
 * Read it only from a signature that `verifyNote` accepted with a cosignature verifier; before that it is
 * attacker-controlled. ERR_NOTE_MALFORMED when the bytes are not timestamp || Ed25519 signature.
 */
export function cosignatureTimestamp(sig: NoteSignature): bigint {
  const parts = splitCosignature(sig.signature);
  if (parts === undefined) {
    throw new VouchError('ERR_NOTE_MALFORMED', `signature by ${sig.name} is not a cosignature/v1 signature`);
  }
  return parts.timestamp;
}
