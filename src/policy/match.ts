import { canonicalRegistry, planOf } from './compile.js';
import type { ArtifactRef, CompiledPolicy } from './types.js';

/** Whether one of the policy's `match` entries covers the artifact (every field an entry gives must match). */
export function policyMatches(policy: CompiledPolicy, artifact: ArtifactRef): boolean {
  const oci =
    artifact.oci === undefined
      ? undefined
      : `${canonicalRegistry(artifact.oci.registry)}/${artifact.oci.repository}`;
  const subject = {
    ...(artifact.name === undefined ? {} : { name: artifact.name }),
    ...(artifact.purl === undefined ? {} : { purl: artifact.purl }),
    ...(oci === undefined ? {} : { oci }),
  };
  return planOf(policy).match.some((m) => m(subject));
}

/** The first policy, in the order given, that matches the artifact. */
export function selectPolicy(
  policies: readonly CompiledPolicy[],
  artifact: ArtifactRef,
): CompiledPolicy | undefined {
  return policies.find((p) => policyMatches(p, artifact));
}
