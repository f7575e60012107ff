import { VouchError } from '../core/index.js';
import { byteLength, decodeStdBase64, isNoteText, MAX_NOTE_BYTES } from './text.js';

/** A transparency log checkpoint body (C2SP tlog-checkpoint). */
export interface Checkpoint {
  /** Log identity, e.g. "log2025-1.rekor.sigstore.dev" or "rekor.sigstore.dev - 1193050959916656506". */
  origin: string;
  size: bigint;
  /** RFC 6962 root hash (SHA-256) of the first `size` leaves. */
  rootHash: Uint8Array;
  /** Opaque extension lines (Rekor v1 wrote "Timestamp: <ns>"). */
  extensions: string[];
}

const MAX_UINT64 = (1n << 64n) - 1n;
const ROOT_HASH_BYTES = 32;
// tlog-checkpoint: ASCII decimal with no leading zeros; "0" only for the empty tree.
const DECIMAL = /^(?:0|[1-9][0-9]{0,19})$/;

function invalid(message: string): VouchError {
  return new VouchError('ERR_CHECKPOINT_INVALID', message);
}

/**
 * Parses the body of a checkpoint note (`Note.text`, ending in "\n"): origin, tree size, base64 root hash,
 * then optional extension lines, all non-empty. Refused as ERR_CHECKPOINT_INVALID: fewer than three lines,
 * an empty line, a missing final newline, control characters, a size that is not a canonical uint64 decimal,
 * or a root hash that is not standard base64 of 32 bytes. Parse only a body whose note signature verified;
 * the origin is not checked here, so compare it with the log the caller expects.
 */
export function parseCheckpoint(body: string): Checkpoint {
  if (byteLength(body) > MAX_NOTE_BYTES) throw invalid(`checkpoint is larger than ${MAX_NOTE_BYTES} bytes`);
  if (!isNoteText(body)) throw invalid('checkpoint contains a control character or is not valid UTF-8');
  if (!body.endsWith('\n')) throw invalid('checkpoint does not end in a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3)
    throw invalid(`checkpoint has ${lines.length} lines; origin, size and root hash are required`);
  if (lines.some((l) => l.length === 0)) throw invalid('checkpoint has an empty line');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];

  if (!DECIMAL.test(sizeText))
    throw invalid(`checkpoint size "${sizeText.slice(0, 32)}" is not a canonical decimal`);
  const size = BigInt(sizeText);
  if (size > MAX_UINT64) throw invalid(`checkpoint size ${sizeText} is larger than a uint64`);

  const rootHash = decodeStdBase64(rootText);
  if (rootHash === undefined || rootHash.byteLength !== ROOT_HASH_BYTES) {
    throw invalid('checkpoint root hash is not base64 of a 32-byte SHA-256 hash');
  }
  return { origin, size, rootHash, extensions };
}
