import type { Command } from 'commander';
import { readInput, VouchError } from '../core/index.js';
import { publicKeyFromRef } from '../crypto/index.js';
import {
  type IdentityPolicy,
  parseTrustedRoot,
  type VerificationResult,
  type VerifyOptions,
} from '../verify/index.js';
import type { CliIO } from './io.js';

export interface TrustFlags {
  key?: string;
  trustedRoot?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  offline?: boolean;
}

/** The cosign-named flags every verifying command shares. */
export function addTrustOptions(cmd: Command): Command {
  return cmd
    .option('--key <ref>', 'public key (SPKI PEM): path, file:<path> or env:<VAR>')
    .option('--trusted-root <path>', 'Sigstore trusted_root.json (CAs, transparency logs, CT logs, TSAs)')
    .option('--certificate-identity <san>', 'expected certificate subject (SAN), exact')
    .option('--certificate-identity-regexp <re>', 'expected certificate subject (SAN), whole-string regexp')
    .option('--certificate-oidc-issuer <url>', 'expected OIDC issuer, exact')
    .option('--certificate-oidc-issuer-regexp <re>', 'expected OIDC issuer, whole-string regexp')
    .option('--offline', 'never contact the network (Vouch verifies offline in every case)');
}

/** A trusted root is the biggest JSON a verifier reads; 16 MiB is ample. */
const MAX_TRUST_ROOT = 16 * 1024 * 1024;

export async function verifyOptionsFrom(o: TrustFlags, io: CliIO): Promise<VerifyOptions> {
  const identity: IdentityPolicy = {
    ...(o.certificateIdentity === undefined ? {} : { subject: o.certificateIdentity }),
    ...(o.certificateIdentityRegexp === undefined ? {} : { subjectRegExp: o.certificateIdentityRegexp }),
    ...(o.certificateOidcIssuer === undefined ? {} : { issuer: o.certificateOidcIssuer }),
    ...(o.certificateOidcIssuerRegexp === undefined ? {} : { issuerRegExp: o.certificateOidcIssuerRegexp }),
  };
  if (o.certificateIdentity !== undefined && o.certificateIdentityRegexp !== undefined) {
    throw new VouchError(
      'ERR_USAGE',
      'give --certificate-identity or --certificate-identity-regexp, not both',
    );
  }
  if (o.certificateOidcIssuer !== undefined && o.certificateOidcIssuerRegexp !== undefined) {
    throw new VouchError(
      'ERR_USAGE',
      'give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp, not both',
    );
  }
  const hasIdentity = Object.keys(identity).length > 0;
  if (o.key === undefined && o.trustedRoot === undefined) {
    throw new VouchError(
      'ERR_USAGE',
      'nothing to trust: give --key <public key>, or --trusted-root with --certificate-identity',
    );
  }
  if (o.key === undefined && !hasIdentity) {
    throw new VouchError(
      'ERR_USAGE',
      'keyless verification needs --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]',
    );
  }
  return {
    ...(o.key === undefined ? {} : { key: await publicKeyFromRef(o.key, { env: io.env }) }),
    ...(o.trustedRoot === undefined
      ? {}
      : { trustedRoot: parseTrustedRoot(await readInput(o.trustedRoot, MAX_TRUST_ROOT)) }),
    ...(hasIdentity ? { identity } : {}),
    offline: true,
  };
}

export function describeSigner(r: VerificationResult): string {
  const s = r.signer;
  return s.kind === 'key'
    ? `key ${s.keyId}`
    : `certificate ${s.subject}${s.issuer ? ` (issuer ${s.issuer})` : ''}`;
}

export function resultLines(r: VerificationResult): string[] {
  return [
    `  signer: ${describeSigner(r)}`,
    ...r.checks.map((c) => `  ✓ ${c.id}: ${c.detail}`),
    ...r.timestamps.map((t) => `  time (${t.source}): ${t.time.toISOString()}`),
  ];
}
