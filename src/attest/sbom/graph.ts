import type { LockfileType, PackageGraph, PackageHash, PackageNode } from './model.js';
import { npmPurl, type PackageSource } from './purl.js';
import { byCodeUnit } from './sbom-write-common.js';

/** What a reader knows about one installed package before dedupe. */
export interface NodeInput {
  readonly name: string;
  readonly version: string;
  readonly source: PackageSource;
  readonly hashes?: readonly PackageHash[];
  readonly resolved?: string | undefined;
  readonly license?: string | undefined;
  readonly licenseSource?: PackageNode['licenseSource'];
  readonly kind?: PackageNode['kind'];
  /**
   * The lockfile's own dev/optional marks for this install (npm records them). Without them the builder
   * derives both from the edges, as npm does: dev = reachable only through dev edges, optional = only
   * through optional edges.
   */
  readonly flags?: { readonly dev: boolean; readonly optional: boolean };
}

/** How the parent depends on the child; `dev` edges start only at the root or a workspace. */
export type EdgeKind = 'prod' | 'dev' | 'optional';

interface Draft {
  id: string;
  name: string;
  version: string;
  purl: string;
  hashes: PackageHash[];
  resolved?: string;
  license?: string;
  licenseSource?: PackageNode['licenseSource'];
  kind: PackageNode['kind'];
  flags?: { dev: boolean; optional: boolean };
  edges: Map<string, EdgeKind[]>;
}

/**
 * Collects nodes and edges from a reader and freezes them into a PackageGraph: one node per purl (name,
 * version, source), dependencies unioned, hashes unioned, dev/optional true only if true for every install.
 */
export class GraphBuilder {
  readonly #nodes = new Map<string, Draft>();

  /** Adds (or merges into) the node for this package and returns its id. */
  add(input: NodeInput): string {
    const id = npmPurl(input.name, input.version, input.source);
    let d = this.#nodes.get(id);
    if (d === undefined) {
      d = {
        id,
        name: input.name,
        version: input.version,
        purl: id,
        hashes: [],
        kind: input.kind ?? 'package',
        edges: new Map(),
      };
      this.#nodes.set(id, d);
    } else if (input.kind !== undefined && input.kind !== 'package') {
      d.kind = input.kind;
    }
    for (const h of input.hashes ?? []) {
      if (!d.hashes.some((x) => x.alg === h.alg && x.hex === h.hex)) d.hashes.push(h);
    }
    if (d.resolved === undefined && input.resolved !== undefined) d.resolved = input.resolved;
    if (d.license === undefined && input.license !== undefined) {
      d.license = input.license;
      if (input.licenseSource !== undefined) d.licenseSource = input.licenseSource;
    }
    if (input.flags !== undefined) {
      d.flags =
        d.flags === undefined
          ? { ...input.flags }
          : { dev: d.flags.dev && input.flags.dev, optional: d.flags.optional && input.flags.optional };
    }
    return id;
  }

  has(id: string): boolean {
    return this.#nodes.has(id);
  }

  /** Name and version of a node already added (readers use it to look up installed manifests). */
  get(
    id: string,
  ): { readonly name: string; readonly version: string; readonly license?: string } | undefined {
    return this.#nodes.get(id);
  }

  /** Sets the licence of a node that has none yet. */
  setLicense(id: string, license: string, source: NonNullable<PackageNode['licenseSource']>): void {
    const d = this.#nodes.get(id);
    if (d === undefined || d.license !== undefined) return;
    d.license = license;
    d.licenseSource = source;
  }

  ids(): IterableIterator<string> {
    return this.#nodes.keys();
  }

  edge(from: string, to: string, kind: EdgeKind): void {
    if (from === to) return;
    const d = this.#nodes.get(from);
    if (d === undefined) throw new TypeError(`GraphBuilder.edge: unknown node ${from}`);
    const kinds = d.edges.get(to);
    if (kinds === undefined) d.edges.set(to, [kind]);
    else if (!kinds.includes(kind)) kinds.push(kind);
  }

  /** Freezes the graph; `rootId` must have been added with kind `root`. */
  build(
    rootId: string,
    lockfile: { path: string; type: LockfileType; version: string; sha256: string },
  ): PackageGraph {
    const root = this.#nodes.get(rootId);
    if (root === undefined) throw new TypeError(`GraphBuilder.build: unknown root ${rootId}`);
    const starts = [...this.#nodes.values()].filter((d) => d.kind !== 'package').map((d) => d.id);
    const reached = this.#reach(starts, () => true);
    const nonDev = this.#reach(starts, (k) => k !== 'dev');
    const nonOptional = this.#reach(starts, (k) => k !== 'optional');
    const freeze = (d: Draft): PackageNode => {
      const derived = d.kind === 'package' && reached.has(d.id);
      const flags = d.flags ?? {
        dev: derived && !nonDev.has(d.id),
        optional: derived && !nonOptional.has(d.id),
      };
      return {
        id: d.id,
        name: d.name,
        version: d.version,
        purl: d.purl,
        hashes: d.hashes,
        ...(d.resolved !== undefined && { resolved: d.resolved }),
        ...(d.license !== undefined && { license: d.license }),
        ...(d.licenseSource !== undefined && { licenseSource: d.licenseSource }),
        dev: d.kind === 'package' && flags.dev,
        optional: d.kind === 'package' && flags.optional,
        kind: d.kind,
        dependencies: [...d.edges.keys()].filter((id) => this.#nodes.has(id)).sort(byCodeUnit),
      };
    };
    const packages = new Map<string, PackageNode>();
    for (const id of [...this.#nodes.keys()].sort(byCodeUnit)) {
      const d = this.#nodes.get(id);
      if (d !== undefined && id !== rootId) packages.set(id, freeze(d));
    }
    return { lockfile, root: freeze(root), packages };
  }

  /** Ids reachable from `starts` following edges that have at least one kind accepted by `follow`. */
  #reach(starts: readonly string[], follow: (k: EdgeKind) => boolean): Set<string> {
    const seen = new Set<string>(starts);
    const queue = [...starts];
    for (let i = 0; i < queue.length; i++) {
      const d = this.#nodes.get(queue[i] as string);
      if (d === undefined) continue;
      for (const [to, kinds] of d.edges) {
        if (!seen.has(to) && kinds.some(follow)) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    return seen;
  }
}
