import { VouchError } from '../core/index.js';

/**
 * Short names for predicate types, so `--type slsa` works like cosign's `--type slsaprovenance1`.
 * cosign's own short names are accepted too. Anything with a scheme is taken as the URI itself.
 */
const SHORT: Readonly<Record<string, string>> = {
  slsa: 'https://slsa.dev/provenance/v1',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  cyclonedx: 'https://cyclonedx.org/bom',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  vulns: 'https://in-toto.io/attestation/vulns/v0.2',
  openvex: 'https://openvex.dev/ns/v0.2.0',
  licenses: 'https://vouch.dev/licenses/v1',
  link: 'https://in-toto.io/attestation/link/v0.3',
  custom: 'https://cosign.sigstore.dev/attestation/v1',
};

export function predicateTypeArg(value: string): string {
  // Own keys only: `constructor`, `__proto__` or `toString` must not resolve to Object.prototype's members.
  const key = value.toLowerCase();
  const short = Object.hasOwn(SHORT, key) ? SHORT[key] : undefined;
  if (short !== undefined) return short;
  if (/^[a-z][a-z0-9+.-]*:\S+$/i.test(value)) return value;
  throw new VouchError(
    'ERR_USAGE',
    `--type ${value} is neither a URI nor one of: ${Object.keys(SHORT).join(', ')}`,
  );
}
