import { resolve } from 'node:path';
import { digestFile, toHex, VouchError } from '../../core/index.js';
import { buildStatement, type Statement } from '../../envelope/index.js';
import { isFile } from '../sbom/installed.js';
import { LOCKFILE_NAMES } from '../sbom/lockfile.js';
import { formatTimestamp, parseTimestamp, pickEnv } from './env.js';
import { type GitReader, type GitState, readGit } from './git.js';
import {
  detectPlatform,
  githubRun,
  gitlabRun,
  localRun,
  type PlatformName,
  type PlatformRun,
} from './platforms.js';
import { relativeName, resolveSubjects } from './subjects.js';
import { probeToolchain, type Toolchain, type ToolchainProbe } from './toolchain.js';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

/**
 * A ResourceDescriptor (in-toto resource_descriptor.md) as a dependency: unlike a subject, it needs only one
 * of `uri`, `digest` or `content`.
 */
interface Dependency {
  readonly name?: string;
  readonly uri?: string;
  readonly digest?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface ProvenanceOptions {
  /** Artifact paths or globs (tinyglobby), relative to `cwd`. */
  readonly subjects: readonly string[];
  /** The build's environment. Only the allow-listed variables of env.ts are read. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** A lockfile to record instead of looking for the usual ones in `cwd`. */
  readonly lockfile?: string;
  /** RFC 3339; else the platform's job start time when it has one. */
  readonly startedOn?: string;
  /** Refuse incomplete provenance (ERR_PROVENANCE_INCOMPLETE) instead of reporting it. */
  readonly strict?: boolean;
  readonly now?: () => Date;
  readonly git?: GitReader;
  readonly toolchain?: ToolchainProbe;
}

export interface ProvenanceResult {
  readonly statement: Statement;
  readonly platform: PlatformName;
  /** What a complete provenance would have and this one lacks; empty when complete. */
  readonly incomplete: readonly string[];
}

async function lockfileDependencies(cwd: string, given: string | undefined): Promise<Dependency[]> {
  // Without --lockfile, every lockfile `vouch sbom` knows is recorded when present.
  const candidates = given === undefined ? LOCKFILE_NAMES.map((n) => resolve(cwd, n)) : [resolve(cwd, given)];
  const out: Dependency[] = [];
  for (const path of candidates) {
    if (!(await isFile(path))) {
      if (given === undefined) continue;
      throw new VouchError('ERR_LOCKFILE_NOT_FOUND', `lockfile ${given} does not exist or is not a file`, {
        details: { path: given },
      });
    }
    const { sha256 } = await digestFile(path, ['sha256']);
    out.push({ name: relativeName(cwd, path), digest: { sha256: toHex(sha256) } });
  }
  return out;
}

/** `name@sha256:<hex>` → the reference and its digest; a tag-only reference has no digest to record. */
function imageDependency(image: string): Dependency {
  const m = /^(.+)@sha256:([0-9a-fA-F]{64})$/.exec(image);
  return m?.[1] !== undefined && m[2] !== undefined
    ? { uri: `docker://${m[1]}`, digest: { sha256: m[2].toLowerCase() } }
    : { uri: `docker://${image}` };
}

/**
 * The toolchain runs inside the build, so node, npm and the job image go in resolvedDependencies
 * (SLSA v1.0 provenance: "artifacts needed at build time" that "if compromised, could impact the build"),
 * not builderDependencies (for the orchestrator, "not run within the workload"). Their versions are all a
 * process can see; a digest only where the platform names one (the image).
 */
function toolchainDependencies(t: Toolchain, image: string | undefined): Dependency[] {
  return [
    { uri: `pkg:generic/node@${t.node}` },
    ...(t.npm === undefined ? [] : [{ uri: `pkg:npm/npm@${t.npm}` }]),
    ...(image === undefined ? [] : [imageDependency(image)]),
  ];
}

/** The source as a dependency, with what git says about the work tree as annotations. */
function sourceDependency(run: PlatformRun, git: GitState | undefined): Dependency | undefined {
  if (run.source.commit === undefined) return undefined;
  const annotations = {
    ...(git === undefined ? {} : { dirty: git.dirty }),
    ...(run.source.mergeCommit === true ? { mergeCommit: true } : {}),
  };
  return {
    ...(run.source.uri === undefined ? {} : { uri: run.source.uri }),
    digest: { gitCommit: run.source.commit },
    ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
  };
}

function completeness(run: PlatformRun, git: GitState | undefined, lockfiles: number): string[] {
  const missing: string[] = [];
  if (run.source.commit === undefined) missing.push('source commit: not a git checkout, or no commit yet');
  else if (
    run.source.commitFrom !== undefined &&
    git?.commit !== undefined &&
    git.commit !== run.source.commit
  ) {
    missing.push(
      `source commit: the checked-out commit ${git.commit} is not ${run.source.commitFrom} ${run.source.commit}`,
    );
  }
  // A commit id names a snapshot but not where it lives: without the repository a verifier cannot fetch or
  // match the source (SLSA v1.0 resolvedDependencies: the source's uri). CI platforms always name it.
  if (run.source.uri === undefined) {
    missing.push('source repository: unknown (no git remote "origin" with an http(s), ssh or git URL)');
  }
  if (git === undefined) missing.push('work tree: not a git checkout, so its cleanliness is unknown');
  else if (git.dirty) missing.push('work tree: uncommitted or untracked changes');
  if (lockfiles === 0) missing.push(`lockfile: none found (${LOCKFILE_NAMES.join(', ')})`);
  return missing;
}

/**
 * Builds a SLSA Provenance v1 predicate (slsa.dev/spec/v1.0/provenance) in an in-toto Statement v1 for the
 * given artifacts, describing the build platform found in `env` (GitHub Actions, GitLab CI, else a local
 * build read from git). Pure given its injected env, clock, git reader and toolchain probe.
 */
export async function buildProvenance(o: ProvenanceOptions): Promise<ProvenanceResult> {
  const cwd = resolve(o.cwd ?? '.');
  const now = o.now ?? (() => new Date());
  const env = pickEnv(o.env);
  const platform = detectPlatform(env);
  const startedOn =
    o.startedOn === undefined ? undefined : parseTimestamp(o.startedOn, '--started-on', 'ERR_USAGE');
  const finishedOn = formatTimestamp(now());
  // Only the flag is checked: a CI server's clock may run slightly ahead of its runner's.
  if (startedOn !== undefined && startedOn > finishedOn) {
    throw new VouchError('ERR_USAGE', `--started-on ${startedOn} is after the build's finish ${finishedOn}`);
  }
  // Cheap checks first (environment, git, lockfiles, --strict), so a refusal never waits on hashing artifacts.
  const git = await (o.git ?? readGit)(cwd);
  const run = platform === 'github' ? githubRun(env) : platform === 'gitlab' ? gitlabRun(env) : localRun(git);
  const lockfiles = await lockfileDependencies(cwd, o.lockfile);
  const incomplete = completeness(run, git, lockfiles.length);
  if (o.strict === true && incomplete.length > 0) {
    throw new VouchError(
      'ERR_PROVENANCE_INCOMPLETE',
      `provenance would be incomplete: ${incomplete.join('; ')}`,
      { details: { missing: incomplete } },
    );
  }
  const subjects = await resolveSubjects(o.subjects, cwd);
  const toolchain = await (o.toolchain ?? probeToolchain)(env.npm_config_user_agent);
  const started = startedOn ?? run.startedOn;

  const source = sourceDependency(run, git);
  const predicate = {
    buildDefinition: {
      buildType: run.buildType,
      externalParameters: run.externalParameters,
      // SLSA §Extension fields: `<vendor>_<field>`, so it cannot collide with a build type's own names.
      internalParameters: { ...run.internalParameters, vouch_os: toolchain.os },
      resolvedDependencies: [
        ...(source === undefined ? [] : [source]),
        ...lockfiles,
        ...toolchainDependencies(toolchain, run.image),
      ],
    },
    runDetails: {
      builder: run.builder,
      metadata: {
        ...(run.invocationId === undefined ? {} : { invocationId: run.invocationId }),
        ...(started === undefined ? {} : { startedOn: started }),
        finishedOn,
      },
    },
  };
  const statement = buildStatement({ subjects, predicateType: SLSA_PROVENANCE_V1, predicate });
  return { statement, platform, incomplete };
}
