// Sign/verify rate per algorithm: Vouch's library path vs raw node:crypto on the same key and message, same run.
import { constants, sign as nodeSign, verify as nodeVerify, randomBytes } from 'node:crypto';
import {
  createFileSigner,
  generateKeyPair,
  getAlgorithm,
  SIGNING_ALGORITHMS,
  verifyBytes,
} from '../src/crypto/index.js';
import { opsPerSecond, type Row, report } from './lib.js';

const message = randomBytes(1024);
const rows: Row[] = [];
for (const id of SIGNING_ALGORITHMS) {
  const alg = getAlgorithm(id);
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const signer = createFileSigner(privateKey, alg);
  const opts =
    alg.padding === 'pss'
      ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
      : {};
  const sig = await signer.sign(message);
  if (!nodeVerify(alg.hash, message, { key: publicKey, ...opts }, sig))
    throw new Error(`${id}: raw verify failed`);
  const seconds = alg.keyType === 'rsa' ? 1.5 : 1;
  const oursSign = await opsPerSecond(() => signer.sign(message), seconds);
  const rawSign = await opsPerSecond(
    () => nodeSign(alg.hash, message, { key: privateKey, ...opts }),
    seconds,
  );
  const oursVerify = await opsPerSecond(() => verifyBytes(alg, publicKey, message, sig), seconds);
  const rawVerify = await opsPerSecond(
    () => nodeVerify(alg.hash, message, { key: publicKey, ...opts }, sig),
    seconds,
  );
  rows.push({
    name: `${id} sign`,
    value: `${oursSign.toFixed(0)} op/s`,
    reference: `${rawSign.toFixed(0)} op/s`,
    ratio: oursSign / rawSign,
    target: 0.8,
  });
  rows.push({
    name: `${id} verify`,
    value: `${oursVerify.toFixed(0)} op/s`,
    reference: `${rawVerify.toFixed(0)} op/s`,
    ratio: oursVerify / rawVerify,
    target: 0.8,
  });
}
report('Sign/verify of a 1 KiB message (Vouch library vs raw node:crypto)', rows);
