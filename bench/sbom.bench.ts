// SBOM of the largest npm lockfile vector, whole processes in the same run: `vouch sbom` (built dist/) vs
// `cyclonedx-npm --package-lock-only` vs `cdxgen` (installed on demand into bench/.tools, lockfile only, no
// network). Median wall time, peak RSS (/usr/bin/time -f %M) and component counts of each; plus Vouch's
// in-process library time (readLockfile + toCycloneDx + stringify), which CLI start-up does not blur.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleCli } from '../scripts/bundle-cli.js';
import { generateSbom } from '../src/attest/index.js';
import { report, workPath } from './lib.js';

const RUNS = Number(process.env['VOUCH_BENCH_SBOM_RUNS'] ?? 5);
const REPO = resolve(import.meta.dirname, '..');
const LOCKFILES = resolve(REPO, '..', 'shared', 'vectors', 'lockfiles');
const TOOLS = join(REPO, 'bench', '.tools');
const CDXGEN = join(TOOLS, 'node_modules', '.bin', 'cdxgen');
const CDX_NPM = join(REPO, 'node_modules', '@cyclonedx', 'cyclonedx-npm', 'bin', 'cyclonedx-npm-cli.js');

// The largest package-lock.json vector, in a project folder of its own (cyclonedx-npm runs `npm ls` there).
const lockName = readdirSync(LOCKFILES)
  .filter((f) => f.endsWith('package-lock.json'))
  .sort((a, b) => statSync(join(LOCKFILES, b)).size - statSync(join(LOCKFILES, a)).size)[0];
if (lockName === undefined) throw new Error(`no package-lock.json vector in ${LOCKFILES}`);
const dir = workPath('sbom-project');
mkdirSync(dir, { recursive: true });
copyFileSync(join(LOCKFILES, lockName), join(dir, 'package-lock.json'));
const manifest = join(LOCKFILES, lockName.replace(/package-lock\.json$/, 'package.json'));
if (existsSync(manifest)) copyFileSync(manifest, join(dir, 'package.json'));
else {
  const root = (
    JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, object> }
  ).packages[''];
  writeFileSync(join(dir, 'package.json'), JSON.stringify(root ?? {}));
}

function must(r: ReturnType<typeof spawnSync>, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${String(r.stderr).slice(-2000)}`);
}

// Measure the code in this checkout, not a stale build: the executable users run, bundled from src/.
await bundleCli();
if (!existsSync(CDXGEN)) {
  console.log('installing @cyclonedx/cdxgen@12 into bench/.tools (once)…');
  must(
    spawnSync(
      'npm',
      ['install', '--prefix', TOOLS, '@cyclonedx/cdxgen@12', '--no-save', '--no-audit', '--no-fund'],
      {
        encoding: 'utf8',
      },
    ),
    'npm install cdxgen',
  );
}

interface Tool {
  name: string;
  out: string;
  argv: string[];
  env?: Record<string, string>;
}
const out = (n: string) => join(dir, `${n}.cdx.json`);
const tools: Tool[] = [
  {
    name: 'vouch',
    out: out('vouch'),
    argv: [
      process.execPath,
      join(REPO, 'dist', 'bin', 'vouch.js'),
      'sbom',
      '--no-installed',
      '--force',
      '--output',
      out('vouch'),
    ],
  },
  {
    name: 'cyclonedx-npm',
    out: out('cyclonedx-npm'),
    // --ignore-npm-errors: `npm ls` flags the vector's overrides as ELSPROBLEMS; the tree is read all the same.
    argv: [
      process.execPath,
      CDX_NPM,
      '--package-lock-only',
      '--ignore-npm-errors',
      '--output-format',
      'JSON',
      '--output-file',
      out('cyclonedx-npm'),
    ],
  },
  {
    name: 'cdxgen',
    out: out('cdxgen'),
    // Lockfile only: no recursion, no `npm install`, no babel usage analysis, no licence fetching (network).
    argv: [
      CDXGEN,
      '-t',
      'npm',
      '--no-recurse',
      '--no-install-deps',
      '--no-babel',
      '--no-validate',
      '--spec-version',
      '1.6',
      '-o',
      out('cdxgen'),
      '.',
    ],
    env: { FETCH_LICENSE: 'false' },
  },
];

interface Measured {
  ms: number;
  rssKiB: number;
}
function runOnce(t: Tool): Measured {
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...t.argv], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ...t.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - start;
  must(r, t.name);
  const rssKiB = Number(r.stderr.trim().split('\n').at(-1));
  return { ms, rssKiB };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

interface Named {
  group?: string;
  name: string;
  version?: string;
  components?: Named[];
}
/** Every component, nested ones too (cyclonedx-npm nests a package under the one whose folder holds it). */
function componentSet(path: string): { listed: number; unique: Set<string> } {
  const all: Named[] = [];
  const walk = (cs: readonly Named[] | undefined): void => {
    for (const c of cs ?? []) {
      all.push(c);
      walk(c.components);
    }
  };
  walk((JSON.parse(readFileSync(path, 'utf8')) as { components?: Named[] }).components);
  return {
    listed: all.length,
    unique: new Set(all.map((x) => `${x.group ? `${x.group}/` : ''}${x.name}@${x.version ?? ''}`)),
  };
}

// Interleaved runs, so load from other processes on the machine falls on every tool alike.
const times = new Map<string, number[]>(tools.map((t) => [t.name, []]));
const rss = new Map<string, number[]>(tools.map((t) => [t.name, []]));
for (let i = 0; i < RUNS; i++) {
  for (const t of tools) {
    const m = runOnce(t);
    times.get(t.name)?.push(m.ms);
    rss.get(t.name)?.push(m.rssKiB);
  }
}

// In-process: the first call (cold: JIT, first reads) and the median of the next ones.
const lib: number[] = [];
for (let i = 0; i <= RUNS; i++) {
  const t = performance.now();
  await generateSbom({
    lockfile: join(dir, 'package-lock.json'),
    installed: false,
    format: 'cyclonedx',
    timestamp: new Date(0),
    tool: { name: 'vouch', version: 'bench' },
  });
  lib.push(performance.now() - t);
}

const sets = new Map(tools.map((t) => [t.name, componentSet(t.out)]));
const ours = sets.get('vouch');
console.log(`\nlockfile: ${lockName} (${RUNS} runs each, interleaved)`);
for (const t of tools) {
  const s = sets.get(t.name);
  const same =
    ours !== undefined &&
    s !== undefined &&
    s.unique.size === ours.unique.size &&
    [...s.unique].every((k) => ours.unique.has(k));
  console.log(
    `${t.name.padEnd(14)} median ${median(times.get(t.name) ?? [])
      .toFixed(0)
      .padStart(
        6,
      )} ms  peak RSS ${(median(rss.get(t.name) ?? []) / 1024).toFixed(0).padStart(4)} MiB  components ${s?.listed} listed, ${s?.unique.size} distinct (name, version)${t.name === 'vouch' ? '' : same ? ', same set as vouch' : ', DIFFERENT set from vouch'}`,
  );
}
console.log(
  `vouch library  first ${lib[0]?.toFixed(0)} ms, then median ${median(lib.slice(1)).toFixed(0)} ms (readLockfile + toCycloneDx + stringify)`,
);

const tv = median(times.get('vouch') ?? []);
const rv = median(rss.get('vouch') ?? []);
const rows = [];
for (const ref of ['cyclonedx-npm', 'cdxgen']) {
  const tr = median(times.get(ref) ?? []);
  const rr = median(rss.get(ref) ?? []);
  rows.push({
    name: `vouch sbom vs ${ref} (wall)`,
    value: `${tv.toFixed(0)} ms`,
    reference: `${tr.toFixed(0)} ms`,
    ratio: tr / tv,
    target: 10,
  });
  rows.push({
    name: `vouch sbom vs ${ref} (peak RSS)`,
    value: `${(rv / 1024).toFixed(0)} MiB`,
    reference: `${(rr / 1024).toFixed(0)} MiB`,
    ratio: rr / rv,
  });
  rows.push({
    name: `vouch library vs ${ref} (wall)`,
    value: `${median(lib.slice(1)).toFixed(0)} ms`,
    reference: `${tr.toFixed(0)} ms`,
    ratio: tr / median(lib.slice(1)),
  });
}
report(`SBOM of ${lockName} (median of ${RUNS})`, rows);
