/**
 * Strict text rules shared by signed notes, checkpoints and verifier keys (C2SP signed-note,
 * tlog-checkpoint). Everything passed here may be attacker-controlled.
 */

/** Notes larger than this are refused before any parsing; real checkpoints are a few hundred bytes. */
export const MAX_NOTE_BYTES = 1 << 20;
/** C2SP signed-note: verifiers SHOULD cap the signature count and MUST accept at least 16 (Go uses 100). */
export const MAX_NOTE_SIGNATURES = 100;

/** UTF-8 size of a note; a string clearly over the limit is not measured exactly (one unit ≥ one byte). */
export function byteLength(note: string | Uint8Array): number {
  if (typeof note !== 'string') return note.byteLength;
  return note.length > MAX_NOTE_BYTES ? note.length : Buffer.byteLength(note, 'utf8');
}

// RFC 4648 §4 only, with padding: C2SP formats use the standard alphabet, and one value has one encoding.
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes standard padded base64, or returns undefined; non-zero padding bits are refused too. */
export function decodeStdBase64(text: string): Buffer | undefined {
  if (!STD_BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * C2SP signed-note: text MUST be valid UTF-8 with no ASCII control character but newline. A JS string is
 * valid UTF-8 exactly when it has no unpaired surrogate.
 */
export function isNoteText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** C2SP signed-note: key names are non-empty, with no Unicode space and no "+". */
export function isKeyName(name: string): boolean {
  return name.length > 0 && isNoteText(name) && !/[\p{White_Space}+]/u.test(name);
}

/** Strict UTF-8 that keeps a leading BOM, so the text is byte-for-byte what was signed. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8Exact(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
