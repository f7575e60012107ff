import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { tempDir } from '../helpers.js';

/** The CI files this folder lints, relative to the checkout. */
export const ROOT = resolve(import.meta.dirname, '..', '..');
export const ACTION = 'action.yml';
export const WORKFLOW = 'examples/github/release.yml';
export const TEMPLATE = 'ci/gitlab/vouch.gitlab-ci.yml';
export const GITLAB_EXAMPLE = 'examples/gitlab/.gitlab-ci.yml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Obj = { [key: string]: Json };

export function text(rel: string): string {
  return readFileSync(join(ROOT, rel), 'utf8');
}

/** YAML 1.2 (so `on:` stays a string), duplicate keys refused. */
export function yamlOf(rel: string): Obj {
  return obj(parse(text(rel), { uniqueKeys: true }) as Json, rel);
}

export function obj(v: Json | undefined, what: string): Obj {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) {
    throw new TypeError(`${what} is not a mapping`);
  }
  return v;
}

export function list(v: Json | undefined, what: string): Json[] {
  if (!Array.isArray(v)) throw new TypeError(`${what} is not a sequence`);
  return v;
}

export function str(v: Json | undefined): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** One call of the vouch CLI a CI file makes, and where it was found. */
export interface Invocation {
  readonly where: string;
  readonly argv: readonly string[];
}

/**
 * A stand-in for dist/bin/vouch.js: it appends its argv as one JSON line to $VOUCH_RECORD, writes the SARIF
 * file $VOUCH_RECORD_SARIF where `--sarif` says, and exits with $VOUCH_RECORD_EXIT, so the real action and
 * template scripts run without a build.
 */
export function recorder(home: string): void {
  mkdirSync(join(home, 'dist', 'bin'), { recursive: true });
  writeFileSync(
    join(home, 'dist', 'bin', 'vouch.js'),
    [
      "const fs = require('node:fs');",
      "fs.appendFileSync(process.env.VOUCH_RECORD, JSON.stringify(process.argv.slice(2)) + '\\n');",
      "const sarif = process.argv.indexOf('--sarif');",
      'if (process.env.VOUCH_RECORD_SARIF && sarif > 0) {',
      '  fs.copyFileSync(process.env.VOUCH_RECORD_SARIF, process.argv[sarif + 1]);',
      '}',
      "process.exit(Number(process.env.VOUCH_RECORD_EXIT || '0'));",
      '',
    ].join('\n'),
  );
}

export function recorded(record: string): string[][] {
  if (!existsSync(record)) return [];
  return readFileSync(record, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as string[]);
}

// ---- GitHub: the composite action ----

export interface ActionRun {
  readonly code: number;
  /** The working directory the step ran in. */
  readonly dir: string;
  readonly stderr: string;
  readonly calls: string[][];
  readonly outputs: Record<string, string>;
}

/** The steps of action.yml's composite run. */
export function actionSteps(): Obj[] {
  const runs = obj(yamlOf(ACTION)['runs'], 'runs');
  return list(runs['steps'], 'runs.steps').map((s, i) => obj(s, `runs.steps[${i}]`));
}

/** Every input with its default, overridden by `with`, as the runner resolves `inputs`. */
export function actionInputs(given: Obj): Record<string, string> {
  const declared = obj(yamlOf(ACTION)['inputs'], 'inputs');
  const out: Record<string, string> = {};
  for (const [name, def] of Object.entries(declared)) out[name] = str(obj(def, name)['default']) ?? '';
  for (const [name, value] of Object.entries(given)) {
    if (!Object.hasOwn(declared, name)) throw new TypeError(`the action has no input ${name}`);
    out[name] = str(value) ?? '';
  }
  return out;
}

const INPUT_EXPR = /^\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}$/;

/**
 * Runs the action's `Run vouch` step as the runner does (`bash --noprofile --norc -eo pipefail <file>`),
 * its `env:` resolved from the inputs, with the recorder as Vouch. `env` adds the calling step's environment.
 */
export function runAction(given: Obj, opts: { exit?: number; env?: Record<string, string> } = {}): ActionRun {
  const step = actionSteps().find((s) => s['id'] === 'vouch');
  if (step === undefined) throw new TypeError('action.yml has no step with id vouch');
  const inputs = actionInputs(given);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(step['env'], 'env'))) {
    const m = INPUT_EXPR.exec(str(v) ?? '');
    if (m === null) throw new TypeError(`env ${k} is not exactly \${{ inputs.<name> }}`);
    env[k] = inputs[m[1] as string] ?? '';
  }
  const dir = tempDir('vouch-ci-action-');
  const home = join(dir, 'action');
  recorder(home);
  const record = join(dir, 'record.jsonl');
  const script = join(dir, 'step.sh');
  writeFileSync(script, str(step['run']) ?? '');
  const outputFile = join(dir, 'github-output');
  writeFileSync(outputFile, '');
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'],
      GITHUB_ACTION_PATH: home,
      GITHUB_OUTPUT: outputFile,
      VOUCH_RECORD: record,
      VOUCH_RECORD_EXIT: String(opts.exit ?? 0),
      ...opts.env,
      ...env,
    },
  });
  const outputs: Record<string, string> = {};
  for (const line of readFileSync(outputFile, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { code: r.status ?? -1, dir, stderr: r.stderr, calls: recorded(record), outputs };
}

/** The jobs of the example workflow, by id. */
export function workflowJobs(): [string, Obj][] {
  return Object.entries(obj(yamlOf(WORKFLOW)['jobs'], 'jobs')).map(([id, j]) => [id, obj(j, id)]);
}

export function stepsOf(job: Obj, where: string): Obj[] {
  return list(job['steps'], `${where}.steps`).map((s, i) => obj(s, `${where}.steps[${i}]`));
}

// ---- GitLab ----

/** GitLab's deep merge for `include` and `extends`: mappings merge key by key, anything else is replaced. */
export function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      b !== null &&
      typeof b === 'object' &&
      !Array.isArray(b)
        ? deepMerge(b, v)
        : v;
  }
  return out;
}

const GLOBAL_KEYWORDS = new Set([
  'default',
  'include',
  'stages',
  'variables',
  'workflow',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
  'spec',
]);

export function isJobKey(key: string): boolean {
  return !GLOBAL_KEYWORDS.has(key);
}

/** The example with its `include: local` files merged in (the including file wins), as GitLab builds it. */
export function gitlabMerged(rel: string): Obj {
  const main = yamlOf(rel);
  let merged: Obj = {};
  const includes = main['include'] === undefined ? [] : list(main['include'], 'include');
  for (const inc of includes) {
    const local = str(obj(inc, 'include[]')['local']);
    if (local === undefined) throw new TypeError('only include: local is resolved here');
    merged = deepMerge(merged, yamlOf(local.replace(/^\//, '')));
  }
  return deepMerge(merged, main);
}

/** A job with its `extends` chain resolved (GitLab allows 11 levels). */
export function resolveJob(config: Obj, name: string, depth = 0): Obj {
  if (depth > 11) throw new TypeError(`${name}: extends nests deeper than GitLab allows`);
  const job = obj(config[name], name);
  const parents = job['extends'] === undefined ? [] : [job['extends']].flat();
  let out: Obj = {};
  for (const p of parents) out = deepMerge(out, resolveJob(config, str(p) ?? '', depth + 1));
  const { extends: _drop, ...own } = job;
  return deepMerge(out, own);
}

/** `parallel: matrix` expanded into one variable set per job instance (GitLab's cartesian product per entry). */
export function matrixVariants(job: Obj): Record<string, string>[] {
  const parallel = job['parallel'];
  if (
    parallel === undefined ||
    typeof parallel !== 'object' ||
    parallel === null ||
    Array.isArray(parallel)
  ) {
    return [{}];
  }
  const out: Record<string, string>[] = [];
  for (const entry of list(parallel['matrix'], 'parallel.matrix')) {
    let variants: Record<string, string>[] = [{}];
    for (const [k, v] of Object.entries(obj(entry, 'matrix entry'))) {
      const values = Array.isArray(v) ? v.map((x) => str(x) ?? '') : [str(v) ?? ''];
      variants = variants.flatMap((base) => values.map((x) => ({ ...base, [k]: x })));
    }
    out.push(...variants);
  }
  return out;
}

export function variablesOf(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v === undefined ? {} : obj(v, 'variables'))) out[k] = str(x) ?? '';
  return out;
}

export function scriptLines(v: Json | undefined): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  return list(v, 'script').flatMap((x) => (Array.isArray(x) ? x.map((y) => str(y) ?? '') : [str(x) ?? '']));
}

/** GitLab expands `$VAR` and `${VAR}` in variable values before the job starts; so does this. */
export function expandVariables(vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const expand = (s: string, seen: Set<string>): string =>
    s.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (m, a?: string, b?: string) => {
      const name = (a ?? b) as string;
      const value = vars[name];
      if (value === undefined || seen.has(name)) return m;
      return expand(value, new Set([...seen, name]));
    });
  for (const [k, v] of Object.entries(vars)) out[k] = expand(v, new Set([k]));
  return out;
}

export interface JobRun {
  readonly code: number;
  readonly stderr: string;
  readonly calls: string[][];
  /** $CI_PROJECT_DIR, the job's working directory. */
  readonly dir: string;
}

/**
 * Runs a resolved GitLab job's before_script + script the way the runner does (one shell, lines in order,
 * stop at the first failure) with `sh -e` (dash on Debian, as in node:20 when bash is not picked). The
 * recorder stands in for a Vouch build in $VOUCH_HOME (default $CI_PROJECT_DIR/.vouch, as in the template)
 * unless `install` asks for the installer to run; the job's own files stay outside $CI_PROJECT_DIR.
 */
export function runJob(
  job: Obj,
  layers: { global?: Record<string, string>; matrix?: Record<string, string> } = {},
  opts: { exit?: number; sarif?: string; project?: string; install?: boolean } = {},
): JobRun {
  const scratch = tempDir('vouch-ci-gitlab-');
  const project = opts.project ?? join(scratch, 'project');
  mkdirSync(project, { recursive: true });
  const record = join(scratch, 'record.jsonl');
  // GitLab's precedence: predefined < global `variables` < job `variables` < `parallel: matrix`.
  const env = expandVariables({
    CI_PROJECT_DIR: project,
    ...layers.global,
    ...variablesOf(job['variables']),
    ...layers.matrix,
  });
  if (opts.install !== true) recorder(env['VOUCH_HOME'] ?? join(project, '.vouch'));
  const script = [...scriptLines(job['before_script']), ...scriptLines(job['script'])].join('\n');
  writeFileSync(join(scratch, 'job.sh'), script);
  const r = spawnSync('sh', ['-e', join(scratch, 'job.sh')], {
    cwd: project,
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'],
      ...env,
      VOUCH_RECORD: record,
      VOUCH_RECORD_EXIT: String(opts.exit ?? 0),
      ...(opts.sarif === undefined ? {} : { VOUCH_RECORD_SARIF: opts.sarif }),
    },
  });
  return { code: r.status ?? -1, stderr: r.stderr, calls: recorded(record), dir: project };
}

/** Shell words of a simple command line (quotes honoured, no expansion), for the lines that call `vouch`. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g))
    words.push(m[1] ?? m[2] ?? m[3] ?? '');
  return words;
}
