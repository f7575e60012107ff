import { VouchError } from '../core/index.js';

/** Splits a PEM file into the DER bodies of its blocks (certificates, chains, CA bundles). */
export function pemToDerList(data: Uint8Array | string, what: string): Buffer[] {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  const out = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)].map((m) =>
    Buffer.from((m[2] as string).replace(/\s+/g, ''), 'base64'),
  );
  if (out.length === 0) throw new VouchError('ERR_CERT_MALFORMED', `${what} holds no PEM block`);
  return out;
}
