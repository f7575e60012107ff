import { generateKeyPairSync } from 'node:crypto';
import { keyIdOf, loadPublicKey } from '../../src/crypto/index.js';
import {
  type CompiledPolicy,
  compilePolicy,
  type PolicyInput,
  type VerifiedAttestation,
  type VerifiedSignature,
} from '../../src/policy/index.js';

/** Shared fixtures of the policy tests: keys, a typical release-gate policy and an input it allows. */

export interface TestKey {
  readonly pem: string;
  readonly keyId: string;
}

function newKey(): TestKey {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  return { pem, keyId: keyIdOf(loadPublicKey(pem)) };
}

export const KEYS = { release: newKey(), backup: newKey(), other: newKey() } as const;

export const NOW = new Date('2026-03-01T12:00:00Z');
export const SIGNED = new Date('2026-02-27T10:00:00Z');
export const SLSA = 'https://slsa.dev/provenance/v1';
export const CDX = 'https://cyclonedx.org/bom';
export const VULNS = 'https://in-toto.io/attestation/vulns/v0.2';
export const BUILDER = 'https://github.com/actions/runner/github-hosted';
export const BUILD_TYPE = 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1';

type Json = Record<string, unknown>;

/** A release gate like examples/policies/release-gate.yaml, with the keys inline. */
export function releaseGate(): Json {
  return {
    apiVersion: 'vouch.dev/v1',
    kind: 'Policy',
    metadata: { name: 'release-gate' },
    spec: {
      match: [{ name: 'dist/*.tgz' }, { purl: 'pkg:npm/@acme/*' }],
      signatures: {
        threshold: 1,
        keys: [
          { name: 'release', publicKey: KEYS.release.pem },
          { name: 'backup', publicKey: KEYS.backup.pem },
        ],
        maxAge: '90d',
      },
      attestations: [
        {
          id: 'provenance',
          predicateType: 'slsa',
          maxAge: '90d',
          conditions: [{ id: 'commit', expr: 'provenance.source.commit.matches("^[0-9a-f]{40}$")' }],
        },
        {
          id: 'sbom',
          predicateType: 'cyclonedx',
          conditions: [
            { id: 'complete', expr: 'size(sbom.components) > 0 && sbom.components.all(c, c.version != "")' },
            {
              id: 'licenses',
              expr: 'sbom.components.all(c, c.licenses.all(l, l in ["MIT", "ISC", "Apache-2.0"]))',
              mode: 'warn',
            },
          ],
        },
        { id: 'vulns', predicateType: 'vulns', maxAge: '7d' },
      ],
      baseline: {
        builder: BUILDER,
        sourceRepository: 'https://github.com/acme/app',
        branch: '^refs/heads/(main|release/.+)$',
        buildType: BUILD_TYPE,
        toolchain: { node: '>=20' },
      },
      rules: [
        {
          id: 'no-high-vulns',
          expr: 'vulns.findings.all(f, f.suppressed || !(f.severity in ["HIGH", "CRITICAL"]))',
          message: 'a HIGH or CRITICAL vulnerability is not covered by VEX',
        },
      ],
    },
  };
}

/** The release gate with these keys and no maxAge: a bundle signed by a key carries no verified time. */
export function keyedReleaseGate(keys: readonly { name: string; publicKey: string }[]): Json {
  const doc = releaseGate() as { spec: { signatures: Json; attestations: Json[] } };
  doc.spec.signatures['keys'] = [...keys];
  delete doc.spec.signatures['maxAge'];
  for (const a of doc.spec.attestations) delete a['maxAge'];
  return doc;
}

export async function compile(
  doc: Json,
  opts: { source?: string; baseDir?: string } = {},
): Promise<CompiledPolicy> {
  return compilePolicy(JSON.stringify(doc, null, 2), opts);
}

export function provenance(o: { ref?: string; node?: string; builder?: string; repo?: string } = {}): Json {
  const ref = o.ref ?? 'refs/heads/main';
  return {
    buildDefinition: {
      buildType: BUILD_TYPE,
      externalParameters: {
        workflow: { ref, repository: 'https://github.com/acme/app', path: '.github/workflows/r.yml' },
      },
      resolvedDependencies: [
        {
          uri: `git+${o.repo ?? 'https://github.com/acme/app'}@${ref}`,
          digest: { gitCommit: 'a'.repeat(40) },
        },
        { uri: `pkg:generic/node@${o.node ?? '20.11.1'}` },
      ],
    },
    runDetails: {
      builder: { id: o.builder ?? BUILDER },
      metadata: { startedOn: '2026-02-27T09:58:00Z', finishedOn: '2026-02-27T10:00:00Z' },
    },
  };
}

export function sbom(components: readonly Json[] = [component('left-pad', '1.3.0', 'MIT')]): Json {
  return { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components };
}

export function component(name: string, version: string, license: string): Json {
  const purl = `pkg:npm/${name}@${version}`;
  return { type: 'library', 'bom-ref': purl, name, version, purl, licenses: [{ license: { id: license } }] };
}

export function vulns(results: readonly Json[] = []): Json {
  return {
    scanner: {
      uri: 'https://vouch.dev/scan',
      version: '1',
      db: { lastUpdate: '2026-02-27T00:00:00Z' },
      result: results,
    },
    metadata: { scanStartedOn: '2026-02-27T10:01:00Z', scanFinishedOn: '2026-02-27T10:01:00Z' },
  };
}

export function finding(id: string, rating: string, suppressed = false): Json {
  return {
    id,
    severity: [{ method: 'rating', score: rating }],
    annotations: [{ purl: 'pkg:npm/minimist@1.2.5' }, ...(suppressed ? [{ suppressed: true }] : [])],
  };
}

export function signature(key: TestKey = KEYS.release, time: Date = SIGNED): VerifiedSignature {
  return { signer: { kind: 'key', keyId: key.keyId }, time, source: 'app.tgz.sigstore.json' };
}

export function attestation(
  predicateType: string,
  predicate: Json,
  key: TestKey = KEYS.release,
  time = SIGNED,
): VerifiedAttestation {
  return {
    signer: { kind: 'key', keyId: key.keyId },
    time,
    source: `app.tgz.${predicateType.split('/').at(-2) ?? 'att'}.sigstore.json`,
    predicateType,
    predicate: predicate as VerifiedAttestation['predicate'],
  };
}

/** An input the release gate allows. */
export function goodInput(): PolicyInput {
  return {
    artifact: { digest: `sha256:${'9f'.repeat(32)}`, name: 'dist/app.tgz' },
    now: NOW,
    signatures: [signature()],
    attestations: [attestation(SLSA, provenance()), attestation(CDX, sbom()), attestation(VULNS, vulns())],
  };
}
