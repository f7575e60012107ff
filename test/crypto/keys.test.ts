import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ALGORITHMS,
  algorithmForKey,
  exportPrivateKeyPem,
  exportPublicKeyPem,
  generateKeyPair,
  getAlgorithm,
  keyIdOf,
  loadPrivateKey,
  loadPublicKey,
  parseArtifactRef,
  parseKeyRef,
  publicKeyFromRef,
  SIGNING_ALGORITHMS,
  signArtifact,
  signerFromRef,
  verifyArtifact,
  verifyBytes,
} from '../../src/crypto/index.js';
import { expectCode, tempDir } from '../helpers.js';

const pass = async () => 'correct horse';

describe('crypto/algorithms', () => {
  it('refuses SHA-1, unknown names and weak RSA keys', async () => {
    await expectCode(() => getAlgorithm('rsa-sha1'), 'ERR_ALG_WEAK');
    await expectCode(() => getAlgorithm('dsa'), 'ERR_ALG_UNSUPPORTED');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expectCode(() => algorithmForKey(publicKey), 'ERR_ALG_WEAK');
    const { publicKey: k1 } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    await expectCode(() => algorithmForKey(k1), 'ERR_ALG_UNSUPPORTED');
  });
});

describe('crypto/keys', () => {
  for (const id of SIGNING_ALGORITHMS) {
    it(`${id}: generate, encrypt, reload, sign and verify; tamper rejected`, async () => {
      const alg = getAlgorithm(id);
      const pair = await generateKeyPair(alg);
      const pem = exportPrivateKeyPem(pair.privateKey, 'correct horse');
      assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      assert.equal(keyIdOf(await loadPrivateKey(pem, pass)), keyIdOf(pair.publicKey));
      await expectCode(() => loadPrivateKey(pem, async () => 'wrong'), 'ERR_KEY_PASSWORD');
      const pub = loadPublicKey(exportPublicKeyPem(pair.publicKey));
      assert.equal(algorithmForKey(pub).id, id === 'rsa-pss-3072' ? 'rsa-pss-3072' : id);
      const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
      assert.equal(keyIdOf(pub), createHash('sha256').update(spki).digest('hex'));
      const data = Buffer.from('hello vouch');
      const { signature } = await signArtifact(
        await signerFromRef(`env:K`, { env: { K: pem }, passphrase: pass }),
        { kind: 'bytes', bytes: data },
      );
      assert.equal(verifyBytes(alg, pub, data, signature), true);
      assert.equal(verifyBytes(alg, pub, Buffer.from('hello vouch!'), signature), false);
      const flipped = Buffer.from(signature);
      flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
      assert.equal(verifyBytes(alg, pub, data, flipped), false);
      assert.equal(ALGORITHMS[id].sign, true);
    });
  }
  it('codes malformed keys and private keys given as public', async () => {
    await expectCode(() => loadPublicKey('not a key'), 'ERR_KEY_MALFORMED');
    await expectCode(
      () => loadPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', pass),
      'ERR_KEY_MALFORMED',
    );
    const { privateKey } = generateKeyPairSync('ed25519');
    await expectCode(
      () => loadPublicKey(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
      'ERR_KEY_MALFORMED',
    );
  });
});

describe('crypto/keyref', () => {
  it('dispatches on scheme', async () => {
    assert.deepEqual(parseKeyRef('k.pub'), { scheme: 'file', rest: 'k.pub' });
    assert.deepEqual(parseKeyRef('file:/a/k.pub'), { scheme: 'file', rest: '/a/k.pub' });
    assert.deepEqual(parseKeyRef('C:\\keys\\k.pub').scheme, 'file');
    await expectCode(() => publicKeyFromRef('pkcs11:token=x'), 'ERR_KEYREF_SCHEME');
    await expectCode(() => publicKeyFromRef('ftp:x'), 'ERR_KEYREF_SCHEME');
    await expectCode(() => publicKeyFromRef('env:VOUCH_NOPE', { env: {} }), 'ERR_KEYREF_NOT_FOUND');
    await expectCode(() => publicKeyFromRef('/nonexistent/k.pub'), 'ERR_INPUT_UNREADABLE');
    const dir = tempDir();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'k.pub'), exportPublicKeyPem(publicKey));
    assert.equal(keyIdOf(await publicKeyFromRef(`file:${join(dir, 'k.pub')}`)), keyIdOf(publicKey));
    writeFileSync(join(dir, 'k.key'), exportPrivateKeyPem(privateKey, 'x'));
    await expectCode(() => signerFromRef(join(dir, 'k.key')), 'ERR_KEY_PASSWORD_MISSING');
  });
});

describe('crypto/artifact', () => {
  it('parses digest references strictly', async () => {
    const a = parseArtifactRef(`sha256:${'ab'.repeat(32)}`);
    assert.equal(a.kind, 'digest');
    assert.deepEqual(parseArtifactRef('./file.tgz'), { kind: 'file', path: './file.tgz' });
    await expectCode(() => parseArtifactRef('sha256:abcd'), 'ERR_USAGE');
    await expectCode(() => parseArtifactRef(`sha256:${'zz'.repeat(32)}`), 'ERR_HEX');
  });
  for (const id of SIGNING_ALGORITHMS) {
    it(`${id}: file, bytes and digest artifacts agree`, async () => {
      const dir = tempDir();
      const path = join(dir, 'a.bin');
      const data = Buffer.alloc(3 * 1024 * 1024 + 5, 9);
      writeFileSync(path, data);
      const alg = getAlgorithm(id);
      const pair = await generateKeyPair(alg);
      const signer = await signerFromRef('env:K', {
        env: { K: exportPrivateKeyPem(pair.privateKey, 'p') },
        passphrase: async () => 'p',
      });
      const sig = await signArtifact(signer, { kind: 'file', path });
      const sha = createHash('sha256').update(data).digest();
      assert.deepEqual(sig.sha256, sha);
      const fromFile = await verifyArtifact(alg, pair.publicKey, { kind: 'file', path }, sig.signature);
      assert.equal(fromFile.valid, true);
      assert.deepEqual(fromFile.sha256, sha);
      assert.equal(
        (await verifyArtifact(alg, pair.publicKey, { kind: 'bytes', bytes: data }, sig.signature)).valid,
        true,
      );
      const tampered = Buffer.from(data);
      tampered[17] = 1;
      assert.equal(
        (await verifyArtifact(alg, pair.publicKey, { kind: 'bytes', bytes: tampered }, sig.signature)).valid,
        false,
      );
      if (alg.keyType !== 'ed25519') {
        const d = {
          kind: 'digest' as const,
          algorithm: alg.hash as 'sha256',
          digest: createHash(alg.hash as string)
            .update(data)
            .digest(),
        };
        assert.equal((await verifyArtifact(alg, pair.publicKey, d, sig.signature)).valid, true);
        assert.equal(
          (
            await verifyArtifact(
              alg,
              pair.publicKey,
              { ...d, digest: Buffer.alloc(d.digest.length) },
              sig.signature,
            )
          ).valid,
          false,
        );
      } else {
        await expectCode(
          () =>
            verifyArtifact(
              alg,
              pair.publicKey,
              { kind: 'digest', algorithm: 'sha256', digest: sha },
              sig.signature,
            ),
          'ERR_USAGE',
        );
      }
    });
  }
});

describe('crypto/artifact: RSA over a digest (RFC 8017)', () => {
  const data = Buffer.from('rsa digest path');
  const digest = createHash('sha256').update(data).digest();
  const d = { kind: 'digest' as const, algorithm: 'sha256' as const, digest };
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  it('PKCS#1 v1.5 and PSS signatures made by node:crypto verify from the digest alone', async () => {
    const pkcs1 = nodeSign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
    const pss = nodeSign('sha256', data, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
    const p1 = getAlgorithm('rsa-pkcs1-sha256');
    const ps = getAlgorithm('rsa-pss-3072');
    assert.equal((await verifyArtifact(p1, publicKey, d, pkcs1)).valid, true);
    assert.equal((await verifyArtifact(ps, publicKey, d, pss)).valid, true);
    // each padding refuses the other's signature, and a salt length other than the digest's
    assert.equal((await verifyArtifact(p1, publicKey, d, pss)).valid, false);
    assert.equal((await verifyArtifact(ps, publicKey, d, pkcs1)).valid, false);
    const pssMax = nodeSign('sha256', data, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN,
    });
    assert.equal((await verifyArtifact(ps, publicKey, d, pssMax)).valid, false);
    assert.equal((await verifyArtifact(ps, publicKey, d, pss.subarray(1))).valid, false);
  });
  it('any flipped bit of a PSS signature or of the digest is rejected', async () => {
    const ps = getAlgorithm('rsa-pss-3072');
    const pss = nodeSign('sha256', data, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
    let tried = 0;
    for (let i = 0; i < pss.length; i += 7) {
      const s = Buffer.from(pss);
      s[i] = (s[i] as number) ^ (1 << (i % 8));
      assert.equal((await verifyArtifact(ps, publicKey, d, s)).valid, false, `signature byte ${i}`);
      tried++;
    }
    for (let i = 0; i < 32; i++) {
      const dg = Buffer.from(digest);
      dg[i] = (dg[i] as number) ^ 0x80;
      assert.equal((await verifyArtifact(ps, publicKey, { ...d, digest: dg }, pss)).valid, false);
      tried++;
    }
    assert.ok(tried > 80);
  });
});
