import type { KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { readInput, VouchError } from '../core/index.js';
import { loadPrivateKey, loadPublicKey } from './keys.js';
import { createFileSigner, type Signer } from './signer.js';

/** What a key reference needs from its caller: the passphrase, asked for only when a key is encrypted. */
export interface KeyRefOptions {
  passphrase?: () => Promise<string>;
  env?: NodeJS.ProcessEnv;
}

interface ParsedRef {
  scheme: string;
  rest: string;
}

/** `file:`, `env:` and (later) `pkcs11:`, `vouch:`; a plain path means a file. */
export function parseKeyRef(ref: string): ParsedRef {
  const m = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(ref);
  // One-letter "schemes" are Windows drive letters, i.e. paths.
  if (m === null || (m[1] as string).length === 1) return { scheme: 'file', rest: ref };
  return { scheme: (m[1] as string).toLowerCase(), rest: m[2] as string };
}

async function readRef(ref: string, opts: KeyRefOptions): Promise<{ data: Buffer; what: string }> {
  const { scheme, rest } = parseKeyRef(ref);
  switch (scheme) {
    case 'file': {
      const path = rest.startsWith('//') ? fileURLToPath(`file:${rest}`) : rest;
      return { data: await readInput(path, 1024 * 1024), what: path };
    }
    case 'env': {
      const value = (opts.env ?? process.env)[rest];
      if (value === undefined || value === '') {
        throw new VouchError('ERR_KEYREF_NOT_FOUND', `environment variable ${rest} is not set`);
      }
      return { data: Buffer.from(value, 'utf8'), what: `env:${rest}` };
    }
    case 'pkcs11':
    case 'vouch':
      throw new VouchError(
        'ERR_KEYREF_SCHEME',
        `key reference scheme "${scheme}:" is not available in this version`,
      );
    default:
      throw new VouchError(
        'ERR_KEYREF_SCHEME',
        `unknown key reference scheme "${scheme}:" (use a path, file: or env:)`,
      );
  }
}

const noPassphrase = async (): Promise<string> => {
  throw new VouchError('ERR_KEY_PASSWORD_MISSING', 'the key is encrypted and no passphrase was given');
};

/** Resolves a private-key reference to a Signer. */
export async function signerFromRef(ref: string, opts: KeyRefOptions = {}): Promise<Signer> {
  const { data, what } = await readRef(ref, opts);
  return createFileSigner(await loadPrivateKey(data, opts.passphrase ?? noPassphrase, what));
}

/** Resolves a public-key reference (SPKI PEM/DER or certificate PEM). */
export async function publicKeyFromRef(ref: string, opts: KeyRefOptions = {}): Promise<KeyObject> {
  const { data, what } = await readRef(ref, opts);
  return loadPublicKey(data, what);
}
