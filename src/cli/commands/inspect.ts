import type { Command } from 'commander';
import { isRecord, parseJson, readInput, toBase64, toHex } from '../../core/index.js';
import { algorithmForKey, keyIdOf, loadPublicKey, parseCertificate } from '../../crypto/index.js';
import {
  type Bundle,
  type DsseEnvelope,
  parseBundle,
  parseDsseEnvelope,
  parseStatement,
} from '../../envelope/index.js';
import type { CommandContext } from '../context.js';
import { usage } from '../context.js';
import { emit } from '../output.js';

const MAX_INSPECT = 32 * 1024 * 1024;

function statementSummary(env: DsseEnvelope): Record<string, unknown> {
  const summary: Record<string, unknown> = {
    payloadType: env.payloadType,
    signatures: env.signatures.map((s) => ({ keyid: s.keyid })),
  };
  try {
    const st = parseStatement(env.payload);
    summary['statement'] = { type: st._type, predicateType: st.predicateType, subject: st.subject };
  } catch {
    summary['statement'] = null;
  }
  return summary;
}

function certificateSummary(der: Uint8Array): Record<string, unknown> {
  const cert = parseCertificate(der);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    serialNumber: cert.serialNumber,
    subjectAltNames: cert.getExtension('2.5.29.17')?.toString('text') ?? null,
  };
}

function bundleSummary(b: Bundle): Record<string, unknown> {
  const vm = b.verificationMaterial;
  const key =
    vm.key.kind === 'publicKey'
      ? { publicKeyHint: vm.key.hint }
      : {
          certificate: certificateSummary(
            vm.key.kind === 'certificate' ? vm.key.certificate : (vm.key.certificates[0] as Uint8Array),
          ),
        };
  const content =
    b.content.kind === 'messageSignature'
      ? {
          messageSignature: {
            ...(b.content.messageSignature.messageDigest
              ? {
                  digest: `${b.content.messageSignature.messageDigest.algorithm}:${toHex(b.content.messageSignature.messageDigest.digest)}`,
                }
              : {}),
            signature: toBase64(b.content.messageSignature.signature),
          },
        }
      : { dsseEnvelope: statementSummary(b.content.dsseEnvelope) };
  return {
    kind: 'sigstore-bundle',
    mediaType: b.mediaType,
    ...key,
    ...content,
    tlogEntries: vm.tlogEntries.map((e) => ({
      logIndex: e.logIndex.toString(),
      logId: toHex(e.logId),
      kind: `${e.kindVersion.kind}/${e.kindVersion.version}`,
      integratedTime:
        e.integratedTime === 0n ? null : new Date(Number(e.integratedTime) * 1000).toISOString(),
      inclusionPromise: e.inclusionPromise !== undefined,
      inclusionProof: e.inclusionProof !== undefined,
    })),
    rfc3161Timestamps: vm.rfc3161Timestamps.length,
  };
}

/** Recognises what a file is and summarises it; an unrecognised file is a coded input error. */
async function inspectFile(path: string): Promise<Record<string, unknown>> {
  const data = await readInput(path, MAX_INSPECT);
  const head = data.subarray(0, 64).toString('latin1');
  if (head.includes('-----BEGIN PUBLIC KEY-----')) {
    const key = loadPublicKey(data, path);
    return { kind: 'public-key', algorithm: algorithmForKey(key).id, keyId: keyIdOf(key) };
  }
  if (head.includes('-----BEGIN CERTIFICATE-----'))
    return { kind: 'certificate', ...certificateSummary(data) };
  if (head.includes('-----BEGIN PGP'))
    return { kind: 'openpgp', armor: /-----BEGIN (PGP [A-Z ]+)-----/.exec(head)?.[1] ?? 'PGP' };
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(head))
    return { kind: 'private-key', encrypted: head.includes('ENCRYPTED') };
  const json = parseJson(data, path);
  if (isRecord(json) && typeof json['mediaType'] === 'string') return bundleSummary(parseBundle(json));
  if (isRecord(json) && 'payloadType' in json)
    return { kind: 'dsse-envelope', ...statementSummary(parseDsseEnvelope(data)) };
  throw usage(`${path} is not a bundle, DSSE envelope, key, certificate or OpenPGP file`);
}

function humanLines(value: unknown, indent = ''): string[] {
  if (!isRecord(value)) return [`${indent}${JSON.stringify(value)}`];
  return Object.entries(value).flatMap(([k, v]) =>
    isRecord(v) || (Array.isArray(v) && v.some(isRecord))
      ? [
          `${indent}${k}:`,
          ...(Array.isArray(v)
            ? v.flatMap((x) => humanLines(x, `${indent}  - `))
            : humanLines(v, `${indent}  `)),
        ]
      : [`${indent}${k}: ${Array.isArray(v) ? (v.length === 0 ? '(none)' : v.join(', ')) : String(v)}`],
  );
}

export function registerInspect(program: Command, { io }: CommandContext): void {
  program
    .command('inspect')
    .description('Show what a bundle, DSSE envelope, key or certificate holds (nothing is verified).')
    .argument('<file>', 'file to inspect')
    .option('--json', 'print the summary as JSON')
    .action(async (path: string, o: { json?: boolean }) => {
      const summary = await inspectFile(path);
      emit(io, o.json === true, summary, [`${path}:`, ...humanLines(summary, '  ')]);
    });
}
