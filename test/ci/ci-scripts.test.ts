import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { vouch } from '../cli/harness.js';
import { tempDir } from '../helpers.js';
import {
  GITLAB_EXAMPLE,
  gitlabMerged,
  type Invocation,
  isJobKey,
  matrixVariants,
  type Obj,
  obj,
  resolveJob,
  runAction,
  runJob,
  scriptLines,
  shellWords,
  stepsOf,
  str,
  TEMPLATE,
  variablesOf,
  WORKFLOW,
  workflowJobs,
  yamlOf,
} from './ci-fixture.js';

// The action's and the template's shell really run here (bash as GitHub runs it, dash for GitLab's sh),
// with a recorder in place of dist/bin/vouch.js: what reaches vouch is what these tests see.

/** A calling step's env with every expression replaced by a placeholder (no secret exists here). */
function stepEnv(step: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(step['env'] === undefined ? {} : obj(step['env'], 'env'))) out[k] = `<${k}>`;
  return out;
}

function actionUses(): { where: string; step: Obj }[] {
  return workflowJobs().flatMap(([id, job]) =>
    stepsOf(job, id)
      .filter((s) => s['uses'] === './')
      .map((step) => ({ where: `${WORKFLOW} ${id}: ${str(step['name']) ?? ''}`, step })),
  );
}

const BUNDLES = [
  'release/app.tgz.sigstore.json',
  'release/app.provenance.sigstore.json',
  'release/app.sbom.sigstore.json',
  'release/app.vulns.sigstore.json',
];
/** `${HOME}`, which a shell would expand. */
const BRACED_HOME = `\${HOME}`;
/** The signature bundle, then the three attestation bundles, as verify --policy takes them. */
const BUNDLE_FLAGS = BUNDLES.flatMap((b, i) => [i === 0 ? '--bundle' : '--attestation', b]);

describe('action.yml run step: what each example step passes to vouch', () => {
  const expected: Record<string, string[][]> = {
    'build: Provenance': [
      ['provenance', '--output', 'release/provenance.json', '--subject', 'dist/app.tgz', '--strict'],
    ],
    'build: SBOM': [['sbom', '--output', 'release/sbom.json']],
    'build: Import it': [['vuln', 'db', 'import', 'osv-npm.zip']],
    'build: Vulnerability scan': [['scan', 'release/sbom.json', '--output', 'release/vulns.json']],
    'sign: Install Vouch': [],
    'sign: Sign the package': [
      ['sign', 'dist/app.tgz', '--key', 'env:VOUCH_SIGNING_KEY', '--bundle', 'release/app.tgz.sigstore.json'],
    ],
    'sign: Attest the provenance': [
      [
        'attest',
        'dist/app.tgz',
        '--key',
        'env:VOUCH_SIGNING_KEY',
        '--bundle',
        'release/app.provenance.sigstore.json',
        '--type',
        'slsa',
        '--predicate',
        'release/provenance.json',
      ],
    ],
    'sign: Attest the SBOM': [
      [
        'attest',
        'dist/app.tgz',
        '--key',
        'env:VOUCH_SIGNING_KEY',
        '--bundle',
        'release/app.sbom.sigstore.json',
        '--type',
        'cyclonedx',
        '--predicate',
        'release/sbom.json',
      ],
    ],
    'sign: Attest the vulnerability scan': [
      [
        'attest',
        'dist/app.tgz',
        '--key',
        'env:VOUCH_SIGNING_KEY',
        '--bundle',
        'release/app.vulns.sigstore.json',
        '--type',
        'vulns',
        '--predicate',
        'release/vulns.json',
      ],
    ],
    'sign: Gate (fast tier)': [
      [
        'verify',
        'dist/app.tgz',
        ...BUNDLE_FLAGS,
        '--policy',
        'examples/policies/release-gate.yaml',
        '--tier',
        'fast',
      ],
    ],
    'gate: Gate (deep tier)': [
      [
        'verify',
        'dist/app.tgz',
        ...BUNDLE_FLAGS,
        '--policy',
        'examples/policies/release-gate.yaml',
        '--tier',
        'deep',
        '--sarif',
        'vouch.sarif',
      ],
    ],
  };

  it('every use of the action in the workflow runs exactly the expected vouch command', () => {
    const seen: string[] = [];
    for (const { where, step } of actionUses()) {
      const key = where.replace(`${WORKFLOW} `, '');
      seen.push(key);
      const r = runAction(obj(step['with'], 'with'), { env: stepEnv(step) });
      assert.equal(r.code, 0, `${where}: ${r.stderr}`);
      assert.deepEqual(r.calls, expected[key], where);
    }
    assert.deepEqual(seen.sort(), Object.keys(expected).sort());
  });

  it('outputs: the bundle written, the decision, the exit code', () => {
    const sign = runAction({ command: 'sign', artifact: 'app.tgz', key: 'env:K' });
    assert.deepEqual(sign.outputs, {
      'exit-code': '0',
      decision: '',
      bundle: 'app.tgz.sigstore.json',
      sarif: '',
    });
    const attest = runAction({
      command: 'attest',
      artifact: 'app.tgz',
      key: 'env:K',
      'predicate-type': 'slsa',
    });
    assert.equal(attest.outputs['bundle'], 'app.tgz.intoto.sigstore.json');
    const named = runAction({ command: 'sign', artifact: 'app.tgz', key: 'env:K', bundle: 'out/b.json' });
    assert.equal(named.outputs['bundle'], 'out/b.json');
    const digest = runAction({ command: 'sign', artifact: `sha256:${'0'.repeat(64)}`, key: 'env:K' });
    assert.equal(digest.outputs['bundle'], '', 'no default bundle beside a digest');
    const verify = runAction({ command: 'verify', artifact: 'app.tgz', bundle: 'app.tgz.sigstore.json' });
    assert.equal(verify.outputs['bundle'], '', 'verify reads bundles, it writes none');
  });

  it('a denial fails the step with exit 1 and decision=deny; other failures are decision=error', () => {
    const deny = runAction({ command: 'verify', artifact: 'a', policy: 'p.yaml' }, { exit: 1 });
    assert.equal(deny.code, 1);
    assert.equal(deny.outputs['decision'], 'deny');
    assert.equal(deny.outputs['exit-code'], '1');
    const broken = runAction({ command: 'verify', artifact: 'a', policy: 'p.yaml' }, { exit: 3 });
    assert.equal(broken.code, 3);
    assert.equal(broken.outputs['decision'], 'error');
    const allow = runAction({ command: 'policy eval', artifact: 'p.yaml' });
    assert.equal(allow.outputs['decision'], 'allow');
    const failedSign = runAction({ command: 'sign', artifact: 'app.tgz', key: 'env:K' }, { exit: 1 });
    assert.equal(failedSign.outputs['bundle'], '', 'no bundle output when signing failed');
  });

  it('the sarif output names the file only when vouch wrote one', () => {
    const dir = tempDir('vouch-ci-sarif-');
    const sarif = join(dir, 'in.sarif');
    writeFileSync(sarif, '{"version":"2.1.0","runs":[]}');
    const verify = { command: 'verify', artifact: 'a', policy: 'p.yaml', sarif: 'vouch.sarif' };
    assert.equal(runAction(verify, { env: { VOUCH_RECORD_SARIF: sarif } }).outputs['sarif'], 'vouch.sarif');
    assert.equal(runAction(verify).outputs['sarif'], '');
  });

  it('inputs stay data: no word splitting, globbing, command substitution or variable expansion', () => {
    const hostile = [
      '$(touch pwned)',
      '`touch pwned`',
      '; touch pwned',
      '*',
      '$HOME',
      'two words',
      'it\'s "quoted"',
    ];
    const r = runAction({
      command: 'verify',
      artifact: '$(touch pwned) *',
      policy: BRACED_HOME,
      args: `${hostile.join('\n')}\r\n\n--json`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [
      ['verify', '$(touch pwned) *', '--policy', BRACED_HOME, ...hostile, '--json'],
    ]);
    assert.equal(existsSync(join(r.dir, 'pwned')), false);
  });

  it('refuses, with exit 2 and without running vouch, what it cannot pass on safely', () => {
    const cases: [Obj, RegExp][] = [
      [{ command: '' }, /command input is empty/],
      [{ command: 'keygen' }, /unknown command/],
      [{ command: 'sign; touch pwned' }, /other than command words/],
      [{ command: '$(touch pwned)' }, /other than command words/],
      [{ command: 'install now' }, /install takes no subcommand/],
      [{ command: 'sign\nverify' }, /takes one line/],
      [{ command: 'sign', artifact: 'a\n::set-output name=x::y' }, /takes one line/],
      [{ command: 'sign', key: '-----BEGIN PRIVATE KEY----- MIIB' }, /holds a PEM/],
      [{ command: 'sign', key: '-----BEGIN PRIVATE KEY-----\nMIIB' }, /takes one line/],
      [{ command: 'verify', json: 'yes' }, /json takes true or false/],
    ];
    for (const [given, message] of cases) {
      const r = runAction(given);
      assert.equal(r.code, 2, JSON.stringify(given));
      assert.match(r.stderr, message);
      assert.deepEqual(r.calls, []);
      assert.ok(!r.stderr.includes('pwned') && !r.stderr.includes('set-output'), 'the value is not echoed');
      assert.equal(existsSync(join(r.dir, 'pwned')), false);
    }
  });
});

describe('GitLab template: what the example jobs pass to vouch', () => {
  const config = gitlabMerged(GITLAB_EXAMPLE);
  const global = variablesOf(config['variables']);

  it('sign, attest (one job per matrix entry) and both verify tiers run the expected commands', () => {
    const run = (name: string, matrix: Record<string, string> = {}): string[][] => {
      const r = runJob(resolveJob(config, name), { global, matrix });
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      return r.calls;
    };
    assert.deepEqual(run('sign'), [
      ['sign', 'dist/app.tgz', '--key', 'env:VOUCH_SIGNING_KEY', '--bundle', 'release/app.tgz.sigstore.json'],
    ]);
    const attest = resolveJob(config, 'attest');
    assert.deepEqual(
      matrixVariants(attest).map((m) => run('attest', m)),
      [
        ['slsa', 'release/provenance.json', 'release/app.provenance.sigstore.json'],
        ['cyclonedx', 'release/sbom.json', 'release/app.sbom.sigstore.json'],
        ['vulns', 'release/vulns.json', 'release/app.vulns.sigstore.json'],
      ].map(([type, predicate, bundle]) => [
        [
          'attest',
          'dist/app.tgz',
          '--key',
          'env:VOUCH_SIGNING_KEY',
          '--type',
          type as string,
          '--predicate',
          predicate as string,
          '--bundle',
          bundle as string,
        ],
      ]),
    );
    for (const tier of ['fast', 'deep']) {
      assert.deepEqual(run(`verify-${tier}`), [
        [
          'verify',
          'dist/app.tgz',
          '--policy',
          'examples/gitlab/release-gate.yaml',
          '--tier',
          tier,
          '--sarif',
          'vouch.sarif',
          ...BUNDLE_FLAGS,
        ],
      ]);
    }
  });

  it('a denial fails the verify job with exit 1 and still leaves a code quality report of the failed checks', () => {
    const dir = tempDir('vouch-ci-cq-');
    const sarif = join(dir, 'in.sarif');
    const result = (ruleId: string, level: string, text: string) => ({
      ruleId,
      level,
      kind: 'fail',
      message: { text },
      locations: [{ physicalLocation: { artifactLocation: { uri: 'dist/app.tgz' } } }],
      partialFingerprints: { vouchCheck: `sha256:${'a'.repeat(64)}/${ruleId}` },
    });
    const log = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'vouch', rules: [] } },
          results: [
            result('baseline.builder', 'error', 'builder "https://evil" is not the baseline'),
            result('rules.no-high-vulns', 'warning', 'GHSA-1 is high [warn]'),
            result('attestations.sbom.fresh', 'note', 'older than 30d [dry-run]'),
          ],
        },
      ],
    };
    writeFileSync(sarif, JSON.stringify(log));
    const r = runJob(resolveJob(config, 'verify-deep'), { global }, { exit: 1, sarif });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(readFileSync(join(r.dir, 'gl-code-quality-report.json'), 'utf8')) as Obj[];
    assert.deepEqual(
      report.map((i) => [i['check_name'], i['severity'], i['description'], i['location']]),
      [
        ['baseline.builder', 'critical', 'builder "https://evil" is not the baseline'],
        ['rules.no-high-vulns', 'minor', 'GHSA-1 is high [warn]'],
        ['attestations.sbom.fresh', 'info', 'older than 30d [dry-run]'],
      ].map((x) => [...x, { path: 'dist/app.tgz', lines: { begin: 1 } }]),
    );
    const fingerprints = report.map((i) => str(i['fingerprint']) ?? '');
    assert.equal(new Set(fingerprints).size, 3);
    for (const f of fingerprints) assert.match(f, /^[0-9a-f]{64}$/);
    for (const i of report) assert.equal(i['type'], 'issue');
  });

  it('an allowed release leaves an empty code quality report', () => {
    const dir = tempDir('vouch-ci-cq-');
    const sarif = join(dir, 'in.sarif');
    writeFileSync(sarif, JSON.stringify({ version: '2.1.0', runs: [{ results: [] }] }));
    const r = runJob(resolveJob(config, 'verify-deep'), { global }, { sarif });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(r.dir, 'gl-code-quality-report.json'), 'utf8')), []);
  });

  it('variables stay data: no splitting, globbing or command substitution; one argument per line', () => {
    const template = yamlOf(TEMPLATE);
    const hostile = ['$(touch pwned)', '`touch pwned`', '; touch pwned', '*', '$HOME', 'two words'];
    const r = runJob(resolveJob(template, '.vouch-verify'), {
      matrix: {
        VOUCH_ARTIFACT: '* $(touch pwned)',
        VOUCH_BUNDLE: 'a b.json\n\n*.json',
        VOUCH_ARGS: hostile.join('\n'),
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [
      [
        'verify',
        '* $(touch pwned)',
        '--sarif',
        'vouch.sarif',
        '--bundle',
        'a b.json',
        '--bundle',
        '*.json',
        ...hostile,
      ],
    ]);
    assert.equal(existsSync(join(r.dir, 'pwned')), false);
  });

  it('refuses a missing variable or a PEM in VOUCH_KEY with exit 2, before vouch runs', () => {
    const template = yamlOf(TEMPLATE);
    const sign = resolveJob(template, '.vouch-sign');
    const full = { VOUCH_ARTIFACT: 'a.tgz', VOUCH_KEY: 'env:K', VOUCH_BUNDLE: 'a.tgz.sigstore.json' };
    for (const missing of Object.keys(full)) {
      const r = runJob(sign, { matrix: { ...full, [missing]: '' } });
      assert.equal(r.code, 2, missing);
      assert.match(r.stderr, new RegExp(`vouch: set ${missing}`));
      assert.deepEqual(r.calls, []);
    }
    const pem = runJob(sign, { matrix: { ...full, VOUCH_KEY: '-----BEGIN PRIVATE KEY-----\nMIIB' } });
    assert.equal(pem.code, 2);
    assert.match(pem.stderr, /VOUCH_KEY holds a PEM/);
    assert.deepEqual(pem.calls, []);
  });
});

describe('GitLab template: the installer', () => {
  const template = yamlOf(TEMPLATE);
  const base = resolveJob(template, '.vouch-sign');
  const vars = { VOUCH_ARTIFACT: 'a.tgz', VOUCH_KEY: 'env:K', VOUCH_BUNDLE: 'a.tgz.sigstore.json' };

  it('without a checkout it asks for VOUCH_REPOSITORY and a full commit SHA, not a branch or tag', () => {
    for (const ref of ['', 'main', 'v1.0.0', 'abc123']) {
      const r = runJob(
        base,
        { matrix: { ...vars, VOUCH_REPOSITORY: '/nowhere', VOUCH_REF: ref } },
        { install: true },
      );
      assert.equal(r.code, 2, ref);
      assert.match(r.stderr, /set VOUCH_REPOSITORY and VOUCH_REF \(a full 40-hex commit SHA\)/);
      assert.deepEqual(r.calls, []);
    }
  });

  it('fetches exactly that commit, builds it with npm ci, runs it, and leaves the work tree clean', () => {
    const git = (dir: string, ...args: string[]): string => {
      const r = spawnSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    // A git repository standing in for Vouch's: the pinned commit, then a later one that must not be used.
    const repo = tempDir('vouch-ci-repo-');
    git(repo, 'init', '--quiet');
    writeFileSync(join(repo, 'package.json'), '{"name":"vouch"}\n');
    git(repo, 'add', 'package.json');
    git(repo, 'commit', '--quiet', '-m', 'pinned');
    const pinned = git(repo, 'rev-parse', 'HEAD');
    writeFileSync(join(repo, 'package.json'), '{"name":"vouch","later":true}\n');
    git(repo, 'commit', '--quiet', '-am', 'later');
    // The project being released: a clean checkout, as the runner makes it.
    const project = tempDir('vouch-ci-project-');
    git(project, 'init', '--quiet');
    writeFileSync(join(project, 'package.json'), '{"name":"app"}\n');
    git(project, 'add', 'package.json');
    git(project, 'commit', '--quiet', '-m', 'app');
    // A stub npm on PATH: logs its call, fills its --cache, and "builds" the recorder.
    const bin = tempDir('vouch-ci-bin-');
    const npmLog = join(bin, 'npm.log');
    writeFileSync(
      join(bin, 'npm'),
      [
        '#!/bin/sh',
        'echo "$PWD $*" >> "$VOUCH_NPM_LOG"',
        'mkdir -p "$CI_PROJECT_DIR/.npm" dist/bin && touch "$CI_PROJECT_DIR/.npm/index"',
        `cp "${join(bin, 'vouch.js')}" dist/bin/vouch.js`,
        '',
      ].join('\n'),
    );
    chmodSync(join(bin, 'npm'), 0o755);
    writeFileSync(
      join(bin, 'vouch.js'),
      "require('node:fs').appendFileSync(process.env.VOUCH_RECORD, JSON.stringify(process.argv.slice(2)) + '\\n');\n",
    );
    const r = runJob(
      base,
      {
        matrix: {
          ...vars,
          VOUCH_REPOSITORY: repo,
          VOUCH_REF: pinned,
          VOUCH_NPM_LOG: npmLog,
          PATH: `${bin}:${process.env['PATH'] ?? ''}`,
        },
      },
      { project, install: true },
    );
    assert.equal(r.code, 0, r.stderr);
    const home = join(project, '.vouch');
    assert.equal(readFileSync(join(home, 'package.json'), 'utf8'), '{"name":"vouch"}\n', 'the pinned commit');
    const npmCall = readFileSync(npmLog, 'utf8').trim().split(' ');
    assert.equal(npmCall[0], home);
    assert.deepEqual(npmCall.slice(1), [
      'ci',
      '--include=dev',
      '--no-audit',
      '--no-fund',
      '--cache',
      join(project, '.npm'),
    ]);
    assert.deepEqual(r.calls, [['sign', 'a.tgz', '--key', 'env:K', '--bundle', 'a.tgz.sigstore.json']]);
    // .vouch/ and .npm/ are there, but git does not see them: `vouch provenance --strict` needs a clean tree.
    assert.ok(existsSync(join(project, '.npm', 'index')));
    assert.equal(git(project, 'status', '--porcelain', '--untracked-files=all'), '');
  });
});

// ---- The commands and flags the CI files use exist in the CLI ----

/** Every vouch call the CI files make: the action and template runs above, plus direct `vouch …` lines. */
function invocations(): Invocation[] {
  const out: Invocation[] = [];
  for (const { where, step } of actionUses()) {
    for (const argv of runAction(obj(step['with'], 'with'), { env: stepEnv(step) }).calls)
      out.push({ where, argv });
  }
  for (const [id, job] of workflowJobs()) {
    for (const s of stepsOf(job, id)) {
      for (const line of (str(s['run']) ?? '').split('\n')) {
        const w = shellWords(line.trim());
        if (w[0] === 'vouch' || (w[0] === 'npx' && w[1] === 'vouch')) {
          out.push({ where: `${WORKFLOW} ${id}`, argv: w.slice(w[0] === 'npx' ? 2 : 1) });
        }
      }
    }
  }
  const config = gitlabMerged(GITLAB_EXAMPLE);
  const global = variablesOf(config['variables']);
  for (const name of Object.keys(config).filter((k) => isJobKey(k) && !k.startsWith('.'))) {
    const job = resolveJob(config, name);
    const lines = scriptLines(job['script']);
    if (lines.some((l) => l.includes('vouch_run'))) {
      for (const matrix of matrixVariants(job)) {
        for (const argv of runJob(job, { global, matrix }).calls)
          out.push({ where: `${GITLAB_EXAMPLE} ${name}`, argv });
      }
    } else {
      for (const line of lines) {
        const w = shellWords(line);
        if (w[0] === 'vouch') out.push({ where: `${GITLAB_EXAMPLE} ${name}`, argv: w.slice(1) });
      }
    }
  }
  return out;
}

interface Help {
  readonly code: number;
  readonly usage: string;
  readonly flags: ReadonlySet<string>;
  readonly subcommands: ReadonlySet<string>;
}

const helps = new Map<string, Help>();

async function helpOf(words: readonly string[]): Promise<Help> {
  const key = words.join(' ');
  const cached = helps.get(key);
  if (cached !== undefined) return cached;
  const r = await vouch([...words, '--help']);
  const section = (title: string): string[] => {
    const at = r.stdout.indexOf(`\n${title}:\n`);
    if (at < 0) return [];
    const rest = r.stdout.slice(at + title.length + 3);
    const end = rest.search(/\n\n/);
    return (end < 0 ? rest : rest.slice(0, end)).split('\n');
  };
  const flags = new Set(
    section('Options').flatMap((l) =>
      [...l.matchAll(/^\s+(?:-\w, )?(--[a-z0-9][a-z0-9-]*)/g)].map((m) => m[1] as string),
    ),
  );
  const subcommands = new Set(section('Commands').map((l) => /^\s+([a-z][a-z-]*)/.exec(l)?.[1] ?? ''));
  const help = { code: r.code, usage: /^Usage: (.*)$/m.exec(r.stdout)?.[1] ?? '', flags, subcommands };
  helps.set(key, help);
  return help;
}

/** The command words of argv (descending while the help lists a subcommand) and the flags it uses. */
async function check(inv: Invocation): Promise<string[]> {
  const words: string[] = [];
  let help = await helpOf([inv.argv[0] ?? '']);
  words.push(inv.argv[0] ?? '');
  if (help.code !== 0 || !help.usage.startsWith(`vouch ${words.join(' ')}`)) {
    return [`${inv.where}: vouch ${words.join(' ')} is not a command`];
  }
  for (const w of inv.argv.slice(1)) {
    if (!help.subcommands.has(w)) break;
    words.push(w);
    help = await helpOf(words);
  }
  const problems: string[] = [];
  for (const a of inv.argv.slice(words.length)) {
    if (a === '--') break;
    if (!a.startsWith('--')) continue;
    const flag = a.split('=')[0] as string;
    if (!help.flags.has(flag)) problems.push(`${inv.where}: vouch ${words.join(' ')} has no ${flag}`);
  }
  return problems;
}

describe('the vouch commands and flags the CI files use exist', () => {
  it('every command and every flag is in the CLI’s --help', async () => {
    const all = invocations();
    assert.ok(all.length >= 20, `found ${all.length} calls`);
    const problems: string[] = [];
    for (const inv of all) problems.push(...(await check(inv)));
    assert.deepEqual([...new Set(problems)], []);
  });

  it('the checker does reject an unknown command and an unknown flag', async () => {
    assert.deepEqual(await check({ where: 'x', argv: ['sgin', 'a'] }), ['x: vouch sgin is not a command']);
    assert.deepEqual(await check({ where: 'x', argv: ['sign', 'a', '--keyy', 'k'] }), [
      'x: vouch sign has no --keyy',
    ]);
    assert.deepEqual(await check({ where: 'x', argv: ['vuln', 'db', 'import', 'z.zip', '--db', 'd'] }), []);
    assert.deepEqual(await check({ where: 'x', argv: ['vuln', 'db', 'import', '--dbb', 'd'] }), [
      'x: vouch vuln db import has no --dbb',
    ]);
  });
});
