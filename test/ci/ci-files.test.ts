import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { vouch } from '../cli/harness.js';
import {
  ACTION,
  actionSteps,
  GITLAB_EXAMPLE,
  gitlabMerged,
  isJobKey,
  type Json,
  list,
  type Obj,
  obj,
  ROOT,
  resolveJob,
  scriptLines,
  stepsOf,
  str,
  TEMPLATE,
  text,
  WORKFLOW,
  workflowJobs,
  yamlOf,
} from './ci-fixture.js';

// ---- GitHub: GitHub's own parser and schemas (@actions/workflow-parser) are the judge ----

async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  if (parsed.value !== undefined) await convertWorkflowTemplate(parsed.context, parsed.value);
  return parsed.context.errors.getErrors().map((e) => e.message);
}

function actionErrors(content: string): string[] {
  const parsed = parseAction({ name: 'action.yml', content }, new NoOperationTraceWriter());
  if (parsed.value !== undefined) convertActionTemplate(parsed.context, parsed.value);
  return parsed.context.errors.getErrors().map((e) => e.message);
}

describe('GitHub workflow and action: GitHub’s parser reports nothing', () => {
  it(`${WORKFLOW} parses and converts without an error`, async () => {
    assert.deepEqual(await workflowErrors('release.yml', text(WORKFLOW)), []);
  });

  it('the parser does catch a broken workflow (it is not a no-op judge)', async () => {
    const broken = text(WORKFLOW).replace(
      '    runs-on: ubuntu-latest\n',
      '    runs-on: ubuntu-latest\n    timeout: 5\n',
    );
    const errors = await workflowErrors('release.yml', broken);
    assert.ok(
      errors.some((e) => e.includes("Unexpected value 'timeout'")),
      errors.join('\n'),
    );
  });

  it(`${ACTION} is valid action metadata`, () => {
    assert.deepEqual(actionErrors(text(ACTION)), []);
  });

  it('the action parser does catch a composite run step without a shell', () => {
    const broken = text(ACTION).replace(
      '    - name: Install Vouch\n      shell: bash\n',
      '    - name: Install Vouch\n',
    );
    assert.notEqual(broken, text(ACTION));
    assert.ok(actionErrors(broken).some((e) => e.includes('Required property is missing: shell')));
  });
});

// ---- Safety properties of the GitHub files ----

/** Every step of the workflow and of the action, with a label. */
function allSteps(): [string, Obj][] {
  const out: [string, Obj][] = [];
  for (const [id, job] of workflowJobs()) {
    for (const [i, s] of stepsOf(job, id).entries()) out.push([`${WORKFLOW} ${id}.steps[${i}]`, s]);
  }
  for (const [i, s] of actionSteps().entries()) out.push([`${ACTION} runs.steps[${i}]`, s]);
  return out;
}

/** Script injection: an expression inside `run:` is pasted into the script before the shell parses it. */
function expressionsInRun(steps: readonly [string, Obj][]): string[] {
  return steps.filter(([, s]) => (str(s['run']) ?? '').includes('${{')).map(([where]) => where);
}

const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$/;

function unpinned(steps: readonly [string, Obj][]): string[] {
  const bad: string[] = [];
  for (const [where, s] of steps) {
    const uses = str(s['uses']);
    if (uses === undefined || uses.startsWith('./')) continue;
    if (uses.startsWith('docker://') ? !/@sha256:[0-9a-f]{64}$/.test(uses) : !PINNED.test(uses)) {
      bad.push(`${where}: ${uses}`);
    }
  }
  return bad;
}

/** Where `${{ secrets.* }}` and `github.token` may appear: a step's `env:` only (never `with:`, `run:` or a job env). */
function secretsOutsideStepEnv(): string[] {
  const bad: string[] = [];
  const walk = (v: Json, path: string): void => {
    if (typeof v === 'string') {
      if (
        /\b(secrets\.|github\.token)/.test(v) &&
        !/^jobs\.[^.]+\.steps\[\d+\]\.env\.[A-Za-z_][A-Za-z0-9_]*$/.test(path)
      ) {
        bad.push(path);
      }
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, path === '' ? k : `${path}.${k}`);
    }
  };
  walk(yamlOf(WORKFLOW), '');
  return bad;
}

/** The write scopes a job's steps need: the justification for every `write` it holds. */
function writesNeeded(job: Obj, id: string): Set<string> {
  const need = new Set<string>();
  for (const s of stepsOf(job, id)) {
    if ((str(s['uses']) ?? '').startsWith('github/codeql-action/upload-sarif@')) need.add('security-events');
    if (/\bgh release (create|upload|edit)\b/.test(str(s['run']) ?? '')) need.add('contents');
  }
  return need;
}

describe('GitHub files: safety properties', () => {
  it('no expression inside any run: script (inputs and event data go through env:)', () => {
    assert.deepEqual(expressionsInRun(allSteps()), []);
    const crafted: [string, Obj][] = [['crafted', { run: `echo "\${{ github.event.issue.title }}"` }]];
    assert.deepEqual(expressionsInRun(crafted), ['crafted']);
  });

  it('every action from another repository is pinned to a full commit SHA, with its tag in a comment', () => {
    assert.deepEqual(unpinned(allSteps()), []);
    assert.deepEqual(unpinned([['tag', { uses: 'actions/checkout@v4' }]]), ['tag: actions/checkout@v4']);
    for (const file of [WORKFLOW, ACTION]) {
      for (const line of text(file)
        .split('\n')
        .filter((l) => /^\s*(- )?uses: (?!\.\/)/.test(l))) {
        assert.match(line, /@[0-9a-f]{40} # v\d+(\.\d+)*$/, `${file}: ${line.trim()}`);
      }
    }
  });

  it('the workflow grants nothing by default, and each job only the writes its steps need', () => {
    const wf = yamlOf(WORKFLOW);
    assert.deepEqual(wf['permissions'], {}, 'top-level permissions: {}');
    for (const [id, job] of workflowJobs()) {
      const perms = obj(job['permissions'], `${id}.permissions`);
      const writes = new Set(
        Object.entries(perms)
          .filter(([, v]) => v === 'write')
          .map(([k]) => k),
      );
      assert.deepEqual(writes, writesNeeded(job, id), `jobs.${id}.permissions`);
      for (const [scope, v] of Object.entries(perms))
        assert.ok(v === 'read' || v === 'write', `${id}.${scope}`);
    }
  });

  it('secrets and the token appear only in a step’s env:', () => {
    assert.deepEqual(secretsOutsideStepEnv(), []);
    assert.ok(
      text(WORKFLOW).includes('secrets.VOUCH_SIGNING_KEY'),
      'the example does read its key from a secret',
    );
  });

  it('keys are passed as env:VAR references, and no step that installs Vouch sees a secret', () => {
    for (const [id, job] of workflowJobs()) {
      let installed = false;
      for (const s of stepsOf(job, id)) {
        if (s['uses'] !== './') continue;
        const w = obj(s['with'], `${id} with`);
        const key = str(w['key']);
        if (key !== undefined) assert.match(key, /^env:[A-Z_][A-Z0-9_]*$/, `${id}: key ${key}`);
        if (s['env'] !== undefined && !installed) {
          assert.fail(`jobs.${id}: the first use of the action (it runs npm ci) has secrets in env`);
        }
        installed = true;
      }
    }
  });

  it('no trigger runs untrusted code with secrets (pull_request_target, workflow_run)', () => {
    const on = obj(yamlOf(WORKFLOW)['on'], 'on');
    assert.deepEqual(Object.keys(on), ['push']);
    assert.deepEqual(obj(on['push'], 'push')['tags'], ['v*']);
  });

  it('checkouts do not leave the token in .git/config', () => {
    for (const [id, job] of workflowJobs()) {
      for (const s of stepsOf(job, id)) {
        if (!(str(s['uses']) ?? '').startsWith('actions/checkout@')) continue;
        assert.equal(obj(s['with'], 'with')['persist-credentials'], false, `jobs.${id}`);
      }
    }
  });

  it('the SARIF upload runs after a denial too, and only when there is a file', () => {
    const gate = workflowJobs().find(([id]) => id === 'gate');
    assert.ok(gate !== undefined);
    const upload = stepsOf(gate[1], 'gate').find((s) => (str(s['uses']) ?? '').includes('upload-sarif@'));
    assert.ok(upload !== undefined);
    assert.equal(upload['if'], "always() && hashFiles('vouch.sarif') != ''");
    assert.equal(obj(upload['with'], 'with')['sarif_file'], 'vouch.sarif');
  });

  it('nothing is published unless the deep gate allowed it', () => {
    const needs = Object.fromEntries(workflowJobs().map(([id, job]) => [id, job['needs'] ?? null]));
    assert.deepEqual(needs, { build: null, sign: 'build', gate: 'sign', publish: 'gate' });
    const config = gitlabMerged(GITLAB_EXAMPLE);
    assert.ok(list(resolveJob(config, 'release')['needs'], 'needs').includes('verify-deep'));
    assert.ok(list(resolveJob(config, 'verify-deep')['needs'], 'needs').includes('verify-fast'));
  });

  it('the policies both examples gate on compile (vouch policy check)', async () => {
    const config = gitlabMerged(GITLAB_EXAMPLE);
    const gitlab = Object.keys(config)
      .filter((k) => isJobKey(k) && !k.startsWith('.'))
      .map((k) => str(obj(resolveJob(config, k)['variables'] ?? {}, k)['VOUCH_POLICY']));
    const github = allSteps().map(([, s]) => str(obj(s['with'] ?? {}, 'with')['policy']));
    const policies = new Set([...github, ...gitlab].filter((p) => p !== undefined));
    assert.deepEqual(
      [...policies],
      ['examples/policies/release-gate.yaml', 'examples/gitlab/release-gate.yaml'],
    );
    const r = await vouch(['policy', 'check', ...[...policies].map((p) => join(ROOT, p))]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});

describe('action.yml: inputs, outputs and scripts hold together', () => {
  const action = yamlOf(ACTION);
  const inputs = Object.keys(obj(action['inputs'], 'inputs'));

  it('every inputs.<name> used is declared, and every declared input is used', () => {
    const used = new Set(
      [...text(ACTION).matchAll(/\binputs\.([A-Za-z0-9_-]+)/g)].map((m) => m[1] as string),
    );
    assert.deepEqual([...used].sort(), [...inputs].sort());
  });

  it('outputs come from the vouch step, and every run step is bash', () => {
    const ids = new Set(actionSteps().map((s) => str(s['id'])));
    for (const [name, def] of Object.entries(obj(action['outputs'], 'outputs'))) {
      const m = /^\$\{\{ steps\.([a-z-]+)\.outputs\.([a-z-]+) \}\}$/.exec(str(obj(def, name)['value']) ?? '');
      assert.ok(m !== null && ids.has(m[1]) && m[2] === name, `output ${name}`);
    }
    for (const s of actionSteps()) if (s['run'] !== undefined) assert.equal(s['shell'], 'bash');
    assert.equal(obj(action['runs'], 'runs')['using'], 'composite');
  });

  it('every run script is valid bash (bash -n)', () => {
    for (const s of actionSteps()) {
      if (s['run'] === undefined) continue;
      const r = spawnSync('bash', ['-n'], { input: str(s['run']), encoding: 'utf8' });
      assert.equal(r.status, 0, `${str(s['name'])}: ${r.stderr}`);
    }
  });
});

// ---- GitLab: GitLab's CI schema (vendored, test/ci/schemas/README.md) is the judge ----

function gitlabSchema(): { root: ValidateFunction; job: ValidateFunction; template: ValidateFunction } {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  ajv.addSchema(JSON.parse(text('test/ci/schemas/gitlab-ci.schema.json')) as object, 'gitlab-ci');
  const get = (ref: string): ValidateFunction => {
    const v = ajv.getSchema(ref);
    if (v === undefined) throw new TypeError(`no schema ${ref}`);
    return v;
  };
  return {
    root: get('gitlab-ci'),
    job: get('gitlab-ci#/definitions/job'),
    template: get('gitlab-ci#/definitions/job_template'),
  };
}

function errorsOf(v: ValidateFunction, data: unknown): string[] {
  return v(data) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

describe('GitLab template and example: GitLab’s CI schema reports nothing', () => {
  const schema = gitlabSchema();

  for (const file of [TEMPLATE, GITLAB_EXAMPLE]) {
    it(`${file} is a valid .gitlab-ci.yml`, () => {
      assert.deepEqual(errorsOf(schema.root, yamlOf(file)), []);
    });
  }

  it('hidden jobs are checked as jobs (the schema lets any `.key` through on its own)', () => {
    const template = yamlOf(TEMPLATE);
    const hidden = Object.keys(template).filter((k) => k.startsWith('.'));
    assert.deepEqual(hidden, ['.vouch-base', '.vouch-sign', '.vouch-attest', '.vouch-verify']);
    for (const k of hidden) assert.deepEqual(errorsOf(schema.template, template[k]), [], k);
    assert.notDeepEqual(errorsOf(schema.template, { scirpt: ['vouch_run sign'] }), [], 'a typo is caught');
  });

  it('each job of the example, with include and extends resolved, is a valid job with a script', () => {
    const config = gitlabMerged(GITLAB_EXAMPLE);
    const jobs = Object.keys(config).filter((k) => isJobKey(k) && !k.startsWith('.'));
    assert.deepEqual(jobs, ['build', 'sign', 'attest', 'verify-fast', 'verify-deep', 'release']);
    for (const name of jobs) {
      const job = resolveJob(config, name);
      assert.deepEqual(errorsOf(schema.job, job), [], name);
      assert.ok(scriptLines(job['script']).length > 0, `${name} has a script`);
    }
    const typo = {
      ...yamlOf(GITLAB_EXAMPLE),
      extra: { stage: 'build', script: ['true'], artifact: { paths: ['x'] } },
    };
    assert.notDeepEqual(errorsOf(schema.root, typo), [], 'a misspelt keyword in a job is caught');
  });

  it('stages, needs and the included file exist', () => {
    const config = gitlabMerged(GITLAB_EXAMPLE);
    const stages = list(config['stages'], 'stages');
    const names = new Set(Object.keys(config));
    for (const name of Object.keys(config).filter((k) => isJobKey(k) && !k.startsWith('.'))) {
      const job = resolveJob(config, name);
      assert.ok(stages.includes(job['stage'] ?? 'test'), `${name}: stage ${String(job['stage'])}`);
      for (const n of job['needs'] === undefined ? [] : list(job['needs'], 'needs')) {
        assert.ok(names.has(str(n) ?? ''), `${name} needs ${String(n)}`);
      }
    }
    for (const inc of list(yamlOf(GITLAB_EXAMPLE)['include'], 'include')) {
      assert.ok(existsSync(join(ROOT, str(obj(inc, 'include')['local']) ?? '')));
    }
  });

  it('template jobs run on node:20, and verify keeps its SARIF and a code quality report whatever the outcome', () => {
    const template = yamlOf(TEMPLATE);
    assert.equal(resolveJob(template, '.vouch-sign')['image'], 'node:20');
    const verify = resolveJob(template, '.vouch-verify');
    const artifacts = obj(verify['artifacts'], 'artifacts');
    assert.equal(artifacts['when'], 'always');
    assert.deepEqual(artifacts['paths'], ['$VOUCH_SARIF', 'gl-code-quality-report.json']);
    assert.deepEqual(artifacts['reports'], { codequality: 'gl-code-quality-report.json' });
  });

  it('every script is valid POSIX sh (dash -n), and no key material is written into the YAML', () => {
    const config = gitlabMerged(GITLAB_EXAMPLE);
    for (const name of Object.keys(config).filter(isJobKey)) {
      const job = resolveJob(config, name);
      const script = [...scriptLines(job['before_script']), ...scriptLines(job['script'])].join('\n');
      const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    }
    for (const file of [TEMPLATE, GITLAB_EXAMPLE])
      assert.doesNotMatch(text(file), /-----BEGIN [A-Z ]+-----/, file);
  });

  it('the example signs with a key reference to a masked variable', () => {
    const config = gitlabMerged(GITLAB_EXAMPLE);
    for (const name of ['sign', 'attest']) {
      assert.equal(
        obj(resolveJob(config, name)['variables'], 'variables')['VOUCH_KEY'],
        'env:VOUCH_SIGNING_KEY',
      );
    }
  });
});
