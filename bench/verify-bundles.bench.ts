// Verify 1,000 bundles: Vouch's verifier vs @sigstore/verify on the same bundles and trust root, same run.
// Both sides parse the bundle JSON each time and reuse their prepared trust material, as a gate would.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { createFileSigner, generateKeyPair, getAlgorithm, keyIdOf } from '../src/crypto/index.js';
import { parseBundle, serializeBundle, signBlobToBundle } from '../src/envelope/index.js';
import { parseTrustedRoot, verifyBundle } from '../src/verify/index.js';
import { bestTime, type Row, report } from './lib.js';

const N = 1000;
const CONF = join(import.meta.dirname, '..', '..', 'shared', 'vectors', 'sigstore-conformance');
const rootJson = JSON.parse(readFileSync(join(CONF, '_defaults', 'public-good-trusted_root.json'), 'utf8'));
const artifactBytes = readFileSync(join(CONF, '_defaults', 'a.txt'));
const identity =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const issuer = 'https://token.actions.githubusercontent.com';

async function compare(name: string, ours: () => Promise<void>, theirs: () => void): Promise<Row> {
  const tOurs = await bestTime(ours, 3);
  const tTheirs = await bestTime(theirs, 3);
  return {
    name,
    value: `${((N * 1000) / tOurs).toFixed(0)} /s`,
    reference: `${((N * 1000) / tTheirs).toFixed(0)} /s`,
    ratio: tTheirs / tOurs,
    target: 2,
  };
}

const rows: Row[] = [];

// 1. Keyless: the conformance pass cases on the public-good trust root (Fulcio chain, SCT, Rekor SET + proof).
{
  const cases = ['happy-path-v0.3', 'happy-path-v0.2'];
  const texts = cases.map((c) => readFileSync(join(CONF, 'cases', c, 'bundle.sigstore.json'), 'utf8'));
  const ourRoot = parseTrustedRoot(rootJson);
  const theirVerifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(rootJson)));
  const policy = { subjectAlternativeName: identity, extensions: { issuer } };
  const artifact = { kind: 'bytes' as const, bytes: artifactBytes };
  rows.push(
    await compare(
      `${N} keyless bundles (Fulcio + Rekor v1)`,
      async () => {
        for (let i = 0; i < N; i++) {
          await verifyBundle(parseBundle(texts[i % texts.length] as string), artifact, {
            trustedRoot: ourRoot,
            identity: { subject: identity, issuer },
          });
        }
      },
      () => {
        for (let i = 0; i < N; i++) {
          const b = bundleFromJSON(JSON.parse(texts[i % texts.length] as string));
          theirVerifier.verify(toSignedEntity(b, artifactBytes), policy);
        }
      },
    ),
  );
}

// 2. Managed key: 1,000 distinct ECDSA P-256 bundles Vouch wrote, each over its own artifact.
{
  const pair = await generateKeyPair(getAlgorithm('ecdsa-p256'));
  const signer = createFileSigner(pair.privateKey);
  const items: { text: string; bytes: Buffer }[] = [];
  for (let i = 0; i < N; i++) {
    const bytes = createHash('sha256').update(`artifact ${i}`).digest();
    items.push({ text: serializeBundle(await signBlobToBundle(signer, { kind: 'bytes', bytes })), bytes });
  }
  const emptyRoot = TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  });
  const hint = keyIdOf(pair.publicKey);
  const theirVerifier = new Verifier(
    toTrustMaterial(emptyRoot, {
      [hint]: {
        rawBytes: pair.publicKey.export({ type: 'spki', format: 'der' }),
        keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
      },
    }),
    { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 },
  );
  rows.push(
    await compare(
      `${N} managed-key bundles (ECDSA P-256)`,
      async () => {
        for (const it of items)
          await verifyBundle(
            parseBundle(it.text),
            { kind: 'bytes', bytes: it.bytes },
            { key: pair.publicKey },
          );
      },
      () => {
        for (const it of items)
          theirVerifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(it.text)), it.bytes));
      },
    ),
  );
}

report('Bundle verification (Vouch vs @sigstore/verify, best of 3)', rows);
