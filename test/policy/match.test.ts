import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ArtifactRef, policyMatches, selectPolicy } from '../../src/policy/index.js';
import { compile, releaseGate } from './fixtures.js';

type Json = Record<string, unknown>;

async function withMatch(name: string, match: Json[]) {
  const doc = releaseGate();
  (doc['metadata'] as Json)['name'] = name;
  (doc['spec'] as Json)['match'] = match;
  return compile(doc);
}

const digest = `sha256:${'0'.repeat(64)}`;

describe('policyMatches / selectPolicy', () => {
  it('matches names, purls and OCI repositories by glob; every field of an entry must match', async () => {
    const p = await withMatch('m', [
      { name: 'dist/*.tgz' },
      { purl: 'pkg:npm/@acme/*' },
      { oci: '127.0.0.1:5000/acme/*' },
      { name: '*.whl', purl: 'pkg:pypi/acme-*' },
    ]);
    const cases: [ArtifactRef, boolean][] = [
      [{ digest, name: 'dist/app.tgz' }, true],
      [{ digest, name: 'build/dist/app.tgz' }, false],
      [{ digest, name: 'dist/app.zip' }, false],
      [{ digest, purl: 'pkg:npm/%40acme/app@1.2.3' }, true],
      [{ digest, purl: 'pkg:npm/@acme/app' }, true],
      [{ digest, purl: 'pkg:npm/@other/app@1.0.0' }, false],
      [{ digest, oci: { registry: '127.0.0.1:5000', repository: 'acme/web', tag: 'v1' } }, true],
      [{ digest, oci: { registry: '127.0.0.1:5000', repository: 'acme/team/web' } }, false],
      [{ digest, oci: { registry: 'ghcr.io', repository: 'acme/web' } }, false],
      [{ digest, name: 'out/acme-1.0-py3-none-any.whl', purl: 'pkg:pypi/acme-core@1.0' }, true],
      [{ digest, name: 'out/acme-1.0-py3-none-any.whl' }, false],
      [{ digest }, false],
    ];
    for (const [artifact, expected] of cases)
      assert.equal(policyMatches(p, artifact), expected, JSON.stringify(artifact));
  });

  it('a registry written another way selects the same policy (case, :443, Docker Hub aliases)', async () => {
    const hub = await withMatch('hub-acme', [{ oci: 'docker.io/acme/*' }]);
    const ghcr = await withMatch('ghcr-acme', [{ oci: 'GHCR.IO:443/acme/*' }]);
    const rest = await withMatch('default', [{ oci: '**' }]);
    const policies = [hub, ghcr, rest];
    const cases: [string, string][] = [
      ['ghcr.io', 'ghcr-acme'],
      ['ghcr.io:443', 'ghcr-acme'],
      ['GHCR.IO', 'ghcr-acme'],
      ['docker.io', 'hub-acme'],
      ['registry-1.docker.io', 'hub-acme'],
      ['index.docker.io:443', 'hub-acme'],
      ['ghcr.io:8443', 'default'],
      ['evil.example/docker.io', 'default'],
    ];
    for (const [registry, name] of cases) {
      const artifact = { digest, oci: { registry, repository: 'acme/app' } };
      assert.equal(selectPolicy(policies, artifact)?.name, name, registry);
    }
  });

  it('selectPolicy returns the first match in the order given', async () => {
    const a = await withMatch('a', [{ name: '*.tgz' }]);
    const b = await withMatch('b', [{ name: 'dist/*' }]);
    assert.equal(selectPolicy([a, b], { digest, name: 'dist/app.tgz' })?.name, 'a');
    assert.equal(selectPolicy([b, a], { digest, name: 'dist/app.tgz' })?.name, 'b');
    assert.equal(selectPolicy([a, b], { digest, name: 'dist/app.zip' })?.name, 'b');
    assert.equal(selectPolicy([a, b], { digest, name: 'app.zip' }), undefined);
  });

  it('a hand-made object is not a compiled policy (programmer misuse is a TypeError)', async () => {
    const p = await withMatch('a', [{ name: '*' }]);
    assert.throws(() => policyMatches({ ...p }, { digest, name: 'x' }), TypeError);
  });
});
