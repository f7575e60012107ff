import type * as Asn1js from 'asn1js';
import { bytesEqual } from '../core/index.js';
import { asn1jsLib } from './lazy.js';

/** Resource limits for asn1js on attacker-controlled input; each caller sizes its own for what it parses. */
export interface DerLimits {
  readonly maxDepth: number;
  readonly maxNodes: number;
  readonly maxContentLength: number;
}

/** The elements of a constructed value; none for a primitive one or a missing one. */
export function children(block: Asn1js.AsnType | undefined): Asn1js.AsnType[] {
  const v = (block?.valueBlock as { value?: unknown } | undefined)?.value;
  return Array.isArray(v) ? (v as Asn1js.AsnType[]) : [];
}

/** `tagClass` as asn1js numbers the X.690 §8.1.2.2 classes: 1 universal, 2 application, 3 context-specific. */
export function isTag(
  block: Asn1js.AsnType | undefined,
  tagClass: number,
  tag: number,
): block is Asn1js.AsnType {
  return block !== undefined && block.idBlock.tagClass === tagClass && block.idBlock.tagNumber === tag;
}

/** The value's encoding as received (identifier, length and contents), for signatures and comparisons. */
export function rawOf(block: { readonly valueBeforeDecodeView: Uint8Array }): Uint8Array {
  return new Uint8Array(block.valueBeforeDecodeView);
}

/**
 * Decodes exactly one DER value, or returns undefined when the input has trailing bytes or is BER but not
 * DER. asn1js accepts BER (even children overrunning their parent); DER (X.690 §10) has one encoding, so a
 * re-encoding that differs means the input was not DER. What asn1js throws on some malformed input is let
 * through, for callers that report it as a cause; `decodeStrictDer` turns it into undefined.
 */
export function parseStrictDer(bytes: Uint8Array, limits: DerLimits): Asn1js.AsnType | undefined {
  // The contents of OCTET and BIT STRINGs are decoded only on purpose, never speculatively.
  const parsed = asn1jsLib().fromBER(bytes, { ...limits, parseEmbedded: false });
  if (parsed.offset !== bytes.byteLength) return undefined;
  return bytesEqual(new Uint8Array(parsed.result.toBER(false)), bytes) ? parsed.result : undefined;
}

/** `parseStrictDer` that never throws: undefined for anything but exactly one DER value. */
export function decodeStrictDer(bytes: Uint8Array, limits: DerLimits): Asn1js.AsnType | undefined {
  try {
    return parseStrictDer(bytes, limits);
  } catch {
    return undefined;
  }
}
