import type { Command } from 'commander';
import { readInput } from '../../core/index.js';
import { verifyCmsDetached, verifyOpenPgpDetached } from '../../crypto/index.js';
import { parseBundle } from '../../envelope/index.js';
import { verifyBundle } from '../../verify/index.js';
import { artifactArg, describeArtifact, outputBeside } from '../common.js';
import { type CommandContext, usage } from '../context.js';
import { emit } from '../output.js';
import { readCertificates } from '../pem.js';
import { addTrustOptions, resultLines, type TrustFlags, verifyOptionsFrom } from '../trust-options.js';

interface VerifyFlags extends TrustFlags {
  bundle?: string;
  signature?: string;
  format: string;
  caBundle?: string;
  json?: boolean;
}

/** Bundles are small; anything past 32 MiB is refused before parsing. */
export const MAX_BUNDLE = 32 * 1024 * 1024;
const MAX_SIGNATURE = 1024 * 1024;

function detachedFormat(format: string, sig: Buffer): 'openpgp' | 'cms' {
  if (format === 'openpgp' || format === 'cms') return format;
  if (format !== 'auto') throw usage(`unknown --format ${format} (auto, openpgp or cms)`);
  const head = sig.subarray(0, 64).toString('latin1');
  if (head.includes('-----BEGIN PGP')) return 'openpgp';
  if (head.includes('-----BEGIN PKCS7') || head.includes('-----BEGIN CMS') || sig[0] === 0x30) return 'cms';
  return 'openpgp';
}

export function registerVerify(program: Command, { io }: CommandContext): void {
  addTrustOptions(
    program
      .command('verify')
      .description('Verify an artifact against a Sigstore bundle, or an OpenPGP / CMS detached signature.')
      .argument('<artifact>', 'file to verify, or sha256:<hex> (ECDSA and RSA signatures)'),
  )
    .option('--bundle <path>', 'Sigstore bundle (default: <artifact>.sigstore.json)')
    .option('--signature <path>', 'detached OpenPGP (.asc/.sig) or CMS (.p7s) signature instead of a bundle')
    .option('--format <format>', 'detached signature format: auto | openpgp | cms', 'auto')
    .option('--ca-bundle <pem>', 'trusted CA certificates for CMS signatures')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  vouch verify dist/app.tgz --key release.pub --bundle app.sigstore.json
  vouch verify dist/app.tgz --bundle app.sigstore.json --trusted-root trusted_root.json \\
      --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  vouch verify dist/app.tgz --signature dist/app.tgz.asc --key bot.pub.asc
  vouch verify dist/app.tgz --signature dist/app.tgz.p7s --ca-bundle ca.pem`,
    )
    .action(async (artifactRef: string, o: VerifyFlags) => {
      const artifact = artifactArg(artifactRef, io);
      const json = o.json === true;
      if (o.signature !== undefined) {
        const sig = await readInput(o.signature, MAX_SIGNATURE);
        if (detachedFormat(o.format, sig) === 'openpgp') {
          if (o.key === undefined) throw usage('--key <armored OpenPGP public key> is required');
          const r = await verifyOpenPgpDetached(artifact, sig, await readInput(o.key, MAX_SIGNATURE));
          emit(
            io,
            json,
            {
              format: 'openpgp',
              fingerprint: r.fingerprint,
              created: r.created.toISOString(),
              userIds: r.userIds,
            },
            [
              `Verified OK: ${describeArtifact(artifact)} (OpenPGP)`,
              `  signer: ${r.fingerprint} ${r.userIds.join(', ')}`,
              `  signed: ${r.created.toISOString()}`,
            ],
          );
          return;
        }
        if (o.caBundle === undefined) throw usage('--ca-bundle <pem> is required to verify a CMS signature');
        const anchors = await readCertificates(o.caBundle);
        const r = await verifyCmsDetached(artifact, sig, { anchors });
        emit(
          io,
          json,
          {
            format: 'cms',
            subject: r.signer.subject,
            issuer: r.signer.issuer,
            ...(r.signingTime ? { signingTime: r.signingTime.toISOString() } : {}),
          },
          [
            `Verified OK: ${describeArtifact(artifact)} (CMS)`,
            `  signer: ${r.signer.subject}`,
            `  issuer: ${r.signer.issuer}`,
            ...(r.signingTime ? [`  signed: ${r.signingTime.toISOString()}`] : []),
          ],
        );
        return;
      }
      const bundlePath = outputBeside(artifact, o.bundle, '.sigstore.json', '--bundle');
      const options = await verifyOptionsFrom(o, io);
      const bundle = parseBundle(await readInput(bundlePath, MAX_BUNDLE));
      const result = await verifyBundle(bundle, artifact, options);
      emit(io, json, { artifact: describeArtifact(artifact), bundle: bundlePath, ...resultJson(result) }, [
        `Verified OK: ${describeArtifact(artifact)}`,
        ...resultLines(result),
      ]);
    });
}

export function resultJson(r: Awaited<ReturnType<typeof verifyBundle>>): Record<string, unknown> {
  return {
    signer: r.signer,
    checks: r.checks,
    timestamps: r.timestamps.map((t) => ({ source: t.source, time: t.time.toISOString() })),
  };
}
