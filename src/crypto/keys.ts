import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  generateKeyPair as nodeGenerateKeyPair,
} from 'node:crypto';
import { promisify } from 'node:util';
import { VouchError } from '../core/index.js';
import { type Algorithm, algorithmForKey } from './algorithms.js';

const generate = promisify(nodeGenerateKeyPair);

export interface KeyPair {
  readonly algorithm: Algorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export async function generateKeyPair(alg: Algorithm): Promise<KeyPair> {
  if (!alg.sign) throw new VouchError('ERR_ALG_UNSUPPORTED', `${alg.id} is accepted for verification only`);
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  switch (alg.keyType) {
    case 'ed25519':
      pair = await generate('ed25519');
      break;
    case 'ec':
      pair = await generate('ec', { namedCurve: alg.curve as string });
      break;
    case 'rsa':
      // Plain rsaEncryption SPKI (not id-RSASSA-PSS): it is what cosign, openssl and Sigstore clients read.
      pair = await generate('rsa', { modulusLength: alg.bits ?? 3072, publicExponent: 0x10001 });
      break;
  }
  return { algorithm: alg, ...pair };
}

// Exporting the SPKI costs more than a signature check, and verifiers see the same KeyObject again and again.
const keyIds = new WeakMap<KeyObject, string>();

/** Key id = lowercase hex SHA-256 of the SubjectPublicKeyInfo DER (the form Sigstore's keyid uses). */
export function keyIdOf(key: KeyObject): string {
  let id = keyIds.get(key);
  if (id === undefined) {
    const pub = key.type === 'private' ? createPublicKey(key) : key;
    id = createHash('sha256')
      .update(pub.export({ type: 'spki', format: 'der' }))
      .digest('hex');
    keyIds.set(key, id);
  }
  return id;
}

export function exportPublicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }) as string;
}

/** Encrypted PKCS#8 PEM (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC, as OpenSSL 3 writes it). */
export function exportPrivateKeyPem(key: KeyObject, passphrase: string): string {
  if (passphrase.length === 0)
    throw new VouchError('ERR_KEY_PASSWORD_MISSING', 'an empty passphrase is refused');
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
}

function isEncryptedPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type:\s*4,ENCRYPTED/.test(pem);
}

/**
 * Reads a private key PEM. The passphrase is asked for only when the key is encrypted; a wrong one is
 * ERR_KEY_PASSWORD, anything unparseable ERR_KEY_MALFORMED. The passphrase never appears in a message.
 */
export async function loadPrivateKey(
  pem: string | Uint8Array,
  passphrase: () => Promise<string>,
  what = 'private key',
): Promise<KeyObject> {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new VouchError('ERR_KEY_MALFORMED', `${what} is not a PEM private key`);
  }
  const encrypted = isEncryptedPem(text);
  const pass = encrypted ? await passphrase() : undefined;
  let key: KeyObject;
  try {
    key =
      pass === undefined
        ? createPrivateKey(text)
        : createPrivateKey({ key: text, format: 'pem', passphrase: pass });
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (encrypted && /BAD_DECRYPT|DECRYPT|PASSPHRASE|unsupported/i.test(`${code} ${(e as Error).message}`)) {
      throw new VouchError('ERR_KEY_PASSWORD', `cannot decrypt ${what}: wrong passphrase`);
    }
    throw new VouchError('ERR_KEY_MALFORMED', `${what} cannot be parsed`);
  }
  algorithmForKey(key);
  return key;
}

/** The DER inside a single-block `PUBLIC KEY` PEM, or undefined for other PEM kinds (certificates). */
function spkiFromPem(text: string): Buffer | undefined {
  const m = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]*)-----END PUBLIC KEY-----/.exec(text);
  return m === null ? undefined : Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64');
}

/**
 * Reads a public key: SPKI PEM or DER, or the public key of an X.509 certificate PEM. The SPKI must be the
 * canonical DER that re-encoding gives back: OpenSSL also accepts BER-ish variants (a BIT STRING with
 * "unused bits" set, say), and two encodings of one key would give two key ids. Found by the mutation
 * property test (test/properties).
 */
export function loadPublicKey(data: string | Uint8Array, what = 'public key'): KeyObject {
  let key: KeyObject;
  let der: Buffer | undefined;
  try {
    if (typeof data === 'string' || Buffer.from(data).subarray(0, 11).toString() === '-----BEGIN ') {
      const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
        throw new VouchError('ERR_KEY_MALFORMED', `${what} is a private key; give the public key (.pub)`);
      }
      der = spkiFromPem(text);
      key = createPublicKey(text);
    } else {
      der = Buffer.from(data);
      key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    }
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw new VouchError('ERR_KEY_MALFORMED', `${what} cannot be parsed`, { cause: e });
  }
  if (der !== undefined && !der.equals(key.export({ type: 'spki', format: 'der' }))) {
    throw new VouchError('ERR_KEY_MALFORMED', `${what} is not canonical DER`);
  }
  const alg = algorithmForKey(key);
  // SEC 1 §2.3.3: OpenSSL also reads the hybrid (0x06/0x07) and compressed point forms and keeps them on
  // export; accept only the uncompressed form every Sigstore and X.509 tool writes (Go refuses the others).
  if (der !== undefined && alg.keyType === 'ec') {
    const pointLen = alg.curve === 'secp384r1' ? 97 : 65;
    if (der[der.length - pointLen] !== 0x04 || der[der.length - pointLen - 1] !== 0x00) {
      throw new VouchError('ERR_KEY_MALFORMED', `${what} does not hold an uncompressed EC point`);
    }
  }
  return key;
}
