import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isVouchError, type VouchErrorCode } from '../../src/core/index.js';
import { checkPolicy, compilePolicy, loadPolicies, loadPolicy } from '../../src/policy/index.js';
import { expectCode, tempDir } from '../helpers.js';
import { compile, KEYS, releaseGate } from './fixtures.js';

const indent = (text: string, n: number) =>
  text
    .trim()
    .split('\n')
    .map((l) => `${' '.repeat(n)}${l}`)
    .join('\n');

/** A small valid policy in YAML; `extra` lines are appended under `spec:` and `top` lines at the top. */
function yamlPolicy(o: { spec?: string; signatures?: string; top?: string } = {}): string {
  return `apiVersion: vouch.dev/v1
kind: Policy
metadata:
  name: t
${o.top ?? ''}spec:
  match:
    - name: "dist/*.tgz"
  signatures:
${
  o.signatures ??
  `    keys:
      - name: release
        publicKey: |
${indent(KEYS.release.pem, 10)}`
}
${o.spec ?? ''}`;
}

function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `${needle} not in the policy text`);
  return text.slice(0, i).split('\n').length;
}

async function rejects(text: string, code: VouchErrorCode, path: string, line?: number): Promise<string> {
  try {
    await compilePolicy(text, { source: 'p.yaml' });
  } catch (e) {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.details?.['path'], path, e.message);
    if (line !== undefined) assert.equal(e.details?.['line'], line, e.message);
    return e.message;
  }
  assert.fail(`expected ${code} at ${path}`);
}

describe('policy documents', () => {
  it('compiles the small policy and fills in the defaults', async () => {
    const p = await compilePolicy(yamlPolicy(), { source: 'p.yaml' });
    assert.equal(p.name, 't');
    assert.equal(p.source, 'p.yaml');
    assert.match(p.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(p.document.spec.signatures.threshold, 1);
    assert.deepEqual(p.document.spec.rules, []);
    assert.deepEqual(p.document.spec.exceptions, []);
    assert.equal(p.trust.keys[0]?.keyId, KEYS.release.keyId);
    assert.equal(p.trust.keys[0]?.revoked, false);
    assert.equal(p.trust.threshold, 1);
  });

  const schemaCases: { name: string; text: string; path: string; needle?: string; match?: RegExp }[] = [
    {
      name: 'unknown top-level field',
      text: yamlPolicy({ top: 'foo: 1\n' }),
      path: 'foo',
      needle: 'foo: 1',
      match: /unknown field "foo"/,
    },
    {
      name: 'wrong apiVersion',
      text: yamlPolicy().replace('vouch.dev/v1', 'vouch.dev/v2'),
      path: 'apiVersion',
      needle: 'apiVersion',
    },
    {
      name: 'wrong kind',
      text: yamlPolicy().replace('kind: Policy', 'kind: Polcy'),
      path: 'kind',
      needle: 'kind:',
    },
    {
      name: 'metadata name with spaces',
      text: yamlPolicy().replace('name: t', 'name: a b'),
      path: 'metadata.name',
      needle: 'name: a b',
    },
    {
      name: 'empty match entry',
      text: yamlPolicy().replace('    - name: "dist/*.tgz"', '    - {}'),
      path: 'spec.match[0]',
      needle: '- {}',
    },
    {
      name: 'signatures without keys or identities',
      text: yamlPolicy({ signatures: '    threshold: 1' }),
      path: 'spec.signatures',
      match: /needs keys or identities/,
    },
    {
      // cosign requires both: a subject alone would be vouched for by any OIDC issuer Fulcio serves.
      name: 'a keyless identity without an issuer',
      text: yamlPolicy({ signatures: '    identities:\n      - subject: alice@example.com\n' }),
      path: 'spec.signatures.identities[0]',
      needle: '- subject: alice',
      match: /needs issuer or issuerRegExp/,
    },
    {
      name: 'a key with both path and publicKey',
      text: yamlPolicy().replace('      - name: release\n', '      - name: release\n        path: k.pub\n'),
      path: 'spec.signatures.keys[0]',
      match: /exactly one of path or publicKey/,
    },
    {
      name: 'threshold 0',
      text: yamlPolicy().replace('    keys:\n', '    threshold: 0\n    keys:\n'),
      path: 'spec.signatures.threshold',
      needle: 'threshold: 0',
    },
    {
      name: 'a duration in words',
      text: yamlPolicy().replace('    keys:\n', '    maxAge: 30 days\n    keys:\n'),
      path: 'spec.signatures.maxAge',
      match: /<n>d/,
    },
    {
      name: 'an unknown mode',
      text: yamlPolicy({ spec: '  rules:\n    - id: r\n      expr: "true"\n      mode: audit\n' }),
      path: 'spec.rules[0].mode',
      needle: 'mode: audit',
      match: /enforce, warn, dry-run/,
    },
    {
      name: 'an id with a dot',
      text: yamlPolicy({ spec: '  rules:\n    - id: a.b\n      expr: "true"\n' }),
      path: 'spec.rules[0].id',
      needle: 'id: a.b',
    },
    {
      name: 'notAfter without a zone',
      text: yamlPolicy().replace(
        '      - name: release\n',
        '      - name: release\n        notAfter: 2027-01-01\n',
      ),
      path: 'spec.signatures.keys[0].notAfter',
    },
    {
      name: 'an exception without an owner',
      text: yamlPolicy({
        spec: '  rules:\n    - id: r\n      expr: "true"\n  exceptions:\n    - rule: rules.r\n      expires: 2027-01-01\n',
      }),
      path: 'spec.exceptions[0].owner',
    },
    { name: 'not a mapping', text: '- a\n- b\n', path: '' },
  ];
  for (const c of schemaCases) {
    it(`schema: ${c.name} is ERR_POLICY_MALFORMED at ${c.path || 'the document'}`, async () => {
      const message = await rejects(
        c.text,
        'ERR_POLICY_MALFORMED',
        c.path,
        c.needle === undefined ? undefined : lineOf(c.text, c.needle),
      );
      if (c.match !== undefined) assert.match(message, c.match);
    });
  }

  const semanticCases: { name: string; text: string; path: string; needle?: string; match: RegExp }[] = [
    {
      name: 'duplicate rule ids',
      text: yamlPolicy({
        spec: '  rules:\n    - id: r\n      expr: "true"\n    - id: r\n      expr: "false"\n',
      }),
      path: 'spec.rules[1].id',
      match: /rule id "r" is used twice/,
    },
    {
      name: 'a condition named like a built-in check',
      text: yamlPolicy({
        spec: '  attestations:\n    - id: p\n      predicateType: slsa\n      conditions:\n        - id: present\n          expr: "true"\n',
      }),
      path: 'spec.attestations[0].conditions[0].id',
      needle: 'id: present',
      match: /built-in check/,
    },
    {
      name: 'an exception for the signature threshold',
      text: yamlPolicy({
        spec: '  exceptions:\n    - rule: signatures.threshold\n      owner: a@b.c\n      expires: 2027-01-01\n',
      }),
      path: 'spec.exceptions[0].rule',
      match: /cannot waive signatures/,
    },
    {
      name: 'an exception for a rule that does not exist',
      text: yamlPolicy({
        spec: '  exceptions:\n    - rule: rules.nope\n      owner: a@b.c\n      expires: 2027-01-01\n',
      }),
      path: 'spec.exceptions[0].rule',
      match: /not a condition, baseline check or rule/,
    },
    {
      name: 'an expiry date that does not exist',
      text: yamlPolicy({
        spec: '  rules:\n    - id: r\n      expr: "true"\n  exceptions:\n    - rule: rules.r\n      owner: a@b.c\n      expires: 2026-02-30\n',
      }),
      path: 'spec.exceptions[0].expires',
      needle: 'expires: 2026-02-30',
      match: /not a date that exists/,
    },
    {
      name: 'an unknown predicate short name',
      text: yamlPolicy({ spec: '  attestations:\n    - id: p\n      predicateType: slssa\n' }),
      path: 'spec.attestations[0].predicateType',
      needle: 'predicateType: slssa',
      match: /neither a predicate type URI nor one of slsa/,
    },
    {
      name: 'a toolchain range that is not semver',
      text: yamlPolicy({ spec: '  baseline:\n    toolchain:\n      node: ">= twenty"\n' }),
      path: 'spec.baseline.toolchain.node',
      match: /not a semver range/,
    },
    {
      name: 'a backreference (not RE2) in the branch pattern',
      text: yamlPolicy({ spec: '  baseline:\n    branch: "(a)\\\\1"\n' }),
      path: 'spec.baseline.branch',
      match: /not an RE2 regexp/,
    },
    {
      name: 'a lookahead (not RE2) in an identity',
      text: yamlPolicy({
        signatures:
          '    identities:\n      - subjectRegExp: "^(?=x).*$"\n        issuer: https://accounts.google.com\n',
      }),
      path: 'spec.signatures.identities[0].subjectRegExp',
      match: /not an RE2 regexp/,
    },
    {
      name: 'a key file that does not exist',
      text: yamlPolicy({ signatures: '    keys:\n      - name: release\n        path: missing.pub\n' }),
      path: 'spec.signatures.keys[0].path',
      needle: 'path: missing.pub',
      match: /cannot read/,
    },
    {
      name: 'a public key that is no key',
      text: yamlPolicy({ signatures: '    keys:\n      - name: release\n        publicKey: "not a key"\n' }),
      path: 'spec.signatures.keys[0].publicKey',
      match: /cannot be parsed/,
    },
    {
      name: 'a threshold no set of keys can reach',
      text: yamlPolicy().replace('    keys:\n', '    threshold: 2\n    keys:\n'),
      path: 'spec.signatures.threshold',
      match: /only 1 usable key/,
    },
    {
      name: 'duplicate key names',
      text: yamlPolicy().replace(
        '    keys:\n',
        `    keys:\n      - name: release\n        publicKey: |\n${indent(KEYS.backup.pem, 10)}\n`,
      ),
      path: 'spec.signatures.keys[1].name',
      match: /key name "release" is used twice/,
    },
    {
      // Listed twice, one entry revoked: which entry won depended on the order (the revocation was lost).
      name: 'one key under two names',
      text: yamlPolicy()
        .replace(
          '    keys:\n',
          `    keys:\n      - name: old\n        revoked: true\n        publicKey: |\n${indent(KEYS.release.pem, 10)}\n`,
        )
        .replace('- name: release', '- name: again'),
      path: 'spec.signatures.keys[1].publicKey',
      match: /key "again" is the same key as "old" \(spec\.signatures\.keys\[0\]\); list each key once/,
    },
  ];
  for (const c of semanticCases) {
    it(`semantics: ${c.name} is ERR_POLICY_MALFORMED at ${c.path}`, async () => {
      const message = await rejects(
        c.text,
        'ERR_POLICY_MALFORMED',
        c.path,
        c.needle === undefined ? undefined : lineOf(c.text, c.needle),
      );
      assert.match(message, c.match);
    });
  }

  it('YAML: a duplicate key is an error with its line (a second mode must not silently win)', async () => {
    const text = yamlPolicy({
      spec: '  rules:\n    - id: r\n      expr: "true"\n      mode: warn\n      mode: enforce\n',
    });
    const message = await rejects(text, 'ERR_POLICY_MALFORMED', '', lineOf(text, 'mode: enforce'));
    assert.match(message, /unique/);
  });

  it('YAML: a syntax error names its line', async () => {
    const text = yamlPolicy({ spec: '  rules: [\n' });
    await rejects(text, 'ERR_POLICY_MALFORMED', '');
  });

  it('YAML: tags are refused, YAML 1.1 ones too (they would give Buffers and Dates, not JSON)', async () => {
    for (const tag of ['!custom x', '!!binary aGVsbG8=', '!!timestamp 2026-01-01']) {
      const text = yamlPolicy().replace('name: t', `name: ${tag}`);
      const message = await rejects(text, 'ERR_POLICY_MALFORMED', '', lineOf(text, tag));
      assert.match(message, /Unresolved tag/);
    }
  });

  it('a misspelt field is reported at its key, beside the field it lacks', async () => {
    const text = yamlPolicy({ spec: '  rules:\n    - id: r\n      exr: "true"\n' });
    const ds = await checkPolicy(text);
    assert.deepEqual(
      ds.map((d) => [d.path, d.line]),
      [
        ['spec.rules[0].expr', lineOf(text, '- id: r')],
        ['spec.rules[0].exr', lineOf(text, 'exr:')],
      ],
    );
    assert.match(
      ds[1]?.message ?? '',
      /unknown field "exr" \(expected one of id, expr, message, mode, tier\)/,
    );
  });

  it('YAML: an alias bomb is refused, not expanded', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    await expectCode(() => compilePolicy(`${bomb.join('\n')}\n`), 'ERR_POLICY_MALFORMED');
  });

  it('refuses a policy over 1 MiB before parsing it', async () => {
    await expectCode(() => compilePolicy(`# ${'x'.repeat(1024 * 1024)}\n`), 'ERR_POLICY_MALFORMED');
  });

  it('checkPolicy reports every problem, in file order, each with path, line and code', async () => {
    const text = yamlPolicy({
      top: 'foo: 1\n',
      spec: '  rules:\n    - id: r\n      expr: sbomm.format == "x"\n      mode: audit\n',
    });
    const ds = await checkPolicy(text, { source: 'p.yaml' });
    assert.deepEqual(
      ds.map((d) => [d.path, d.code]),
      [
        ['foo', 'ERR_POLICY_MALFORMED'],
        ['spec.rules[0].mode', 'ERR_POLICY_MALFORMED'],
      ],
    );
    assert.equal(ds[0]?.line, lineOf(text, 'foo: 1'));
    // Schema problems come first: CEL is checked once the document is well-formed.
    const cel = await checkPolicy(text.replace('foo: 1\n', '').replace('      mode: audit\n', ''), {
      source: 'p.yaml',
    });
    assert.deepEqual(
      cel.map((d) => [d.path, d.code]),
      [['spec.rules[0].expr', 'ERR_POLICY_CEL']],
    );
  });

  it('CEL errors carry the file position and the position inside the expression', async () => {
    const text = yamlPolicy({
      spec: '  rules:\n    - id: ok\n      expr: "true"\n    - id: bad\n      expr: |\n        artifact.name != "" &&\n          provenance.builder == "x"\n',
    });
    try {
      await compilePolicy(text, { source: 'p.yaml' });
      assert.fail('compiled');
    } catch (e) {
      assert.ok(isVouchError(e, 'ERR_POLICY_CEL'), String(e));
      assert.equal(e.details?.['path'], 'spec.rules[1].expr');
      assert.deepEqual(e.details?.['expression'], { line: 2, column: 13 });
      assert.equal(e.details?.['line'], lineOf(text, 'provenance.builder'));
      assert.equal(e.details?.['column'], 21);
      assert.match(e.message, /^p\.yaml:\d+:21: spec\.rules\[1\]\.expr: provenance has no field 'builder'/);
    }
  });

  it('reads key files relative to the policy, and a digest does not depend on where the key is', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'release.pub'), KEYS.release.pem);
    writeFileSync(
      join(dir, 'p.yaml'),
      yamlPolicy({ signatures: '    keys:\n      - name: release\n        path: release.pub\n' }),
    );
    const fromFile = await loadPolicy(join(dir, 'p.yaml'));
    const inline = await compilePolicy(yamlPolicy());
    assert.equal(fromFile.trust.keys[0]?.keyId, KEYS.release.keyId);
    assert.equal(fromFile.digest, inline.digest);
    assert.equal(fromFile.document.spec.signatures.keys[0]?.path, 'release.pub');
  });

  it('the digest covers the trusted root by its content, not by its path', async () => {
    const text = yamlPolicy({
      signatures:
        '    identities:\n      - subject: alice@example.com\n        issuer: https://accounts.google.com\n    trustedRoot: root.json\n',
    });
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    writeFileSync(
      join(a, 'root.json'),
      '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}',
    );
    writeFileSync(
      join(b, 'root.json'),
      '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.2"}',
    );
    writeFileSync(join(c, 'root.json'), readFileSync(join(a, 'root.json')));
    const [pa, pb, pc] = await Promise.all([a, b, c].map((baseDir) => compilePolicy(text, { baseDir })));
    assert.notEqual(pa?.digest, pb?.digest);
    assert.equal(pa?.digest, pc?.digest);
    assert.equal(pa?.trust.trustedRoot, join(a, 'root.json'));
    assert.equal(
      pa?.trust.trustedRootDigest,
      `sha256:${createHash('sha256')
        .update(readFileSync(join(a, 'root.json')))
        .digest('hex')}`,
    );
    try {
      await compilePolicy(text, { baseDir: tempDir() });
      assert.fail('compiled without its trusted root');
    } catch (e) {
      assert.ok(isVouchError(e, 'ERR_POLICY_MALFORMED'), String(e));
      assert.equal(e.details?.['path'], 'spec.signatures.trustedRoot');
    }
  });

  it('the same policy in YAML and in JSON has the same digest; comments and layout do not count', async () => {
    const doc = releaseGate();
    const json = await compile(doc);
    const { stringify } = await import('yaml');
    const yaml = await compilePolicy(`# a comment\n${stringify(doc)}`);
    assert.equal(yaml.digest, json.digest);
    const changed = releaseGate();
    (changed['spec'] as Record<string, unknown>)['rules'] = [{ id: 'other', expr: 'true' }];
    assert.notEqual((await compile(changed)).digest, json.digest);
  });

  it('loadPolicies reads a directory in name order and refuses two policies with one name', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'b.yaml'), yamlPolicy().replace('name: t', 'name: b'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...releaseGate(), metadata: { name: 'a' } }));
    writeFileSync(join(dir, 'notes.txt'), 'not a policy');
    // Beside policies: their tests and other JSON (a trusted root) are not policies.
    writeFileSync(
      join(dir, 'trusted_root.json'),
      '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}',
    );
    writeFileSync(join(dir, 'b.test.yaml'), 'apiVersion: vouch.dev/v1\nkind: PolicyTest\n');
    const ps = await loadPolicies([dir]);
    assert.deepEqual(
      ps.map((p) => p.name),
      ['a', 'b'],
    );
    // A policy with a misspelt kind is loaded, and refused, not left out.
    writeFileSync(join(dir, 'c.yaml'), yamlPolicy().replace('kind: Policy', 'kind: Polcy'));
    await expectCode(() => loadPolicies([dir]), 'ERR_POLICY_MALFORMED');
    writeFileSync(join(dir, 'c.yaml'), yamlPolicy().replace('name: t', 'name: b'));
    await expectCode(() => loadPolicies([dir]), 'ERR_POLICY_MALFORMED');
    await expectCode(() => loadPolicies([join(dir, 'missing')]), 'ERR_INPUT_UNREADABLE');
  });

  it('the published schema is the one the loader uses, and the example policy is valid against it', async () => {
    const schema = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'schemas', 'policy-v1.schema.json'), 'utf8'),
    );
    assert.equal(schema.$id, 'https://vouch.dev/policy/v1/schema.json');
    assert.deepEqual(
      await checkPolicy(
        readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'policies', 'release-gate.yaml')),
        {
          baseDir: join(import.meta.dirname, '..', '..', 'examples', 'policies'),
        },
      ),
      [],
    );
  });
});
