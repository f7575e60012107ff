import { readInput } from '../core/index.js';
import { parseCertificates } from '../crypto/index.js';

/** Reads a PEM file of certificates (a signing certificate, a chain, a CA bundle) as DER, each one parsed. */
export async function readCertificates(path: string): Promise<Uint8Array[]> {
  const text = (await readInput(path, 4 * 1024 * 1024)).toString('utf8');
  return parseCertificates(text, path).map((c) => new Uint8Array(c.rawData));
}
