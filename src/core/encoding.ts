import { VouchError } from './errors.js';

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Strict base64 decode: standard (RFC 4648 §4) or URL-safe (§5) alphabet, padded or not — protobuf JSON
 * accepts all four, so Sigstore bundles may use any. Node's decoder silently skips bad characters, which must
 * never decide a verdict, so the input must be exactly what re-encoding the bytes gives back; that also
 * refuses non-zero trailing bits (RFC 4648 §3.5), i.e. a second spelling of the same bytes.
 */
export function fromBase64(text: string, what = 'base64 value'): Buffer {
  if (typeof text === 'string') {
    const bytes = Buffer.from(text, 'base64');
    const std = bytes.toString('base64');
    if (text === std) return bytes;
    const url = bytes.toString('base64url');
    const unpadded = std.replace(/=+$/, '');
    if (text === unpadded || text === url || text === url + std.slice(unpadded.length)) return bytes;
  }
  throw new VouchError('ERR_BASE64', `${what} is not valid base64`);
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function fromHex(text: string, what = 'hex value'): Buffer {
  if (typeof text !== 'string' || !HEX.test(text)) {
    throw new VouchError('ERR_HEX', `${what} is not valid hex`);
  }
  return Buffer.from(text, 'hex');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes UTF-8, refusing invalid sequences (ERR_INPUT_ENCODING) instead of inserting U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, what = 'input'): string {
  try {
    return UTF8.decode(bytes);
  } catch (e) {
    throw new VouchError('ERR_INPUT_ENCODING', `${what} is not valid UTF-8`, { cause: e });
  }
}

/** Constant-time equality for digests and MACs of equal length; different lengths are simply unequal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
