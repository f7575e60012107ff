import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as openpgp from 'openpgp';
import { isVouchError, type VouchErrorCode } from '../../src/core/index.js';
import {
  describeOpenPgpKeys,
  generateOpenPgpKey,
  signOpenPgpDetached,
  verifyOpenPgpDetached,
} from '../../src/crypto/index.js';
import { expectCode, tempDir, VECTORS } from '../helpers.js';

const PGP = join(VECTORS, 'openpgp');
const PASS = 'correct horse battery';
const pass = async () => PASS;
const noPass = async (): Promise<string> => {
  throw new Error('the passphrase must not be asked for');
};

// Registered before tempDir's cleanup so that the agent is stopped while its GNUPGHOME still exists.
after(() => {
  spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: home } });
});
const dir = tempDir('vouch-pgp-');
const home = join(dir, 'gnupg');
mkdirSync(home, { mode: 0o700 });

/** Runs gpg in the test's own GNUPGHOME; the exit status is returned, never ignored. */
function gpg(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', ...args], {
    env: { ...process.env, GNUPGHOME: home },
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function gpgOk(args: string[], input?: string): string {
  const r = gpg(args, input);
  assert.equal(r.status, 0, `gpg ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function gpgFingerprint(uid: string): string {
  const out = gpgOk(['--with-colons', '--list-keys', uid]);
  const fpr = /^fpr:+([0-9A-F]+):/m.exec(out);
  assert.ok(fpr !== null, `no fingerprint for ${uid}`);
  return fpr[1] as string;
}

function write(name: string, data: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/** gpg --verify with machine-readable status; returns the exit status and the VALIDSIG fingerprint. */
function gpgVerify(sigPath: string, dataPath: string): { status: number; validsig: string | undefined } {
  const r = gpg(['--status-fd', '1', '--verify', sigPath, dataPath]);
  return { status: r.status, validsig: /^\[GNUPG:\] VALIDSIG ([0-9A-F]+) /m.exec(r.stdout)?.[1] };
}

async function codeOf(fn: () => Promise<unknown>): Promise<VouchErrorCode | 'none'> {
  try {
    await fn();
    return 'none';
  } catch (e) {
    assert.ok(isVouchError(e), `expected a VouchError, got ${String(e)}`);
    return e.code;
  }
}

const artifact = Buffer.from(`release artifact\n${'x'.repeat(5000)}\n`);
const artifactPath = write('artifact.bin', artifact);
const tamperedPath = write('artifact-tampered.bin', Buffer.concat([artifact, Buffer.from('!')]));

let gpgFpr = '';
let gpgPublic = '';

before(() => {
  gpgOk([
    '--passphrase',
    PASS,
    '--quick-gen-key',
    'GPG Signer <gpg@example.invalid>',
    'ed25519',
    'sign',
    'never',
  ]);
  gpgFpr = gpgFingerprint('gpg@example.invalid');
  gpgPublic = gpgOk(['--armor', '--export', gpgFpr]);
});

describe('crypto/openpgp: published vectors', () => {
  const cert = readFileSync(join(PGP, 'v4-ed25519-test-cert.asc'), 'utf8');
  const sig = readFileSync(join(PGP, 'v4-message.txt.sig'));

  it('v4 Ed25519 detached signature over v4-message.txt verifies (bytes and streamed file)', async () => {
    for (const content of [
      readFileSync(join(PGP, 'v4-message.txt')),
      { kind: 'file', path: join(PGP, 'v4-message.txt') } as const,
    ]) {
      const r = await verifyOpenPgpDetached(content, sig, cert);
      assert.equal(r.fingerprint, '042E4FF7D5F6CBC68E3A8BE5C92A13080C25E185');
      assert.equal(r.keyId, 'C92A13080C25E185');
      assert.deepEqual(r.userIds, ['Vouch Test Signer <test@example.invalid>']);
      assert.ok(r.created instanceof Date && !Number.isNaN(r.created.getTime()));
    }
  });

  it('the same signature over v4-message-tampered.txt fails', async () => {
    await expectCode(
      () => verifyOpenPgpDetached(readFileSync(join(PGP, 'v4-message-tampered.txt')), sig, cert),
      'ERR_PGP_SIGNATURE',
    );
    await expectCode(
      () => verifyOpenPgpDetached({ kind: 'file', path: join(PGP, 'v4-message-tampered.txt') }, sig, cert),
      'ERR_PGP_SIGNATURE',
    );
  });

  it('bit flips in the vector signature are rejected, except in the two places RFC 9580 leaves unsigned', async () => {
    const msg = readFileSync(join(PGP, 'v4-message.txt'));
    const binary = Buffer.from(
      (await openpgp.readSignature({ armoredSignature: sig.toString('utf8') })).write() as Uint8Array,
    );
    const accepted: string[] = [];
    for (let i = 0; i < binary.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const mutated = Buffer.from(binary);
        mutated[i] = (mutated[i] as number) ^ bit;
        const code = await codeOf(() => verifyOpenPgpDetached(msg, mutated, cert));
        if (code === 'none') accepted.push(`${i}^${bit}`);
        else assert.ok(code === 'ERR_PGP_MALFORMED' || code === 'ERR_PGP_SIGNATURE', `byte ${i}: ${code}`);
      }
    }
    // Byte 40 is the type of the unhashed issuer subpacket (RFC 9580 §5.2.3: unhashed subpackets are not signed;
    // the hashed issuer fingerprint still names the key). Byte 86 is the bit count of the 255-bit R MPI
    // (§3.2, MPI): 255 → 254 bits still reads the same 32 bytes. Neither changes what was signed.
    assert.deepEqual(accepted, ['40^1', '40^128', '86^1']);
  });

  it('cleartext-signed and inline-signed messages are not detached signatures', async () => {
    const msg = readFileSync(join(PGP, 'v4-message.txt'));
    for (const f of ['v4-message.txt.clearsigned.asc', 'v4-message.txt.inline.asc']) {
      await expectCode(
        () => verifyOpenPgpDetached(msg, readFileSync(join(PGP, f), 'utf8'), cert),
        'ERR_PGP_MALFORMED',
      );
    }
  });

  it('the RFC 9580 A.3 v6 certificate parses with its published fingerprint', async () => {
    const [info, ...rest] = await describeOpenPgpKeys(
      readFileSync(join(PGP, 'rfc9580-A3-v6-ed25519-cert.asc'), 'utf8'),
    );
    assert.equal(rest.length, 0);
    assert.equal(info?.version, 6);
    assert.equal(info?.fingerprint, 'CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9');
    assert.equal(info?.algorithm, 'ed25519');
    assert.deepEqual(info?.userIds, []);
  });

  it('the RFC 9580 A.4 (unlocked) v6 secret key signs without a passphrase; A.3 verifies it', async () => {
    const secret = readFileSync(join(PGP, 'rfc9580-A4-v6-ed25519-secret-key.asc'), 'utf8');
    const certV6 = readFileSync(join(PGP, 'rfc9580-A3-v6-ed25519-cert.asc'));
    const s = await signOpenPgpDetached(artifact, secret, noPass);
    const r = await verifyOpenPgpDetached(artifact, s, certV6);
    assert.equal(r.fingerprint, 'CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9');
    await expectCode(() => verifyOpenPgpDetached(Buffer.from('other'), s, certV6), 'ERR_PGP_SIGNATURE');
  });
});

describe('crypto/openpgp: Vouch → gpg', () => {
  for (const algorithm of ['ed25519', 'rsa3072'] as const) {
    it(`${algorithm}: a generated key's detached signature passes gpg --verify; tampered data fails`, async () => {
      const key = await generateOpenPgpKey({
        name: `Vouch ${algorithm}`,
        email: `${algorithm}@example.invalid`,
        passphrase: PASS,
        algorithm,
      });
      assert.match(key.fingerprint, /^[0-9A-F]{40}$/);
      assert.match(key.privateKeyArmored, /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
      assert.match(key.publicKeyArmored, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
      gpgOk(['--import'], key.publicKeyArmored);
      assert.equal(gpgFingerprint(`${algorithm}@example.invalid`), key.fingerprint);

      const sig = await signOpenPgpDetached(
        { kind: 'file', path: artifactPath },
        key.privateKeyArmored,
        pass,
      );
      assert.match(sig, /^-----BEGIN PGP SIGNATURE-----/);
      const sigPath = write(`vouch-${algorithm}.asc`, sig);
      assert.deepEqual(gpgVerify(sigPath, artifactPath), { status: 0, validsig: key.fingerprint });
      assert.notEqual(gpgVerify(sigPath, tamperedPath).status, 0);

      const r = await verifyOpenPgpDetached(artifact, sig, key.publicKeyArmored);
      assert.equal(r.fingerprint, key.fingerprint);
      assert.deepEqual(r.userIds, [`Vouch ${algorithm} <${algorithm}@example.invalid>`]);
      const info = await describeOpenPgpKeys(key.publicKeyArmored);
      assert.equal(info[0]?.algorithm, algorithm === 'ed25519' ? 'eddsaLegacy' : 'rsaEncryptSign');
    });
  }

  it("signs with a secret key exported from gpg (gpg's S2K), and gpg accepts the signature", async () => {
    const secret = gpgOk(['--passphrase', PASS, '--armor', '--export-secret-keys', gpgFpr]);
    const sig = await signOpenPgpDetached(artifact, secret, pass);
    const sigPath = write('vouch-with-gpg-key.asc', sig);
    assert.deepEqual(gpgVerify(sigPath, artifactPath), { status: 0, validsig: gpgFpr });
    await expectCode(() => signOpenPgpDetached(artifact, secret, async () => 'wrong'), 'ERR_KEY_PASSWORD');
  });
});

describe('crypto/openpgp: gpg → Vouch', () => {
  it('gpg --detach-sign --armor verifies (bytes, streamed file, armored bytes)', async () => {
    const sigPath = join(dir, 'gpg.asc');
    gpgOk([
      '--passphrase',
      PASS,
      '--local-user',
      gpgFpr,
      '--detach-sign',
      '--armor',
      '-o',
      sigPath,
      artifactPath,
    ]);
    const armored = readFileSync(sigPath, 'utf8');
    for (const [content, signature] of [
      [artifact, armored],
      [{ kind: 'file', path: artifactPath }, armored],
      [artifact, readFileSync(sigPath)],
    ] as const) {
      const r = await verifyOpenPgpDetached(content, signature, gpgPublic);
      assert.equal(r.fingerprint, gpgFpr);
      assert.equal(r.keyId, gpgFpr.slice(-16));
      assert.deepEqual(r.userIds, ['GPG Signer <gpg@example.invalid>']);
    }
    await expectCode(
      () => verifyOpenPgpDetached(Buffer.from('tampered'), armored, gpgPublic),
      'ERR_PGP_SIGNATURE',
    );
    await expectCode(
      () => verifyOpenPgpDetached({ kind: 'file', path: tamperedPath }, armored, gpgPublic),
      'ERR_PGP_SIGNATURE',
    );
  });

  it('binary gpg signatures and binary exported keys verify', async () => {
    const sigPath = join(dir, 'gpg.sig');
    gpgOk(['--passphrase', PASS, '--local-user', gpgFpr, '--detach-sign', '-o', sigPath, artifactPath]);
    const binKey = spawnSync('gpg', ['--batch', '--export', gpgFpr], {
      env: { ...process.env, GNUPGHOME: home },
    });
    assert.equal(binKey.status, 0);
    const r = await verifyOpenPgpDetached(artifact, readFileSync(sigPath), new Uint8Array(binKey.stdout));
    assert.equal(r.fingerprint, gpgFpr);
  });

  it('a --textmode (0x01) signature verifies over the same text', async () => {
    const textPath = write('text.txt', 'line one\nline two\n');
    const sigPath = join(dir, 'text.asc');
    gpgOk([
      '--passphrase',
      PASS,
      '-u',
      gpgFpr,
      '--textmode',
      '--detach-sign',
      '--armor',
      '-o',
      sigPath,
      textPath,
    ]);
    const r = await verifyOpenPgpDetached(readFileSync(textPath), readFileSync(sigPath, 'utf8'), gpgPublic);
    assert.equal(r.fingerprint, gpgFpr);
  });

  it('a key revoked by its gpg revocation certificate no longer verifies', async () => {
    const sigPath = join(dir, 'before-revocation.asc');
    gpgOk(['--passphrase', PASS, '-u', gpgFpr, '--detach-sign', '--armor', '-o', sigPath, artifactPath]);
    const sig = readFileSync(sigPath, 'utf8');
    // gpg 2.2 pre-generates a revocation certificate whose armor line is defused with a leading ':'.
    const revDir = join(home, 'openpgp-revocs.d');
    assert.ok(readdirSync(revDir).includes(`${gpgFpr}.rev`));
    const rev = readFileSync(join(revDir, `${gpgFpr}.rev`), 'utf8').replace(/^:-----BEGIN/m, '-----BEGIN');
    const revHome = join(dir, 'gnupg-revoked');
    mkdirSync(revHome, { mode: 0o700 });
    const env = { ...process.env, GNUPGHOME: revHome };
    const imp = spawnSync('gpg', ['--batch', '--import'], { env, input: gpgPublic });
    assert.equal(imp.status, 0);
    assert.equal(spawnSync('gpg', ['--batch', '--import'], { env, input: rev }).status, 0);
    const revoked = spawnSync('gpg', ['--batch', '--armor', '--export', gpgFpr], { env, encoding: 'utf8' });
    spawnSync('gpgconf', ['--kill', 'all'], { env });
    assert.equal(revoked.status, 0);
    assert.equal(await codeOf(() => verifyOpenPgpDetached(artifact, sig, gpgPublic)), 'none');
    await expectCode(() => verifyOpenPgpDetached(artifact, sig, revoked.stdout), 'ERR_PGP_SIGNATURE');
  });
  it('a signing subkey: the primary fingerprint and the subkey ID are reported, both ways', async () => {
    gpgOk([
      '--passphrase',
      PASS,
      '--quick-gen-key',
      'Sub Signer <sub@example.invalid>',
      'ed25519',
      'cert',
      'never',
    ]);
    const primary = gpgFingerprint('sub@example.invalid');
    gpgOk(['--passphrase', PASS, '--quick-add-key', primary, 'ed25519', 'sign', 'never']);
    const sub = [...gpgOk(['--with-colons', '--list-keys', primary]).matchAll(/^fpr:+([0-9A-F]+):/gm)].map(
      (m) => m[1] as string,
    )[1];
    assert.ok(sub !== undefined && sub !== primary);
    const pub = gpgOk(['--armor', '--export', primary]);
    const sigPath = join(dir, 'sub.asc');
    gpgOk(['--passphrase', PASS, '-u', primary, '--detach-sign', '--armor', '-o', sigPath, artifactPath]);
    const r = await verifyOpenPgpDetached(artifact, readFileSync(sigPath, 'utf8'), pub);
    assert.equal(r.fingerprint, primary);
    assert.equal(r.keyId, sub.slice(-16));
    const secret = gpgOk(['--passphrase', PASS, '--armor', '--export-secret-keys', primary]);
    const mine = await signOpenPgpDetached(artifact, secret, pass);
    assert.equal((await verifyOpenPgpDetached(artifact, mine, pub)).keyId, sub.slice(-16));
    assert.deepEqual(gpgVerify(write('vouch-sub.asc', mine), artifactPath), { status: 0, validsig: sub });
  });
});

describe('crypto/openpgp: rejections', () => {
  let key: Awaited<ReturnType<typeof generateOpenPgpKey>>;
  let other: Awaited<ReturnType<typeof generateOpenPgpKey>>;
  let sig = '';
  before(async () => {
    key = await generateOpenPgpKey({ name: 'Signer', passphrase: PASS });
    other = await generateOpenPgpKey({ name: 'Other', passphrase: PASS });
    sig = await signOpenPgpDetached(artifact, key.privateKeyArmored, pass);
  });

  it('signer key not given (a different key, or only another) → ERR_PGP_SIGNATURE', async () => {
    await expectCode(() => verifyOpenPgpDetached(artifact, sig, other.publicKeyArmored), 'ERR_PGP_SIGNATURE');
    await expectCode(() => verifyOpenPgpDetached(artifact, sig, gpgPublic), 'ERR_PGP_SIGNATURE');
    // A keyring holding the signer among others verifies.
    const ring = `${other.publicKeyArmored}\n${key.publicKeyArmored}`;
    assert.equal((await verifyOpenPgpDetached(artifact, sig, ring)).fingerprint, key.fingerprint);
    assert.equal((await describeOpenPgpKeys(ring)).length, 2);
  });

  it('malformed signatures and keys → ERR_PGP_MALFORMED', async () => {
    const pub = key.publicKeyArmored;
    await expectCode(() => verifyOpenPgpDetached(artifact, 'not a signature', pub), 'ERR_PGP_MALFORMED');
    await expectCode(() => verifyOpenPgpDetached(artifact, '', pub), 'ERR_PGP_MALFORMED');
    await expectCode(() => verifyOpenPgpDetached(artifact, sig.slice(0, 80), pub), 'ERR_PGP_MALFORMED');
    await expectCode(
      () => verifyOpenPgpDetached(artifact, new Uint8Array([1, 2, 3]), pub),
      'ERR_PGP_MALFORMED',
    );
    // A public key block where a signature belongs.
    await expectCode(() => verifyOpenPgpDetached(artifact, pub, pub), 'ERR_PGP_MALFORMED');
    await expectCode(() => verifyOpenPgpDetached(artifact, sig, 'garbage'), 'ERR_PGP_MALFORMED');
    await expectCode(() => verifyOpenPgpDetached(artifact, sig, sig), 'ERR_PGP_MALFORMED');
    await expectCode(() => describeOpenPgpKeys(new Uint8Array([0x99, 0, 1])), 'ERR_PGP_MALFORMED');
    await expectCode(() => signOpenPgpDetached(artifact, pub, pass), 'ERR_PGP_MALFORMED');
    await expectCode(() => signOpenPgpDetached(artifact, 'garbage', pass), 'ERR_PGP_MALFORMED');
  });

  it('wrong passphrase → ERR_KEY_PASSWORD without the passphrase in the message', async () => {
    const secret = 'my-secret-passphrase-value';
    let thrown: unknown;
    try {
      await signOpenPgpDetached(artifact, key.privateKeyArmored, async () => secret);
    } catch (e) {
      thrown = e;
    }
    assert.ok(isVouchError(thrown, 'ERR_KEY_PASSWORD'));
    assert.ok(!thrown.message.includes(secret));
    assert.equal(thrown.cause, undefined);
  });

  it('key generation refuses an empty passphrase and an empty name', async () => {
    await expectCode(() => generateOpenPgpKey({ name: 'A', passphrase: '' }), 'ERR_KEY_PASSWORD_MISSING');
    await expectCode(() => generateOpenPgpKey({ name: ' ', passphrase: PASS }), 'ERR_USAGE');
    await expectCode(
      () => generateOpenPgpKey({ name: 'A', email: 'not an email', passphrase: PASS }),
      'ERR_USAGE',
    );
  });

  it('a digest-only artifact cannot be signed or verified; a missing file is unreadable', async () => {
    const digest = { kind: 'digest', algorithm: 'sha256', digest: new Uint8Array(32) } as const;
    await expectCode(() => signOpenPgpDetached(digest, key.privateKeyArmored, pass), 'ERR_USAGE');
    await expectCode(() => verifyOpenPgpDetached(digest, sig, key.publicKeyArmored), 'ERR_USAGE');
    const missing = { kind: 'file', path: join(dir, 'missing.bin') } as const;
    await expectCode(() => signOpenPgpDetached(missing, key.privateKeyArmored, pass), 'ERR_INPUT_UNREADABLE');
    await expectCode(() => verifyOpenPgpDetached(missing, sig, key.publicKeyArmored), 'ERR_INPUT_UNREADABLE');
    await expectCode(
      () => verifyOpenPgpDetached({ kind: 'file', path: dir }, sig, key.publicKeyArmored),
      'ERR_INPUT_UNREADABLE',
    );
  });

  it('a signature dated after `at` is refused', async () => {
    const r = await verifyOpenPgpDetached(artifact, sig, key.publicKeyArmored);
    const before = new Date(r.created.getTime() - 3600_000);
    await expectCode(
      () => verifyOpenPgpDetached(artifact, sig, key.publicKeyArmored, { at: before }),
      'ERR_PGP_SIGNATURE',
    );
  });
});

describe('crypto/openpgp: key validity at signing time', () => {
  const day = 86_400_000;
  const t0 = new Date(Math.floor((Date.now() - 30 * day) / 1000) * 1000);

  async function fixture() {
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'Expiring' }],
      date: t0,
      subkeys: [],
      format: 'object',
    });
    // Two self-signatures over the same key material: one without expiry (to make the signature), one
    // that says the key expired 2 days after creation (what the verifier is given).
    const forever = await openpgp.reformatKey({
      privateKey,
      userIDs: [{ name: 'Expiring' }],
      date: t0,
      format: 'object',
    });
    const expiring = await openpgp.reformatKey({
      privateKey,
      userIDs: [{ name: 'Expiring' }],
      date: t0,
      keyExpirationTime: 2 * 86_400,
      format: 'object',
    });
    return { forever: forever.privateKey, expiring: expiring.publicKey };
  }

  async function signAt(key: openpgp.PrivateKey, date: Date): Promise<string> {
    const message = await openpgp.createMessage({ binary: artifact });
    return openpgp.sign({ message, signingKeys: key, detached: true, date, format: 'armored' });
  }

  it('made while the key was valid → verifies, although the key has expired since', async () => {
    const { forever, expiring } = await fixture();
    const sig = await signAt(forever, new Date(t0.getTime() + day));
    const r = await verifyOpenPgpDetached(artifact, sig, expiring.armor());
    assert.equal(r.created.getTime(), t0.getTime() + day);
  });

  it('made after the key expired → ERR_PGP_SIGNATURE', async () => {
    const { forever, expiring } = await fixture();
    const sig = await signAt(forever, new Date(t0.getTime() + 5 * day));
    await expectCode(() => verifyOpenPgpDetached(artifact, sig, expiring.armor()), 'ERR_PGP_SIGNATURE');
    assert.equal(
      await codeOf(() => verifyOpenPgpDetached(artifact, sig, forever.toPublic().armor())),
      'none',
    );
  });

  it('signing with an expired key is refused with ERR_PGP_KEY_UNUSABLE', async () => {
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'Expired' }],
      date: t0,
      keyExpirationTime: 86_400,
      subkeys: [],
      format: 'object',
    });
    await expectCode(() => signOpenPgpDetached(artifact, privateKey.armor(), noPass), 'ERR_PGP_KEY_UNUSABLE');
  });

  it('a hard-revoked key voids earlier signatures; signing with it is refused', async () => {
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'Revoked' }],
      subkeys: [],
      format: 'object',
    });
    const sig = await signOpenPgpDetached(artifact, privateKey.armor(), noPass);
    const revoked = await openpgp.revokeKey({ key: privateKey, format: 'object' });
    await expectCode(
      () => verifyOpenPgpDetached(artifact, sig, revoked.publicKey.armor()),
      'ERR_PGP_SIGNATURE',
    );
    await expectCode(
      () => signOpenPgpDetached(artifact, revoked.privateKey.armor(), noPass),
      'ERR_PGP_KEY_UNUSABLE',
    );
  });
});
