// Bundles the `vouch` executable into dist/bin (decision 013). The library keeps its tsc output in dist/;
// only the command line is bundled, because a CLI pays on every run for each module file it resolves and
// links, and the layer barrels it imports through (attest/index.ts and the like) reach modules one command
// never calls. Dependencies stay external: they load from node_modules, lazily where src/core/lazy.ts says.
//
// Layout: vouch.js (argument parsing), one self-contained file per command (program.ts imports each only
// when it runs), and core.js, which every file imports, so there is one VouchError class and `instanceof`
// holds across files. esbuild's own code splitting is not used: it assigns whole files to chunks by import
// reachability, so a barrel import put every module of a layer in the chunk each command loads
// (evanw/esbuild#3704), while a bundle per command keeps only what that command reaches.
import { readdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const REPO = resolve(import.meta.dirname, '..');
const SRC = join(REPO, 'src');
const CORE = join(SRC, 'core', 'index.ts');
const PROGRAM = join(SRC, 'cli', 'program.ts');
const COMMANDS = join(SRC, 'cli', 'commands');

/** Rewrites imports of the shared core and of the lazily loaded commands to the sibling output files. */
const siblings: Plugin = {
  name: 'vouch-bin-siblings',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      if (args.importer === PROGRAM) {
        const m = /^\.\/commands\/([a-z-]+)\.js$/.exec(args.path);
        if (m !== null) return { path: `./${m[1]}.js`, external: true };
      }
      const target = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      if (target === CORE && args.importer !== CORE) return { path: './core.js', external: true };
      return undefined;
    });
  },
};

/** Writes vouch.js, core.js and one file per command into `outdir`, which must lie inside the package so
 * the external dependencies resolve from its node_modules. */
export async function bundleCli(outdir = join(REPO, 'dist', 'bin')): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  const commands = readdirSync(COMMANDS).filter((f) => f.endsWith('.ts'));
  await build({
    entryPoints: {
      vouch: join(SRC, 'cli', 'main.ts'),
      core: CORE,
      ...Object.fromEntries(commands.map((f) => [basename(f, '.ts'), join(COMMANDS, f)])),
    },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    plugins: [siblings],
    tsconfig: join(REPO, 'tsconfig.json'),
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleCli(process.argv[2]);
