import { bytesEqual, toHex, VouchError } from '../core/index.js';
import {
  byteLength,
  decodeStdBase64,
  decodeUtf8Exact,
  isKeyName,
  isNoteText,
  MAX_NOTE_BYTES,
  MAX_NOTE_SIGNATURES,
} from './text.js';

/** One signature line of a signed note (C2SP signed-note): `— <name> base64(keyHash || signature)`. */
export interface NoteSignature {
  name: string;
  /** The 4-byte key ID (big-endian uint32) that, with the name, selects the verifying key. */
  keyHash: Uint8Array;
  signature: Uint8Array;
}

export interface Note {
  /** The signed body, ending in "\n" (the blank separator line is not part of it). */
  text: string;
  signatures: NoteSignature[];
}

/**
 * A trusted key for signed notes. `verify` gets the exact note text bytes and the signature bytes after the
 * key hash; it returns false on a bad signature and never throws for one.
 */
export interface NoteVerifier {
  name: string;
  keyHash: Uint8Array;
  verify(msg: Uint8Array, sig: Uint8Array): boolean;
}

const SIG_PREFIX = '\u2014 ';
const KEY_HASH_BYTES = 4;

function malformed(message: string): VouchError {
  return new VouchError('ERR_NOTE_MALFORMED', message);
}

/**
 * Parses a signed note without verifying it (C2SP signed-note). Refused as ERR_NOTE_MALFORMED: more than
 * 1 MiB or 100 signatures, invalid UTF-8, control characters, no blank line before the signatures, a
 * signature block that is empty or does not end in a newline, a line that is not a signature, an invalid key
 * name, and non-canonical base64. The input is attacker-controlled; nothing here is trusted yet.
 */
export function parseNote(note: string | Uint8Array): Note {
  if (byteLength(note) > MAX_NOTE_BYTES) throw malformed(`note is larger than ${MAX_NOTE_BYTES} bytes`);
  const text = typeof note === 'string' ? note : decodeUtf8Exact(note);
  if (text === undefined) throw malformed('note is not valid UTF-8');
  if (!isNoteText(text)) throw malformed('note contains a control character or is not valid UTF-8');

  // The text may hold blank lines; the last one separates it from the signatures.
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw malformed('note has no blank line before its signatures');
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n'))
    throw malformed('note signature block is empty or unterminated');

  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw malformed(`note has ${lines.length} signatures; at most ${MAX_NOTE_SIGNATURES} are read`);
  }
  const signatures = lines.map((line, i): NoteSignature => {
    if (!line.startsWith(SIG_PREFIX))
      throw malformed(`note signature line ${i + 1} does not start with "— "`);
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const bytes = space < 0 ? undefined : decodeStdBase64(rest.slice(space + 1));
    if (!isKeyName(name)) throw malformed(`note signature line ${i + 1} has an invalid key name`);
    if (bytes === undefined || bytes.byteLength <= KEY_HASH_BYTES) {
      throw malformed(`note signature line ${i + 1} is not base64 of a key hash and a signature`);
    }
    return { name, keyHash: bytes.subarray(0, KEY_HASH_BYTES), signature: bytes.subarray(KEY_HASH_BYTES) };
  });
  return { text: body, signatures };
}

function keyLabel(name: string, keyHash: Uint8Array): string {
  return `${name}+${toHex(keyHash)}`;
}

/**
 * Verifies a parsed note against trusted keys (C2SP signed-note §Signatures) and returns the verifiers
 * whose signature verified, in signature order, each once. Signatures whose name and key hash match no
 * verifier are ignored. ERR_NOTE_SIGNATURE: a signature from a known key does not verify (the whole note is
 * rejected), a signature matches two verifiers (ambiguous trust configuration), or no known key signed.
 */
export function verifyNote(note: Note, verifiers: readonly NoteVerifier[]): NoteVerifier[] {
  const msg = Buffer.from(note.text, 'utf8');
  const verified: NoteVerifier[] = [];
  for (const sig of note.signatures) {
    const matches = verifiers.filter((v) => v.name === sig.name && bytesEqual(v.keyHash, sig.keyHash));
    const label = keyLabel(sig.name, sig.keyHash);
    if (matches.length === 0) continue;
    if (matches.length > 1) {
      throw new VouchError('ERR_NOTE_SIGNATURE', `ambiguous key ${label}: several trusted keys match`, {
        details: { key: label },
      });
    }
    const verifier = matches[0] as NoteVerifier;
    let ok: boolean;
    try {
      ok = verifier.verify(msg, sig.signature) === true;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new VouchError('ERR_NOTE_SIGNATURE', `invalid note signature for key ${label}`, {
        details: { key: label },
      });
    }
    if (!verified.includes(verifier)) verified.push(verifier);
  }
  if (verified.length === 0) {
    throw new VouchError('ERR_NOTE_SIGNATURE', 'note has no signature from a trusted key', {
      details: { signatures: note.signatures.map((s) => keyLabel(s.name, s.keyHash)) },
    });
  }
  return verified;
}
