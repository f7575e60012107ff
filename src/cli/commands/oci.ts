import type { Command } from 'commander';
import { checkPredicate, readPredicateFile } from '../../attest/index.js';
import { isVouchError, readInput, VouchError } from '../../core/index.js';
import {
  assertSubjectMatches,
  INTOTO_PAYLOAD_TYPE,
  parseBundle,
  parseDsseEnvelope,
  parseStatement,
} from '../../envelope/index.js';
import {
  attestImage,
  COSIGN_SIGN_PREDICATE_TYPE,
  createRegistryClient,
  discoverEvidence,
  formatReference,
  type OciEvidence,
  parseReference,
  type Reference,
  type RegistryClient,
  type ResolvedManifest,
  type SignedImage,
  signImage,
  splitDigest,
  verifyCosignAttestation,
  verifyCosignSignature,
  withDigest,
} from '../../oci/index.js';
import { loadPolicies, selectPolicy } from '../../policy/index.js';
import { imageArtifact, type VerifiedSigner, type VerifyOptions, verifyBundle } from '../../verify/index.js';
import { loadSigner } from '../common.js';
import { type CommandContext, usage } from '../context.js';
import { decideAndEmit, tierOf } from '../decision.js';
import type { CliIO } from '../io.js';
import { emit } from '../output.js';
import { predicateTypeArg } from '../predicate-types.js';
import { addTrustOptions, type TrustFlags, verifyOptionsFrom } from '../trust-options.js';
import { VERSION } from '../version.js';

interface RegistryFlags {
  allowInsecureRegistry?: boolean;
  json?: boolean;
}

interface SignFlags extends RegistryFlags {
  key?: string;
}

interface AttestFlags extends SignFlags {
  type?: string;
  predicate?: string;
}

interface VerifyFlags extends RegistryFlags, TrustFlags {
  type?: string;
  policy?: string;
  tier?: string;
  sarif?: string;
  explain?: boolean;
}

/** Predicates are JSON documents; the same cap as `vouch attest`. */
const MAX_PREDICATE = 64 * 1024 * 1024;

/** The registry of the command's one image is where VOUCH_REGISTRY_USERNAME/PASSWORD go without VOUCH_REGISTRY_HOSTS. */
function client(io: CliIO, o: RegistryFlags, ref: Reference): RegistryClient {
  return createRegistryClient({
    allowInsecureRegistry: o.allowInsecureRegistry === true,
    env: io.env,
    envCredentialsRegistry: ref.registry,
    userAgent: `vouch/${VERSION}`,
  });
}

function progress(io: CliIO, o: RegistryFlags, line: string): void {
  if (o.json !== true) io.stderr(`${line}\n`);
}

function storedLines(s: SignedImage): string[] {
  const where = s.attached.referrersApi
    ? 'listed by the referrers API'
    : `listed in tag ${s.attached.fallbackTag ?? ''}: the registry has no referrers API`;
  return [`  stored: ${s.attached.manifest.digest} (${where})`];
}

function storedJson(s: SignedImage): Record<string, unknown> {
  return {
    digest: s.digest,
    keyId: s.keyId,
    predicateType: s.predicateType,
    artifact: s.attached.manifest.digest,
    referrersApi: s.attached.referrersApi,
    ...(s.attached.fallbackTag === undefined ? {} : { fallbackTag: s.attached.fallbackTag }),
  };
}

/** What a stored item claims to be, read without verifying (for `tree` and to pick candidates). */
function claimedType(e: OciEvidence): string | undefined {
  try {
    switch (e.kind) {
      case 'bundle': {
        const b = parseBundle(e.bytes);
        if (b.content.kind === 'messageSignature') return COSIGN_SIGN_PREDICATE_TYPE;
        if (b.content.dsseEnvelope.payloadType !== INTOTO_PAYLOAD_TYPE) return undefined;
        return parseStatement(b.content.dsseEnvelope.payload).predicateType;
      }
      case 'cosign-signature':
        return COSIGN_SIGN_PREDICATE_TYPE;
      case 'cosign-attestation':
        return parseStatement(parseDsseEnvelope(e.envelope).payload).predicateType;
    }
  } catch {
    return e.kind === 'bundle' ? e.predicateType : undefined;
  }
}

interface Verified {
  readonly source: string;
  readonly via: string;
  readonly signer: VerifiedSigner;
  readonly predicateType: string;
  readonly predicate?: unknown;
}

/** One stored item verified against the image (its digest and manifest bytes) and the trust given. */
async function verifyItem(
  e: OciEvidence,
  image: ResolvedManifest,
  want: string,
  options: VerifyOptions,
): Promise<Verified> {
  switch (e.kind) {
    case 'bundle': {
      const r = await verifyBundle(parseBundle(e.bytes), { kind: 'bytes', bytes: image.bytes }, options);
      const type = r.statement?.predicateType ?? COSIGN_SIGN_PREDICATE_TYPE;
      if (type !== want)
        throw new VouchError(
          'ERR_INTOTO_PREDICATE_TYPE',
          `${e.source}: the signed predicate type is ${type}`,
        );
      return {
        source: e.source,
        via: e.via,
        signer: r.signer,
        predicateType: type,
        ...(r.statement?.predicate === undefined ? {} : { predicate: r.statement.predicate }),
      };
    }
    case 'cosign-signature':
    case 'cosign-attestation': {
      if (options.key === undefined)
        throw usage(`${e.source}: cosign tag-scheme signatures are verified with --key only`);
      if (e.kind === 'cosign-signature') {
        const { keyId } = verifyCosignSignature(e, image.digest, options.key);
        return { source: e.source, via: e.via, signer: { kind: 'key', keyId }, predicateType: want };
      }
      const { keyId, statement } = verifyCosignAttestation(e, image.digest, options.key);
      if (statement.predicateType !== want)
        throw new VouchError(
          'ERR_INTOTO_PREDICATE_TYPE',
          `${e.source}: the signed predicate type is ${statement.predicateType}`,
        );
      return {
        source: e.source,
        via: e.via,
        signer: { kind: 'key', keyId },
        predicateType: want,
        ...(statement.predicate === undefined ? {} : { predicate: statement.predicate }),
      };
    }
  }
}

function addRegistryOptions(cmd: Command, program: Command): Command {
  return cmd
    .option(
      '--allow-insecure-registry',
      'allow plain HTTP to a registry that is not localhost/127.0.0.1/[::1]',
    )
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .configureOutput(program.configureOutput());
}

export function registerOci(program: Command, { io }: CommandContext): void {
  const oci = program
    .command('oci')
    .description('Sign, attest, verify and list the signatures of container images in an OCI registry.')
    .addHelpText(
      'after',
      `
Images are signed by manifest digest, never by tag. Signatures and attestations are Sigstore bundles stored
as OCI artifacts referring to the image (cosign's bundle format); registries without the referrers API get
the sha256-<hex> referrers tag. Reading also finds cosign's legacy sha256-<hex>.sig / .att tags.
Credentials: VOUCH_REGISTRY_USERNAME / VOUCH_REGISTRY_PASSWORD for the registries in VOUCH_REGISTRY_HOSTS
(comma-separated host[:port]; unset: the image's registry), else docker's config.json ($DOCKER_CONFIG).

Examples:
  vouch oci sign 127.0.0.1:5000/acme/app:1.0 --key release.key
  vouch oci attest ghcr.io/acme/app:1.0 --key release.key --type slsa --predicate provenance.json
  vouch oci verify ghcr.io/acme/app:1.0 --key release.pub
  vouch oci verify ghcr.io/acme/app:1.0 --key release.pub --type slsa
  vouch oci tree ghcr.io/acme/app:1.0`,
    );

  addRegistryOptions(
    oci
      .command('sign')
      .description('Sign an image digest (in-toto statement in DSSE, as cosign v3) and store the bundle.')
      .argument('<image>', 'image reference: registry/repository[:tag][@sha256:<hex>]')
      .option('--key <ref>', 'private key: path, file:<path> or env:<VAR>'),
    program,
  ).action(async (image: string, o: SignFlags) => {
    const ref = parseReference(image);
    const signer = await loadSigner(o.key, io);
    progress(io, o, `vouch: signing ${formatReference(ref)}`);
    const signed = await signImage(client(io, o, ref), ref, signer);
    const pinned = formatReference(withDigest(ref, signed.digest));
    emit(io, o.json === true, { reference: pinned, ...storedJson(signed) }, [
      `Signed ${pinned} with ${signer.algorithm.id} key ${signer.keyId}`,
      ...storedLines(signed),
    ]);
  });

  addRegistryOptions(
    oci
      .command('attest')
      .description('Attest an image digest: the predicate in an in-toto statement, signed (DSSE) and stored.')
      .argument('<image>', 'image reference: registry/repository[:tag][@sha256:<hex>]')
      .option('--key <ref>', 'private key: path, file:<path> or env:<VAR>')
      .option(
        '--type <uri>',
        'predicate type URI, or slsa | cyclonedx | spdx | vulns | openvex | licenses | custom',
      )
      .option('--predicate <path>', 'predicate JSON file, or an in-toto Statement about this image'),
    program,
  ).action(async (image: string, o: AttestFlags) => {
    if (o.type === undefined) throw usage('--type is required');
    if (o.predicate === undefined) throw usage('--predicate is required');
    const predicateType = predicateTypeArg(o.type);
    if (predicateType === COSIGN_SIGN_PREDICATE_TYPE)
      throw usage('an image signature is made by `vouch oci sign`');
    const ref = parseReference(image);
    const input = readPredicateFile(await readInput(o.predicate, MAX_PREDICATE), o.predicate, predicateType);
    const summary = checkPredicate(predicateType, input.predicate, o.predicate);
    const signer = await loadSigner(o.key, io);
    const registry = client(io, o, ref);
    progress(io, o, `vouch: resolving ${formatReference(ref)}`);
    const resolved = await registry.resolve(ref);
    if (input.statement !== undefined) {
      const { algorithm, bytes } = splitDigest(resolved.digest);
      assertSubjectMatches(input.statement, { algorithm, digest: bytes });
    }
    const pinned = withDigest(ref, resolved.digest);
    progress(io, o, `vouch: attesting ${formatReference(pinned)}`);
    const signed = await attestImage(registry, pinned, signer, predicateType, input.predicate);
    emit(io, o.json === true, { reference: formatReference(pinned), summary, ...storedJson(signed) }, [
      `Attested ${formatReference(pinned)} (${predicateType}) with key ${signer.keyId}`,
      `  ${summary}`,
      ...storedLines(signed),
    ]);
  });

  addRegistryOptions(
    addTrustOptions(
      oci
        .command('verify')
        .description(
          'Verify that an image digest has a valid signature (or attestation of --type) by the key.',
        )
        .argument('<image>', 'image reference: registry/repository[:tag][@sha256:<hex>]'),
    )
      .option('--type <uri>', 'verify an attestation of this predicate type instead of a signature')
      .option('--policy <path>', 'decide with a policy (file, or the first matching policy of a folder)')
      .option('--tier <tier>', 'with --policy: fast or deep', 'deep')
      .option('--sarif <path>', 'with --policy: also write the decision as SARIF 2.1.0')
      .option('--explain', 'with --policy: print every check'),
    program,
  ).action(async (image: string, o: VerifyFlags) => {
    if (o.policy !== undefined) {
      await verifyImageWithPolicy(io, image, o.policy, o);
      return;
    }
    if (o.tier !== 'deep' || o.sarif !== undefined || o.explain !== undefined)
      throw usage('--tier, --sarif and --explain need --policy');
    const want = o.type === undefined ? COSIGN_SIGN_PREDICATE_TYPE : predicateTypeArg(o.type);
    const what = o.type === undefined ? 'signature' : `${want} attestation`;
    const ref = parseReference(image);
    const options = await verifyOptionsFrom(o, io);
    const registry = client(io, o, ref);
    progress(io, o, `vouch: resolving ${formatReference(ref)}`);
    const resolved = await registry.resolve(ref);
    const pinned = withDigest(ref, resolved.digest);
    const evidence = await discoverEvidence(registry, pinned);
    const candidates = evidence.filter((e) => {
      const claimed = claimedType(e);
      return claimed === want || claimed === undefined;
    });
    progress(
      io,
      o,
      `vouch: ${evidence.length} item(s) stored for ${resolved.digest}, ${candidates.length} to check`,
    );
    const verified: Verified[] = [];
    const failed: { source: string; error: VouchError }[] = [];
    for (const e of candidates) {
      try {
        verified.push(await verifyItem(e, resolved, want, options));
      } catch (err) {
        if (!isVouchError(err)) throw err;
        failed.push({ source: e.source, error: err });
      }
    }
    if (verified.length === 0) {
      const codes = new Set(failed.map((f) => f.error.code));
      const [first] = failed;
      if (first !== undefined && codes.size === 1) throw first.error;
      throw new VouchError(
        'ERR_VERIFY_THRESHOLD',
        failed.length === 0
          ? `no ${what} is stored for ${formatReference(pinned)}`
          : `no ${what} of ${formatReference(pinned)} verifies: ${failed.map((f) => `${f.source}: ${f.error.code}`).join('; ')}`,
        {
          details: {
            check: 'oci-evidence',
            found: evidence.length,
            failed: failed.map((f) => ({ source: f.source, code: f.error.code })),
          },
        },
      );
    }
    const summaries =
      o.type === undefined ? [] : verified.map((v) => checkPredicate(want, v.predicate ?? {}, v.source));
    emit(
      io,
      o.json === true,
      {
        reference: formatReference(pinned),
        digest: resolved.digest,
        predicateType: want,
        verified: verified.map(({ predicate: _, ...v }) => v),
        failed: failed.map((f) => ({ source: f.source, code: f.error.code, message: f.error.message })),
      },
      [
        `Verified OK: ${formatReference(pinned)} (${what})`,
        ...verified.map(
          (v, i) =>
            `  ✓ ${v.source} (${v.via}): ${signerText(v.signer)}${summaries[i] ? `; ${summaries[i]}` : ''}`,
        ),
        ...failed.map((f) => `  ✗ ${f.source}: ${f.error.message} [${f.error.code}]`),
      ],
    );
  });

  addRegistryOptions(
    oci
      .command('tree')
      .description('List an image digest and the signatures and attestations stored for it (not verified).')
      .argument('<image>', 'image reference: registry/repository[:tag][@sha256:<hex>]'),
    program,
  ).action(async (image: string, o: RegistryFlags) => {
    const ref = parseReference(image);
    const registry = client(io, o, ref);
    const resolved = await registry.resolve(ref);
    const pinned = withDigest(ref, resolved.digest);
    const skipped: { source: string; code: string; message: string }[] = [];
    const evidence = await discoverEvidence(registry, pinned, {
      onSkip: (source, e) => skipped.push({ source, code: e.code, message: e.message }),
    });
    const items = evidence.map((e) => {
      const predicateType = claimedType(e);
      const kind = predicateType === COSIGN_SIGN_PREDICATE_TYPE ? 'signature' : 'attestation';
      return {
        kind,
        format: e.kind,
        ...(predicateType === undefined ? {} : { predicateType }),
        source: e.source,
        via: e.via,
      };
    });
    emit(
      io,
      o.json === true,
      {
        reference: formatReference(pinned),
        digest: resolved.digest,
        mediaType: resolved.mediaType,
        size: resolved.size,
        items,
        skipped,
      },
      [
        `${formatReference(pinned)}`,
        `  ${resolved.mediaType}, ${resolved.size} bytes`,
        ...(items.length === 0 ? ['  (no signatures or attestations stored)'] : []),
        ...items.map(
          (it) =>
            `  └─ ${it.kind}${it.kind === 'attestation' ? ` ${it.predicateType ?? '(unknown type)'}` : ''}: ${it.source} [${it.via}${it.format === 'bundle' ? '' : `, ${it.format}`}]`,
        ),
        ...skipped.map((s) => `  ✗ skipped ${s.source}: ${s.message} [${s.code}]`),
        '  (listed, not verified: use `vouch oci verify`)',
      ],
    );
  });
}

function signerText(s: VerifiedSigner): string {
  return s.kind === 'key' ? `key ${s.keyId}` : `certificate ${s.subject}`;
}

/** `oci verify --policy`: every signature and attestation stored for the digest, judged by the policy. */
async function verifyImageWithPolicy(
  io: CliIO,
  image: string,
  policyPath: string,
  o: VerifyFlags,
): Promise<void> {
  if (
    o.key !== undefined ||
    o.certificateIdentity !== undefined ||
    o.certificateIdentityRegexp !== undefined ||
    o.type !== undefined
  ) {
    throw usage(
      'with --policy, the trust and the required attestations come from the policy; drop --key, --type and --certificate-*',
    );
  }
  const tier = tierOf(o.tier);
  const policies = await loadPolicies([policyPath]);
  const ref = parseReference(image);
  const named = imageArtifact(image, ref);
  const policy = selectPolicy(policies, named);
  if (policy === undefined)
    throw new VouchError('ERR_POLICY_NO_MATCH', `no policy in ${policyPath} matches ${image}`);
  const registry = client(io, o, ref);
  progress(io, o, `vouch: resolving ${formatReference(ref)}`);
  const resolved = await registry.resolve(ref);
  const evidence = await discoverEvidence(registry, withDigest(ref, resolved.digest));
  progress(io, o, `vouch: ${evidence.length} item(s) stored for ${resolved.digest}`);
  await decideAndEmit(io, { artifact: { ...named, digest: resolved.digest }, evidence, policy, tier }, o);
}
