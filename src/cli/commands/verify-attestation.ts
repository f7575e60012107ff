import type { Command } from 'commander';
import { checkPredicate } from '../../attest/index.js';
import { readInput, VouchError } from '../../core/index.js';
import { assertPredicateType, parseBundle } from '../../envelope/index.js';
import { verifyBundle } from '../../verify/index.js';
import { artifactArg, describeArtifact, outputBeside } from '../common.js';
import { type CommandContext, usage } from '../context.js';
import { emit } from '../output.js';
import { predicateTypeArg } from '../predicate-types.js';
import { addTrustOptions, resultLines, type TrustFlags, verifyOptionsFrom } from '../trust-options.js';
import { MAX_BUNDLE, resultJson } from './verify.js';

interface VerifyAttestationFlags extends TrustFlags {
  bundle?: string;
  type?: string;
  json?: boolean;
}

export function registerVerifyAttestation(program: Command, { io }: CommandContext): void {
  addTrustOptions(
    program
      .command('verify-attestation')
      .description(
        'Verify a signed in-toto attestation: signature, subject bound to the artifact, predicate type.',
      )
      .argument('<artifact>', 'file the attestation must be about, or sha256:<hex>'),
  )
    .option('--bundle <path>', 'attestation bundle (default: <artifact>.intoto.sigstore.json)')
    .option(
      '--type <uri>',
      'required predicate type (URI or slsa | cyclonedx | spdx | vulns | openvex | licenses | custom)',
    )
    .option('--json', 'print the result (with the verified statement) as JSON')
    .addHelpText(
      'after',
      `
Example:
  vouch verify-attestation dist/app.tgz --key release.pub --type slsa --bundle app.att.json`,
    )
    .action(async (artifactRef: string, o: VerifyAttestationFlags) => {
      if (o.type === undefined) throw usage('--type is required');
      const predicateType = predicateTypeArg(o.type);
      const artifact = artifactArg(artifactRef, io);
      const bundlePath = outputBeside(artifact, o.bundle, '.intoto.sigstore.json', '--bundle');
      const options = await verifyOptionsFrom(o, io);
      const bundle = parseBundle(await readInput(bundlePath, MAX_BUNDLE));
      if (bundle.content.kind !== 'dsseEnvelope') {
        throw new VouchError(
          'ERR_INTOTO_MALFORMED',
          `${bundlePath} holds a message signature, not an attestation`,
          {
            details: { check: 'attestation' },
          },
        );
      }
      const result = await verifyBundle(bundle, artifact, options);
      if (result.statement === undefined) {
        throw new VouchError('ERR_INTOTO_MALFORMED', 'the envelope does not carry an in-toto statement', {
          details: { check: 'attestation' },
        });
      }
      assertPredicateType(result.statement, predicateType);
      const summary = checkPredicate(predicateType, result.statement.predicate, bundlePath);
      emit(
        io,
        o.json === true,
        {
          artifact: describeArtifact(artifact),
          bundle: bundlePath,
          predicateType,
          summary,
          ...resultJson(result),
          statement: result.statement,
        },
        [
          `Verified OK: ${describeArtifact(artifact)} attestation ${predicateType}`,
          ...resultLines(result),
          `  ✓ predicate type: ${predicateType}`,
          `  ✓ predicate: ${summary}`,
        ],
      );
    });
}
