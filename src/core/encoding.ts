import { VouchError } from './errors.js';

// Standard (RFC 4648 §4) or URL-safe (§5) alphabet; protobuf JSON accepts both, so Sigstore bundles may use either.
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const B64URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Strict base64 decode: Node's own decoder silently skips bad characters, which must never decide a verdict. */
export function fromBase64(text: string, what = 'base64 value'): Buffer {
  if (typeof text !== 'string' || !(B64.test(text) || B64URL.test(text))) {
    throw new VouchError('ERR_BASE64', `${what} is not valid base64`);
  }
  return Buffer.from(text, B64.test(text) ? 'base64' : 'base64url');
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
