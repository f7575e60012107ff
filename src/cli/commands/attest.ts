import type { Command } from 'commander';
import { checkPredicate, readPredicateFile } from '../../attest/index.js';
import { readInput, toHex, writeFileAtomic } from '../../core/index.js';
import { artifactDigest } from '../../crypto/index.js';
import {
  assertSubjectMatches,
  buildStatement,
  serializeBundle,
  signStatementToBundle,
} from '../../envelope/index.js';
import { artifactArg, artifactName, describeArtifact, loadSigner, outputBeside } from '../common.js';
import { type CommandContext, usage } from '../context.js';
import { emit } from '../output.js';
import { predicateTypeArg } from '../predicate-types.js';

interface AttestOptions {
  key?: string;
  type?: string;
  predicate?: string;
  bundle?: string;
  force?: boolean;
  json?: boolean;
}

/** Predicates are JSON documents; 64 MiB is far above real SBOMs and stops a runaway input early. */
const MAX_PREDICATE = 64 * 1024 * 1024;

export function registerAttest(program: Command, { io }: CommandContext): void {
  program
    .command('attest')
    .description(
      'Wrap a predicate in an in-toto Statement bound to the artifact digest, sign it (DSSE) into a bundle.',
    )
    .argument('<artifact>', 'file the attestation is about, or sha256:<hex>')
    .option('--key <ref>', 'private key: path, file:<path> or env:<VAR>')
    .option(
      '--type <uri>',
      'predicate type URI, or slsa | cyclonedx | spdx | vulns | openvex | licenses | custom',
    )
    .option(
      '--predicate <path>',
      'predicate JSON file, or an in-toto Statement about this artifact (as `vouch provenance` writes)',
    )
    .option('--bundle <path>', 'bundle to write (default: <artifact>.intoto.sigstore.json)')
    .option('--force', 'overwrite an existing output')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
The predicate is checked against its type before signing (CycloneDX, SPDX, SLSA v1, vulns, OpenVEX,
licenses); a custom type is signed as given.

Examples:
  vouch provenance --subject dist/app.tgz --output provenance.json
  vouch attest dist/app.tgz --key release.key --type slsa --predicate provenance.json --bundle app.att.json
  vouch sbom --output sbom.cdx.json
  vouch attest dist/app.tgz --key release.key --type cyclonedx --predicate sbom.cdx.json`,
    )
    .action(async (artifactRef: string, o: AttestOptions) => {
      if (o.type === undefined) throw usage('--type is required');
      if (o.predicate === undefined) throw usage('--predicate is required');
      const predicateType = predicateTypeArg(o.type);
      const artifact = artifactArg(artifactRef, io);
      const out = outputBeside(artifact, o.bundle, '.intoto.sigstore.json', '--bundle');
      // Cheap checks first (predicate, key), then the artifact, which may be large.
      const input = readPredicateFile(
        await readInput(o.predicate, MAX_PREDICATE),
        o.predicate,
        predicateType,
      );
      const summary = checkPredicate(predicateType, input.predicate, o.predicate);
      const signer = await loadSigner(o.key, io);
      const digest = await artifactDigest(artifact, 'sha256');
      if (input.statement !== undefined)
        assertSubjectMatches(input.statement, { algorithm: 'sha256', digest });
      const sha256 = toHex(digest);
      const statement = buildStatement({
        subjects: [{ name: artifactName(artifact), digest: { sha256 } }],
        predicateType,
        predicate: input.predicate,
      });
      const bundle = await signStatementToBundle(signer, statement);
      await writeFileAtomic(out, serializeBundle(bundle), { overwrite: o.force === true });
      emit(io, o.json === true, { bundle: out, predicateType, sha256, keyId: signer.keyId, summary }, [
        `Attested ${describeArtifact(artifact)} (${predicateType}) with key ${signer.keyId}`,
        `  ${summary}`,
        `  bundle: ${out}`,
      ]);
    });
}
