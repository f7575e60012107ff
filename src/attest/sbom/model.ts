/**
 * The package graph every lockfile reader produces and every SBOM writer consumes. It is the one contract
 * between "how a package manager records what it installed" and "how CycloneDX/SPDX say it".
 */

/** Which lockfile dialect a graph came from. */
export type LockfileType = 'npm' | 'pnpm' | 'yarn-v1' | 'yarn-berry';

/** Digest algorithms a lockfile can carry (npm SRI, yarn v1 `#sha1` fragments). */
export type HashAlg = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface PackageHash {
  readonly alg: HashAlg;
  /** Lower-case hex of the digest of the package tarball. */
  readonly hex: string;
}

/** Where a licence string came from; an SBOM says so, because only the first is what was locked. */
export type LicenseSource = 'lockfile' | 'package.json';

export interface PackageNode {
  /**
   * Unique id within the graph: the package URL (purl spec, `pkg:npm/%40scope/name@1.2.3`, plus qualifiers
   * such as `vcs_url`/`download_url` for non-registry sources). Two installs of the same name@version in
   * different folders are one node whose `dependencies` are the union of both.
   */
  readonly id: string;
  /** The real package name (an npm alias `foo@npm:bar@1` records `bar`), scope included. */
  readonly name: string;
  readonly version: string;
  readonly purl: string;
  /** Integrity digests found in the lockfile for this package; empty when the lockfile has none. */
  readonly hashes: readonly PackageHash[];
  /** Where the tarball came from (registry or git URL), when the lockfile records it. */
  readonly resolved?: string;
  /** SPDX expression or the raw licence text as found; absent when neither lockfile nor package.json say. */
  readonly license?: string;
  readonly licenseSource?: LicenseSource;
  /** Reachable only through dev dependencies of the root or a workspace. */
  readonly dev: boolean;
  /** Reachable only through optional dependencies (npm `optional` / pnpm `optional`). */
  readonly optional: boolean;
  /** `root` is the project itself, `workspace` a workspace member, `package` anything installed. */
  readonly kind: 'root' | 'workspace' | 'package';
  /** Ids of direct dependencies, sorted, without duplicates. */
  readonly dependencies: readonly string[];
}

export interface PackageGraph {
  readonly lockfile: {
    /** Path as given to the reader (used in messages and SBOM metadata). */
    readonly path: string;
    readonly type: LockfileType;
    /** The lockfile's own format version: `3`, `9.0`, `1` (yarn v1), `6` (berry `__metadata.version`). */
    readonly version: string;
    /** SHA-256 hex of the lockfile bytes; provenance records it too. */
    readonly sha256: string;
  };
  /** The project: from package.json beside the lockfile, else the lockfile's root entry. */
  readonly root: PackageNode;
  /** Every other node (workspaces and packages) by id. Iteration order is sorted by id. */
  readonly packages: ReadonlyMap<string, PackageNode>;
}
