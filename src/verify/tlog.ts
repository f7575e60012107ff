import { bytesEqual, canonicalJson, toBase64, toHex } from '../core/index.js';
import { type Algorithm, algorithmForKey, verifyBytes } from '../crypto/index.js';
import type { TransparencyLogEntry } from '../envelope/index.js';
import {
  hashLeaf,
  type NoteVerifier,
  noteVerifierFromPublicKey,
  parseCheckpoint,
  parseNote,
  verifyInclusion,
  verifyNote,
} from '../log/index.js';
import { reject, run } from './check.js';
import type { TimeRange, TransparencyLogInstance } from './trusted-root.js';

/** A trusted log made ready once per trust root: its key's algorithm, checkpoint verifier and name. */
export interface PreparedLog {
  readonly instance: TransparencyLogInstance;
  /** The log's name in checkpoints: its base URL without the scheme (Rekor v1 and v2 alike). */
  readonly name: string;
  readonly algorithm: Algorithm | undefined;
  readonly noteVerifier: NoteVerifier | undefined;
}

function logName(baseUrl: string): string {
  try {
    const u = new URL(baseUrl);
    return `${u.host}${u.pathname}`.replace(/\/+$/, '');
  } catch {
    return baseUrl;
  }
}

/**
 * Prepares a trusted log. A key Vouch cannot use (an unsupported curve, a weak RSA key) leaves the log in the
 * table without a verifier, so that an entry from it fails as "cannot be verified" rather than "unknown log".
 */
export function prepareLog(instance: TransparencyLogInstance): PreparedLog {
  const name = logName(instance.baseUrl);
  let algorithm: Algorithm | undefined;
  let noteVerifier: NoteVerifier | undefined;
  try {
    // Rekor signs SETs and checkpoints with ECDSA, Ed25519 or RSA PKCS#1 v1.5.
    algorithm = algorithmForKey(instance.publicKey, 'pkcs1');
    noteVerifier = noteVerifierFromPublicKey(name, instance.publicKey);
  } catch {
    algorithm = undefined;
  }
  return { instance, name, algorithm, noteVerifier };
}

/** Closed interval (protobuf-specs TimeRange), as sigstore-go and the conformance suite read it. */
export function inRange(r: TimeRange, t: Date): boolean {
  const ms = t.getTime();
  return r.start.getTime() <= ms && (r.end === undefined || ms <= r.end.getTime());
}

/** Finds the trusted log an entry names (by log ID); ERR_TLOG_UNTRUSTED when none does. */
export function findLog(logs: ReadonlyMap<string, PreparedLog>, entry: TransparencyLogEntry): PreparedLog {
  const log = logs.get(toHex(entry.logId));
  if (log === undefined) {
    throw reject(
      'ERR_TLOG_UNTRUSTED',
      'tlog',
      `transparency log ${toBase64(entry.logId)} is not in the trusted root`,
      {
        logId: toBase64(entry.logId),
      },
    );
  }
  return log;
}

function usable(log: PreparedLog, check: string): { algorithm: Algorithm; noteVerifier: NoteVerifier } {
  if (log.algorithm === undefined || log.noteVerifier === undefined) {
    throw reject('ERR_TLOG_UNTRUSTED', check, `the key of transparency log ${log.name} is not supported`);
  }
  return { algorithm: log.algorithm, noteVerifier: log.noteVerifier };
}

/**
 * Verifies a signed entry timestamp (Rekor v1 inclusion promise): the log's signature over the canonical
 * JSON {body, integratedTime, logID, logIndex} (rekor pkg/verify VerifySignedEntryTimestamp), and that the
 * log's key was valid at the integrated time. Returns the integrated time, now a verified timestamp.
 */
export function verifySet(entry: TransparencyLogEntry, log: PreparedLog): Date {
  const promise = entry.inclusionPromise;
  if (promise === undefined) throw new TypeError('verifySet: entry has no inclusion promise');
  const { algorithm } = usable(log, 'tlog.set');
  const payload = canonicalJson({
    body: toBase64(entry.canonicalizedBody),
    integratedTime: entry.integratedTime,
    logID: toHex(entry.logId),
    logIndex: entry.logIndex,
  });
  if (
    !verifyBytes(
      algorithm,
      log.instance.publicKey,
      Buffer.from(payload, 'utf8'),
      promise.signedEntryTimestamp,
    )
  ) {
    throw reject(
      'ERR_TLOG_SET_INVALID',
      'tlog.set',
      `the signed entry timestamp does not verify with the key of ${log.name}`,
    );
  }
  const time = new Date(Number(entry.integratedTime) * 1000);
  if (entry.integratedTime === 0n || !inRange(log.instance.validFor, time)) {
    throw reject(
      'ERR_TLOG_UNTRUSTED',
      'tlog.set',
      `the key of ${log.name} is not valid at the integrated time ${time.toISOString()}`,
      {
        integratedTime: time.toISOString(),
      },
    );
  }
  return time;
}

/**
 * Verifies an inclusion proof: the checkpoint is a note signed by the same log (C2SP signed-note, Rekor's key
 * ID rules), names that log as its origin, and commits to the proof's tree size and root hash; the RFC 6962
 * leaf hash of the canonicalized body leads to that root (RFC 6962 §2.1.1). ERR_TLOG_INCLUSION when the
 * proof has no checkpoint, ERR_NOTE_SIGNATURE / ERR_CHECKPOINT_INVALID / ERR_MERKLE_PROOF as each step fails.
 */
export function verifyEntryInclusion(entry: TransparencyLogEntry, log: PreparedLog): void {
  const proof = entry.inclusionProof;
  if (proof === undefined) throw new TypeError('verifyEntryInclusion: entry has no inclusion proof');
  const { noteVerifier } = usable(log, 'tlog.inclusion');
  if (proof.checkpoint === undefined) {
    throw reject(
      'ERR_TLOG_INCLUSION',
      'tlog.inclusion',
      'the inclusion proof has no checkpoint to anchor its root hash',
    );
  }
  const envelope = proof.checkpoint.envelope;
  // Parse the body only once its signature verified (C2SP tlog-checkpoint).
  const cp = run('tlog.checkpoint', () => {
    const note = parseNote(envelope);
    verifyNote(note, [noteVerifier]);
    return parseCheckpoint(note.text);
  });
  // Rekor v2 uses the log's name as origin; Rekor v1 appends " - <tree ID>" (one origin per shard).
  if (cp.origin !== log.name && !cp.origin.startsWith(`${log.name} - `)) {
    throw reject(
      'ERR_CHECKPOINT_INVALID',
      'tlog.checkpoint',
      `checkpoint origin "${cp.origin}" is not log ${log.name}`,
    );
  }
  if (cp.size !== proof.treeSize || !bytesEqual(cp.rootHash, proof.rootHash)) {
    throw reject(
      'ERR_CHECKPOINT_INVALID',
      'tlog.checkpoint',
      "the checkpoint does not commit to the proof's tree size and root hash",
      {
        checkpointSize: cp.size.toString(),
        proofSize: proof.treeSize.toString(),
      },
    );
  }
  run('tlog.inclusion', () =>
    verifyInclusion({
      leafHash: hashLeaf(entry.canonicalizedBody),
      index: proof.logIndex,
      treeSize: proof.treeSize,
      proof: proof.hashes,
      rootHash: proof.rootHash,
    }),
  );
}
