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

/** Files below this size are read too quickly for a progress line to help. */
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;

/** A throttled one-line progress display on a terminal's stderr, erased when the file has been read. */
function progressLine(io: CliIO, name: string): (done: number, total: number) => void {
  let last = 0;
  const mib = (n: number) => (n / (1024 * 1024)).toFixed(0);
  return (done, total) => {
    if (total < PROGRESS_MIN_BYTES) return;
    if (done >= total) {
      io.stderr('\r\u001b[2K');
      return;
    }
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    io.stderr(
      `\r\u001b[2Kreading ${name}: ${Math.floor((done * 100) / total)}% (${mib(done)} of ${mib(total)} MiB)`,
    );
  };
}

/** `<artifact>` on the command line: a path, or `sha256:<hex>`; large files show progress on a terminal. */
export function artifactArg(ref: string, io: CliIO): Artifact {
  const a = parseArtifactRef(ref);
  if (a.kind !== 'file' || io.stderrIsTTY !== true) return a;
  return { ...a, onProgress: progressLine(io, basename(a.path)) };
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
