// Test PKI and transparency log for the verifier: a root and intermediate CA issuing Fulcio-style leaf
// certificates, and a Rekor-style log that writes entries with signed entry timestamps, inclusion proofs and
// signed checkpoints. Everything is generated per test run; nothing here is trusted outside the tests.
import 'reflect-metadata';
import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  KeyObject as NodeKeyObject,
  sign,
  webcrypto,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { canonicalJson, toBase64, toHex } from '../../src/core/index.js';
import { EKU_CODE_SIGNING } from '../../src/crypto/index.js';
import type { TransparencyLogEntry } from '../../src/envelope/index.js';
import { hashChildren, hashLeaf } from '../../src/log/index.js';
import type { AuthoritySpec, LogSpec, TimeRange } from '../../src/verify/trusted-root.js';

const subtle = webcrypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export const OIDC_ISSUER = 'https://token.example';
export const SUBJECT = 'https://github.com/example/repo/.github/workflows/release.yml@refs/heads/main';

// ----------------------------------------------------------------------------------------------- DER bits

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

export function utf8(s: string): Buffer {
  return tlv(0x0c, Buffer.from(s, 'utf8'));
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * (a as number) + (b as number)];
  for (const arc of rest) {
    const parts = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) parts.unshift(0x80 | (v & 0x7f));
    out.push(...parts);
  }
  return tlv(0x06, Buffer.from(out));
}

export type San = { type: 'uri' | 'email' | 'dns'; value: string } | { type: 'username'; value: string };

const SAN_TAGS = { email: 0x81, dns: 0x82, uri: 0x86 } as const;

export function sanValue(sans: readonly San[]): Buffer {
  return tlv(
    0x30,
    ...sans.map((s) =>
      s.type === 'username'
        ? tlv(0xa0, oid('1.3.6.1.4.1.57264.1.7'), tlv(0xa0, utf8(s.value)))
        : tlv(SAN_TAGS[s.type], Buffer.from(s.value)),
    ),
  );
}

// ------------------------------------------------------------------------------------------------ the PKI

export interface LeafOptions {
  sans?: readonly San[];
  /** Written as the 1.3.6.1.4.1.57264.1.8 extension (DER UTF8String); null for none. */
  issuer?: string | null;
  /** Written as the deprecated 1.3.6.1.4.1.57264.1.1 extension (raw bytes). */
  issuerV1?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Extended key usages; an empty list leaves the extension out. */
  eku?: readonly string[];
  /** Extra raw extensions: [oid, DER value]. */
  extensions?: readonly [string, Uint8Array][];
  /** Extra critical extensions: [oid, DER value]. */
  critical?: readonly [string, Uint8Array][];
  /** Issue from the root directly instead of the intermediate. */
  byRoot?: boolean;
}

export interface Leaf {
  der: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface Pki {
  rootDer: Buffer;
  intermediateDer: Buffer;
  /** The CA as a trusted root lists it: intermediate first, root last. */
  authority(validFor?: TimeRange): AuthoritySpec;
  issue(o?: LeafOptions): Promise<Leaf>;
}

const DAY = 86_400_000;
export const T0 = new Date('2024-06-01T12:00:00Z');

export async function makePki(): Promise<Pki> {
  const rootKeys = (await subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const intKeys = (await subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Test Root,O=vouch-test',
    notBefore: new Date(T0.getTime() - 365 * DAY),
    notAfter: new Date(T0.getTime() + 365 * DAY),
    keys: rootKeys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=Test Intermediate,O=vouch-test',
    issuer: root.subject,
    notBefore: new Date(T0.getTime() - 300 * DAY),
    notAfter: new Date(T0.getTime() + 300 * DAY),
    publicKey: intKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.ExtendedKeyUsageExtension([EKU_CODE_SIGNING]),
    ],
  });
  let serial = 16;
  return {
    rootDer: Buffer.from(root.rawData),
    intermediateDer: Buffer.from(intermediate.rawData),
    authority: (validFor) => ({
      certChain: [Buffer.from(intermediate.rawData), Buffer.from(root.rawData)],
      uri: 'https://ca.example',
      ...(validFor === undefined ? {} : { validFor }),
    }),
    async issue(o = {}) {
      const keys = (await subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const extensions: InstanceType<typeof x509.Extension>[] = [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.Extension('2.5.29.17', true, sanValue(o.sans ?? [{ type: 'uri', value: SUBJECT }])),
      ];
      const eku = o.eku ?? [EKU_CODE_SIGNING];
      if (eku.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension([...eku]));
      const issuer = o.issuer === undefined ? OIDC_ISSUER : o.issuer;
      if (issuer !== null) extensions.push(new x509.Extension('1.3.6.1.4.1.57264.1.8', false, utf8(issuer)));
      if (o.issuerV1 !== undefined) {
        extensions.push(new x509.Extension('1.3.6.1.4.1.57264.1.1', false, Buffer.from(o.issuerV1)));
      }
      for (const [id, value] of o.extensions ?? []) extensions.push(new x509.Extension(id, false, value));
      for (const [id, value] of o.critical ?? []) extensions.push(new x509.Extension(id, true, value));
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, '0'),
        subject: '',
        issuer: o.byRoot === true ? root.subject : intermediate.subject,
        notBefore: o.notBefore ?? new Date(T0.getTime() - 5 * 60_000),
        notAfter: o.notAfter ?? new Date(T0.getTime() + 5 * 60_000),
        publicKey: keys.publicKey,
        signingKey: o.byRoot === true ? rootKeys.privateKey : intKeys.privateKey,
        signingAlgorithm: SIGN,
        extensions,
      });
      return {
        der: Buffer.from(leaf.rawData),
        privateKey: NodeKeyObject.from(keys.privateKey),
        publicKey: NodeKeyObject.from(keys.publicKey),
      };
    },
  };
}

// ------------------------------------------------------------------------------------------ the test log

/** RFC 6962 §2.1 Merkle tree hash over leaf hashes. */
function mth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** RFC 6962 §2.1.1 audit path PATH(m, D[n]), bottom-up. */
function path(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k
    ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

export function pem(label: string, der: Uint8Array): string {
  const b64 = toBase64(der).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

export interface EntryOptions {
  integratedTime?: Date;
  logIndex?: bigint;
  /** Add a signed entry timestamp (default true). */
  set?: boolean;
  /** Add an inclusion proof with a signed checkpoint (default true). */
  proof?: boolean;
  /** Change the checkpoint text before it is signed. */
  checkpoint?: (text: { origin: string; size: bigint; root: Buffer }) => string;
  kind?: string;
  version?: string;
}

export interface TestLog {
  readonly name: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly logId: Buffer;
  spec(validFor?: TimeRange): LogSpec;
  /** Logs a body (object: JSON-serialised; bytes: as is) and returns the bundle entry. */
  entry(body: unknown, o?: EntryOptions): TransparencyLogEntry;
}

export function makeLog(host = 'log.example', type: 'ec' | 'ed25519' = 'ec'): TestLog {
  const { privateKey, publicKey } =
    type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const logId = createHash('sha256').update(spki).digest();
  const hash = type === 'ed25519' ? null : 'sha256';
  return {
    name: host,
    privateKey,
    publicKey,
    logId,
    spec: (validFor) => ({
      baseUrl: `https://${host}`,
      publicKey,
      ...(validFor === undefined ? {} : { validFor }),
    }),
    entry(body, o = {}) {
      const bytes = body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
      const parsed = body instanceof Uint8Array ? {} : (body as { kind?: string; apiVersion?: string });
      const logIndex = o.logIndex ?? 3n;
      const integratedTime = BigInt(Math.floor((o.integratedTime ?? T0).getTime() / 1000));
      const entry: {
        -readonly [K in keyof TransparencyLogEntry]: TransparencyLogEntry[K];
      } = {
        logIndex,
        logId,
        kindVersion: { kind: o.kind ?? parsed.kind ?? '', version: o.version ?? parsed.apiVersion ?? '' },
        integratedTime: o.set === false ? 0n : integratedTime,
        canonicalizedBody: bytes,
      };
      if (o.set !== false) {
        const payload = canonicalJson({
          body: toBase64(bytes),
          integratedTime,
          logID: toHex(logId),
          logIndex,
        });
        entry.inclusionPromise = { signedEntryTimestamp: sign(hash, Buffer.from(payload), privateKey) };
      }
      if (o.proof !== false) {
        // Our leaf sits at index 2 of a 5-leaf tree, with made-up neighbours.
        const leaves = [0, 1, 2, 3, 4].map((i) =>
          i === 2 ? hashLeaf(bytes) : hashLeaf(Buffer.from(`leaf ${i}`)),
        );
        const root = mth(leaves);
        const size = BigInt(leaves.length);
        const text =
          o.checkpoint?.({ origin: host, size, root }) ?? `${host}\n${size}\n${root.toString('base64')}\n`;
        const keyHash =
          type === 'ed25519'
            ? createHash('sha256')
                .update(`${host}\n`)
                .update(Buffer.concat([Buffer.from([1]), spki.subarray(-32)]))
                .digest()
                .subarray(0, 4)
            : logId.subarray(0, 4);
        const sig = sign(hash, Buffer.from(text), privateKey);
        entry.inclusionProof = {
          logIndex: 2n,
          treeSize: size,
          rootHash: root,
          hashes: path(2, leaves),
          checkpoint: {
            envelope: `${text}\n\u2014 ${host} ${Buffer.concat([keyHash, sig]).toString('base64')}\n`,
          },
        };
      }
      return entry;
    },
  };
}
