// Digest throughput of a 1 GiB file: Vouch's streaming digest vs raw node:crypto and `openssl dgst`, same run.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { digestFile } from '../src/core/index.js';
import { bestTime, report, workPath } from './lib.js';

const SIZE = Number(process.env['VOUCH_BENCH_DIGEST_MB'] ?? 1024) * 1024 * 1024;
const path = workPath(`digest-${SIZE}.bin`);
if (!existsSync(path) || statSync(path).size !== SIZE) {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let off = 0; off < SIZE; off += block.length)
    writeSync(fd, block, 0, Math.min(block.length, SIZE - off));
  closeSync(fd);
}

async function rawNode(alg: string): Promise<string> {
  const h = createHash(alg);
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

const rows = [];
const mib = SIZE / (1024 * 1024);
for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
  let ours = '';
  let theirs = '';
  const tOurs = await bestTime(async () => {
    ours = (await digestFile(path, [alg]))[alg].toString('hex');
  });
  const tRaw = await bestTime(async () => {
    theirs = await rawNode(alg);
  });
  if (ours !== theirs) throw new Error(`${alg} digests differ`);
  const tSsl = await bestTime(() => execFileSync('openssl', ['dgst', `-${alg}`, path]));
  rows.push({
    name: `${alg} vouch vs node:crypto`,
    value: `${(mib / (tOurs / 1000)).toFixed(0)} MiB/s`,
    reference: `${(mib / (tRaw / 1000)).toFixed(0)} MiB/s`,
    ratio: tRaw / tOurs,
    target: 0.9,
  });
  rows.push({
    name: `${alg} vouch vs openssl dgst`,
    value: `${(mib / (tOurs / 1000)).toFixed(0)} MiB/s`,
    reference: `${(mib / (tSsl / 1000)).toFixed(0)} MiB/s`,
    ratio: tSsl / tOurs,
  });
}
report(`Digest of a ${mib} MiB file (best of 3)`, rows);
