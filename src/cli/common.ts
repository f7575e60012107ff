import { basename } from 'node:path';
import { VouchError } from '../core/index.js';
import {
  type Artifact,
  describeArtifact,
  parseArtifactRef,
  type Signer,
  signerFromRef,
} from '../crypto/index.js';
import { type CliIO, passphraseSource } from './io.js';

export { describeArtifact };

/** `<artifact>` on the command line: a path, or `sha256:<hex>`. */
export function artifactArg(ref: string): Artifact {
  return parseArtifactRef(ref);
}

/** `<file><suffix>` beside a file artifact; a digest artifact needs the flag spelled out. */
export function outputBeside(a: Artifact, given: string | undefined, suffix: string, flag: string): string {
  if (given !== undefined) return given;
  if (a.kind === 'file') return `${a.path}${suffix}`;
  throw new VouchError('ERR_USAGE', `${flag} is required when the artifact is given as a digest`);
}

export function artifactName(a: Artifact): string {
  return a.kind === 'file' ? basename(a.path) : describeArtifact(a);
}

export async function loadSigner(keyRef: string | undefined, io: CliIO): Promise<Signer> {
  if (keyRef === undefined)
    throw new VouchError('ERR_USAGE', '--key is required (a key reference: path, file:, env:)');
  return signerFromRef(keyRef, { passphrase: passphraseSource(io), env: io.env });
}
