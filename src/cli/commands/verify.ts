import type { Command } from 'commander';
import { readInput, VouchError } from '../../core/index.js';
import {
  type Artifact,
  artifactDigest,
  verifyCmsDetached,
  verifyOpenPgpDetached,
} from '../../crypto/index.js';
import { parseBundle } from '../../envelope/index.js';
import { type ArtifactRef, loadPolicies, selectPolicy } from '../../policy/index.js';
import { type Evidence, verifyBundle } from '../../verify/index.js';
import { artifactArg, describeArtifact, outputBeside } from '../common.js';
import { type CommandContext, usage } from '../context.js';
import { decideAndEmit, tierOf } from '../decision.js';
import type { CliIO } from '../io.js';
import { emit } from '../output.js';
import { readCertificates } from '../pem.js';
import { addTrustOptions, resultLines, type TrustFlags, verifyOptionsFrom } from '../trust-options.js';

interface VerifyFlags extends TrustFlags {
  bundle: string[];
  attestation: string[];
  policy?: string;
  tier?: string;
  name?: string;
  purl?: string;
  sarif?: string;
  explain?: boolean;
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
    .option(
      '--bundle <path>',
      'Sigstore bundle (default: <artifact>.sigstore.json); repeat with --policy',
      collect,
      [],
    )
    .option(
      '--policy <path>',
      'decide with a policy file (or the first matching policy of a folder); docs/policy.md',
    )
    .option(
      '--attestation <path>',
      'with --policy: an attestation bundle (or .intoto.jsonl of bundles); repeatable',
      collect,
      [],
    )
    .option(
      '--tier <tier>',
      'with --policy: fast (signatures, identity, freshness, presence) or deep',
      'deep',
    )
    .option(
      '--name <name>',
      'with --policy: the artifact name the policy matches (default: the path as given)',
    )
    .option('--purl <purl>', 'with --policy: the artifact purl the policy matches')
    .option('--sarif <path>', 'with --policy: also write the decision as SARIF 2.1.0 (CI code scanning)')
    .option('--explain', 'with --policy: print every check, not only the verdict and failures')
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
  vouch verify dist/app.tgz --signature dist/app.tgz.p7s --ca-bundle ca.pem
  vouch verify dist/app.tgz --policy release-gate.yaml --bundle app.sigstore.json \\
      --attestation provenance.sigstore.json --attestation sbom.sigstore.json --tier deep --sarif vouch.sarif

With --policy the trust (keys, identities, trusted root) comes from the policy, and the exit code is 0 when
it allows, 1 (ERR_POLICY_DENIED) when it denies.`,
    )
    .action(async (artifactRef: string, o: VerifyFlags) => {
      const artifact = artifactArg(artifactRef, io);
      const json = o.json === true;
      if (o.policy !== undefined) {
        await verifyWithPolicyFile(io, artifactRef, artifact, o.policy, o);
        return;
      }
      const policyOnly = {
        '--attestation': o.attestation.length > 0,
        '--tier': o.tier !== 'deep',
        '--name': o.name !== undefined,
        '--purl': o.purl !== undefined,
        '--sarif': o.sarif !== undefined,
        '--explain': o.explain !== undefined,
      };
      const misplaced = Object.entries(policyOnly).find(([, given]) => given);
      if (misplaced !== undefined) throw usage(`${misplaced[0]} needs --policy`);
      if (o.bundle.length > 1) throw usage('one --bundle without --policy (a policy decides over several)');
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
      const bundlePath = outputBeside(artifact, o.bundle[0], '.sigstore.json', '--bundle');
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

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

/**
 * `verify --policy`: the evidence files (bundles, or `.intoto.jsonl` files of one bundle per line, as GitHub's
 * attestation API and slsa-verifier write them) verified against the policy's trust and decided by it.
 */
async function verifyWithPolicyFile(
  io: CliIO,
  given: string,
  artifact: Artifact,
  policyPath: string,
  o: VerifyFlags,
): Promise<void> {
  for (const flag of [
    'key',
    'certificateIdentity',
    'certificateIdentityRegexp',
    'certificateOidcIssuer',
    'certificateOidcIssuerRegexp',
    'signature',
  ] as const) {
    if (o[flag] !== undefined)
      throw usage(
        'with --policy, the trust (keys, identities) comes from the policy; drop --key and the --certificate-* flags',
      );
  }
  const tier = tierOf(o.tier);
  const policies = await loadPolicies([policyPath]);
  const digest = `sha256:${(await artifactDigest(artifact, 'sha256')).toString('hex')}`;
  const ref: ArtifactRef = {
    digest,
    ...(artifact.kind === 'file' || o.name !== undefined ? { name: o.name ?? given } : {}),
    ...(o.purl === undefined ? {} : { purl: o.purl }),
  };
  const policy = selectPolicy(policies, ref);
  if (policy === undefined) {
    throw new VouchError(
      'ERR_POLICY_NO_MATCH',
      `no policy in ${policyPath} matches ${ref.name ?? ref.purl ?? digest} (give --name or --purl to match it)`,
    );
  }
  const files = [...o.bundle, ...o.attestation];
  if (files.length === 0 && artifact.kind === 'file') files.push(`${artifact.path}.sigstore.json`);
  if (files.length === 0) throw usage('give the evidence: --bundle and/or --attestation');
  const evidence: Evidence[] = [];
  for (const f of files) evidence.push(...evidenceFrom(f, await readInput(f, MAX_BUNDLE)));
  await decideAndEmit(
    io,
    { artifact: ref, ...(artifact.kind === 'digest' ? {} : { content: artifact }), evidence, policy, tier },
    o,
  );
}

/** One bundle, or a JSON-lines file of bundles (one evidence item per non-empty line). */
function evidenceFrom(path: string, bytes: Buffer): Evidence[] {
  const lines = bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (path.endsWith('.jsonl') && lines.length > 0) {
    return lines.map((l, i) => ({ kind: 'bundle', bytes: Buffer.from(l), source: `${path}:${i + 1}` }));
  }
  return [{ kind: 'bundle', bytes, source: path }];
}
