import type { Command } from 'commander';
import { readInput, toHex, writeFileAtomic } from '../../core/index.js';
import { loadPrivateKey, signCmsDetached, signOpenPgpDetached } from '../../crypto/index.js';
import { serializeBundle, signBlobToBundle } from '../../envelope/index.js';
import { artifactArg, describeArtifact, loadSigner, outputBeside } from '../common.js';
import { type CommandContext, usage } from '../context.js';
import { passphraseSource } from '../io.js';
import { emit } from '../output.js';
import { readCertificates } from '../pem.js';

interface SignOptions {
  key?: string;
  bundle?: string;
  format: string;
  output?: string;
  certificate?: string;
  certificateChain?: string;
  force?: boolean;
  json?: boolean;
}

export function registerSign(program: Command, { io }: CommandContext): void {
  program
    .command('sign')
    .description('Sign an artifact into a Sigstore bundle (default), an OpenPGP or a CMS detached signature.')
    .argument('<artifact>', 'file to sign, or sha256:<hex> (ECDSA keys only)')
    .option(
      '--key <ref>',
      'private key: path, file:<path> or env:<VAR> (encrypted PKCS#8; OpenPGP armored key)',
    )
    .option('--bundle <path>', 'Sigstore bundle to write (default: <artifact>.sigstore.json)')
    .option('--format <format>', 'sigstore | openpgp | cms', 'sigstore')
    .option('--output <path>', 'detached signature to write (openpgp: <artifact>.asc, cms: <artifact>.p7s)')
    .option('--certificate <pem>', 'signing certificate with the code-signing EKU (cms)')
    .option('--certificate-chain <pem>', 'intermediate certificates to embed (cms)')
    .option('--force', 'overwrite an existing output')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  vouch sign dist/app.tgz --key release.key --bundle app.sigstore.json
  vouch sign dist/app.tgz --format openpgp --key bot.asc            # gpg --verify dist/app.tgz.asc dist/app.tgz
  vouch sign dist/app.tgz --format cms --key cs.key --certificate cs.pem`,
    )
    .action(async (artifactRef: string, o: SignOptions) => {
      const artifact = artifactArg(artifactRef, io);
      const overwrite = o.force === true;
      const json = o.json === true;
      switch (o.format) {
        case 'sigstore': {
          const out = outputBeside(artifact, o.bundle, '.sigstore.json', '--bundle');
          const signer = await loadSigner(o.key, io);
          const bundle = await signBlobToBundle(signer, artifact);
          await writeFileAtomic(out, serializeBundle(bundle), { overwrite });
          const digest =
            bundle.content.kind === 'messageSignature'
              ? bundle.content.messageSignature.messageDigest?.digest
              : undefined;
          emit(
            io,
            json,
            {
              bundle: out,
              keyId: signer.keyId,
              algorithm: signer.algorithm.id,
              ...(digest ? { sha256: toHex(digest) } : {}),
            },
            [
              `Signed ${describeArtifact(artifact)} with ${signer.algorithm.id} key ${signer.keyId}`,
              `  bundle: ${out}`,
            ],
          );
          return;
        }
        case 'openpgp': {
          if (o.key === undefined) throw usage('--key is required (an armored OpenPGP private key)');
          const out = outputBeside(artifact, o.output, '.asc', '--output');
          const armoredKey = (await readInput(o.key, 1024 * 1024)).toString('utf8');
          const signature = await signOpenPgpDetached(artifact, armoredKey, passphraseSource(io));
          await writeFileAtomic(out, signature, { overwrite });
          emit(io, json, { signature: out, format: 'openpgp' }, [
            `Signed ${describeArtifact(artifact)} (OpenPGP detached signature)`,
            `  signature: ${out}`,
          ]);
          return;
        }
        case 'cms': {
          if (o.key === undefined || o.certificate === undefined)
            throw usage('--format cms needs --key and --certificate');
          const out = outputBeside(artifact, o.output, '.p7s', '--output');
          const [certificate] = await readCertificates(o.certificate);
          const chain = o.certificateChain ? await readCertificates(o.certificateChain) : [];
          const privateKey = await loadPrivateKey(
            await readInput(o.key, 1024 * 1024),
            passphraseSource(io),
            o.key,
          );
          const cms = await signCmsDetached(artifact, {
            certificate: certificate as Uint8Array,
            chain,
            privateKey,
          });
          await writeFileAtomic(out, cms, { overwrite });
          emit(io, json, { signature: out, format: 'cms' }, [
            `Signed ${describeArtifact(artifact)} (CMS detached signature, DER)`,
            `  signature: ${out}`,
          ]);
          return;
        }
        default:
          throw usage(`unknown --format ${o.format} (sigstore, openpgp or cms)`);
      }
    });
}
