import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GitState } from '../../../src/attest/provenance/git.js';
import { buildProvenance, type ProvenanceResult } from '../../../src/attest/provenance/provenance.js';
import type { Toolchain } from '../../../src/attest/provenance/toolchain.js';

/** One recorded build: environment, git state, toolchain and clock, plus the files it produced. */
export interface Fixture {
  description: string;
  env: Record<string, string>;
  git: GitState | null;
  toolchain: Toolchain;
  now: string;
  options: { subjects: string[]; startedOn?: string; lockfile?: string };
  files: Record<string, string>;
  expect: { platform: string; incomplete: string[] };
  /** Values present in the environment or git state that must never appear in the output. */
  secrets: string[];
}

export const FIXTURES = join(import.meta.dirname, 'fixtures');

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function loadFixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES, name, 'input.json'), 'utf8')) as Fixture;
}

/** Replays a fixture in `dir`: writes its files, then builds provenance with everything injected. */
export async function replay(f: Fixture, dir: string): Promise<ProvenanceResult> {
  for (const [path, content] of Object.entries(f.files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return buildProvenance({
    subjects: f.options.subjects,
    env: f.env,
    cwd: dir,
    ...(f.options.startedOn === undefined ? {} : { startedOn: f.options.startedOn }),
    ...(f.options.lockfile === undefined ? {} : { lockfile: f.options.lockfile }),
    now: () => new Date(f.now),
    git: async () => f.git ?? undefined,
    toolchain: async () => f.toolchain,
  });
}
