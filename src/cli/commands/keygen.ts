import type { Command } from 'commander';
import { assertAbsent, writeFileAtomic } from '../../core/index.js';
import {
  exportPrivateKeyPem,
  exportPublicKeyPem,
  generateKeyPair,
  generateOpenPgpKey,
  getAlgorithm,
  keyIdOf,
  SIGNING_ALGORITHMS,
} from '../../crypto/index.js';
import { type CommandContext, usage } from '../context.js';
import { passphraseSource } from '../io.js';
import { emit } from '../output.js';

interface KeygenOptions {
  alg: string;
  out: string;
  format: 'pkcs8' | 'openpgp';
  name?: string;
  email?: string;
  force?: boolean;
  json?: boolean;
}

export function registerKeygen(program: Command, { io }: CommandContext): void {
  program
    .command('keygen')
    .description(
      'Generate a signing key pair: <prefix>.key (encrypted PKCS#8 PEM) and <prefix>.pub (SPKI PEM).',
    )
    .option('--alg <alg>', `algorithm: ${SIGNING_ALGORITHMS.join(' | ')}`, 'ecdsa-p256')
    .option('--out <prefix>', 'output path prefix', 'vouch')
    .option(
      '--format <format>',
      'pkcs8 (Sigstore, CMS) or openpgp (writes <prefix>.asc and <prefix>.pub.asc)',
      'pkcs8',
    )
    .option('--name <name>', 'user ID name (openpgp)')
    .option('--email <email>', 'user ID email (openpgp)')
    .option('--force', 'overwrite existing files')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  VOUCH_PASSWORD=… vouch keygen --alg ed25519 --out release
  vouch keygen --format openpgp --name "Release Bot" --email bot@example.com --out bot`,
    )
    .action(async (o: KeygenOptions) => {
      if (o.format !== 'pkcs8' && o.format !== 'openpgp')
        throw usage(`unknown --format ${o.format} (pkcs8 or openpgp)`);
      const passphrase = await passphraseSource(io, { confirm: true })();
      const overwrite = o.force === true;
      if (o.format === 'openpgp') {
        if (o.name === undefined) throw usage('--format openpgp needs --name');
        const pgpAlg = o.alg === 'rsa-pss-3072' ? 'rsa3072' : 'ed25519';
        const key = await generateOpenPgpKey({
          name: o.name,
          passphrase,
          algorithm: pgpAlg,
          ...(o.email === undefined ? {} : { email: o.email }),
        });
        const priv = `${o.out}.asc`;
        const pub = `${o.out}.pub.asc`;
        if (!overwrite) await assertAbsent([priv, pub]);
        await writeFileAtomic(priv, key.privateKeyArmored, { mode: 0o600, overwrite });
        await writeFileAtomic(pub, key.publicKeyArmored, { overwrite });
        emit(
          io,
          o.json === true,
          { format: 'openpgp', fingerprint: key.fingerprint, privateKey: priv, publicKey: pub },
          [
            `Generated OpenPGP key ${key.fingerprint}`,
            `  private key: ${priv} (passphrase-protected)`,
            `  public key:  ${pub}`,
          ],
        );
        return;
      }
      const alg = getAlgorithm(o.alg);
      const priv = `${o.out}.key`;
      const pub = `${o.out}.pub`;
      if (!overwrite) await assertAbsent([priv, pub]);
      const pair = await generateKeyPair(alg);
      await writeFileAtomic(priv, exportPrivateKeyPem(pair.privateKey, passphrase), {
        mode: 0o600,
        overwrite,
      });
      await writeFileAtomic(pub, exportPublicKeyPem(pair.publicKey), { overwrite });
      const keyId = keyIdOf(pair.publicKey);
      emit(io, o.json === true, { algorithm: alg.id, keyId, privateKey: priv, publicKey: pub }, [
        `Generated ${alg.id} key ${keyId}`,
        `  private key: ${priv} (encrypted PKCS#8)`,
        `  public key:  ${pub}`,
      ]);
    });
}
