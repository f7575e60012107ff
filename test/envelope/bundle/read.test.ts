import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { bundleFromJSON } from '@sigstore/bundle';
import fc from 'fast-check';
import { isVouchError, type VouchErrorCode } from '../../../src/core/index.js';
import {
  BUNDLE_V01,
  BUNDLE_V02,
  BUNDLE_V03,
  BUNDLE_V03_LEGACY,
  bundleToJson,
  parseBundle,
  serializeBundle,
} from '../../../src/envelope/index.js';
import { expectCode, VECTORS } from '../../helpers.js';

/** The JSON path a reader error names (VouchError details.path). */
const pathOf = (e: unknown): unknown =>
  isVouchError(e) ? (e.details as { path?: unknown } | undefined)?.path : undefined;

const CASES = join(VECTORS, 'sigstore-conformance', 'cases');
const caseText = (c: string) => readFileSync(join(CASES, c, 'bundle.sigstore.json'));
const caseJson = (c: string) => JSON.parse(caseText(c).toString('utf8')) as unknown;

// Conformance bundles this reader refuses, and why. The first three are structural per the brief; the last two
// break per-version rules of protobuf-specs that sigstore-js @sigstore/bundle enforces too (v0.2+ entries need
// an inclusion proof with a checkpoint). All five are `_fail` cases.
const REFUSED: Record<string, VouchErrorCode> = {
  'bundle-malformed-json_fail': 'ERR_JSON_PARSE',
  'bundle-negative-log-index_fail': 'ERR_BUNDLE_MALFORMED',
  'bundle-empty-certificate-chain_fail': 'ERR_BUNDLE_MALFORMED',
  'invalid-inclusion-proof_fail': 'ERR_BUNDLE_MALFORMED',
  'rekor2-no-inclusion-proof_fail': 'ERR_BUNDLE_MALFORMED',
};
const REFUSED_PATH: Record<string, string> = {
  'bundle-negative-log-index_fail': 'verificationMaterial.tlogEntries[0].logIndex',
  'bundle-empty-certificate-chain_fail': 'verificationMaterial.x509CertificateChain.certificates',
  'invalid-inclusion-proof_fail': 'verificationMaterial.tlogEntries[0].inclusionProof.checkpoint',
  'rekor2-no-inclusion-proof_fail': 'verificationMaterial.tlogEntries[0].inclusionProof',
};
const VERSION_OF: Record<string, string> = {
  [BUNDLE_V01]: '0.1',
  [BUNDLE_V02]: '0.2',
  [BUNDLE_V03]: '0.3',
  [BUNDLE_V03_LEGACY]: '0.3',
};

describe('envelope/bundle/read: sigstore-conformance bundles', () => {
  const cases = readdirSync(CASES).sort();
  it('has the 47 cases INDEX.md lists', () => assert.equal(cases.length, 47));

  for (const c of cases) {
    const refused = REFUSED[c];
    if (refused !== undefined) {
      it(`${c}: refused with ${refused}`, async () => {
        await expectCode(() => parseBundle(caseText(c)), refused);
        const path = REFUSED_PATH[c];
        if (path !== undefined) {
          assert.throws(
            () => parseBundle(caseText(c)),
            (e: unknown) => pathOf(e) === path && (e as Error).message.includes(path),
          );
        }
      });
      continue;
    }
    it(`${c}: parses; bundleToJson → parse gives an equal model`, () => {
      const raw = caseJson(c) as { mediaType: string };
      const b = parseBundle(caseText(c));
      assert.equal(b.mediaType, raw.mediaType);
      assert.equal(b.version, VERSION_OF[raw.mediaType]);
      assert.deepEqual(parseBundle(bundleToJson(b)), b);
      assert.deepEqual(parseBundle(serializeBundle(b)), b);
      assert.deepEqual(parseBundle(raw), b);
    });
  }

  it('accepts and refuses exactly what @sigstore/bundle does, except the negative log index it lets through', () => {
    for (const c of cases) {
      let json: unknown;
      try {
        json = caseJson(c);
      } catch {
        continue;
      }
      const ours = (() => {
        try {
          parseBundle(json);
          return true;
        } catch {
          return false;
        }
      })();
      const theirs = (() => {
        try {
          bundleFromJSON(json);
          return true;
        } catch {
          return false;
        }
      })();
      assert.equal(ours, c === 'bundle-negative-log-index_fail' ? !theirs : theirs, c);
    }
  });

  it('decodes the model fields (happy-path-v0.2)', () => {
    const b = parseBundle(caseText('happy-path-v0.2'));
    const [entry] = b.verificationMaterial.tlogEntries;
    assert.ok(entry !== undefined);
    assert.equal(entry.logIndex, 27246492n);
    assert.equal(entry.integratedTime, 1689177396n);
    assert.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.1' });
    assert.equal(entry.logId.byteLength, 32);
    assert.equal(entry.inclusionProof?.treeSize, 23083062n);
    assert.match(entry.inclusionProof?.checkpoint?.envelope ?? '', /^rekor\.sigstore\.dev - /);
    assert.match(
      Buffer.from(entry.canonicalizedBody).toString('utf8'),
      /^\{"apiVersion":"0\.0\.1","kind":"hashedrekord"/,
    );
    assert.equal(b.content.kind, 'messageSignature');
    if (b.content.kind === 'messageSignature')
      assert.equal(b.content.messageSignature.messageDigest?.algorithm, 'SHA2_256');
    assert.equal(b.verificationMaterial.key.kind, 'x509CertificateChain');
  });

  it('reads Rekor v2 entries without integratedTime as 0, and RFC 3161 timestamps', () => {
    const b = parseBundle(caseText('rekor2-happy-path'));
    assert.equal(b.verificationMaterial.tlogEntries[0]?.integratedTime, 0n);
    assert.equal(b.verificationMaterial.tlogEntries[0]?.inclusionPromise, undefined);
    assert.equal(b.verificationMaterial.rfc3161Timestamps.length, 1);
    assert.equal(b.verificationMaterial.rfc3161Timestamps[0]?.[0], 0x30);
  });

  it('reads a managed-key bundle: publicKey hint', () => {
    const b = parseBundle(caseText('managed-key-and-trusted-root'));
    assert.deepEqual(b.verificationMaterial.key, {
      kind: 'publicKey',
      hint: 'TLMsSDfG3ajPsWge+z/vX5T/zluXnmvbkTkwLIV68Tk=',
    });
  });
});

type Path = (string | number)[];
const DELETE = Symbol('delete');

/** A deep copy of `base` with the value at `path` replaced (or deleted). */
function edit(base: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(base);
  let node = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return copy;
}

const V03 = caseJson('happy-path-v0.3'); // legacy v0.3 media type, `certificate`
const V02 = caseJson('happy-path-v0.2'); // x509CertificateChain
const V01 = caseJson('trust-root-tlog-validity-end-inclusive');
const DSSE = caseJson('happy-path-intoto-in-dsse-v3');
const E = ['verificationMaterial', 'tlogEntries', 0];
const P = [...E, 'inclusionProof'];
const entryPath = 'verificationMaterial.tlogEntries[0]';

describe('envelope/bundle/read: every rejection has its code and names the JSON path', () => {
  const certDer = (V03 as { verificationMaterial: { certificate: { rawBytes: string } } })
    .verificationMaterial.certificate.rawBytes;
  const sigB64 = 'MEUCIQ==';
  const table: [string, unknown, VouchErrorCode, string][] = [
    ['no mediaType', edit(V03, ['mediaType'], DELETE), 'ERR_BUNDLE_MEDIA_TYPE', ''],
    [
      'an unknown media type',
      edit(V03, ['mediaType'], 'application/vnd.dev.sigstore.bundle.v0.9+json'),
      'ERR_BUNDLE_MEDIA_TYPE',
      '',
    ],
    ['a numeric media type', edit(V03, ['mediaType'], 3), 'ERR_BUNDLE_MEDIA_TYPE', ''],
    ['a JSON array', [V03], 'ERR_BUNDLE_MALFORMED', ''],
    ['JSON null', null, 'ERR_BUNDLE_MALFORMED', ''],
    [
      'no verificationMaterial',
      edit(V03, ['verificationMaterial'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial',
    ],
    [
      'no key material',
      edit(V03, ['verificationMaterial', 'certificate'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial',
    ],
    [
      'both certificate and publicKey',
      edit(V03, ['verificationMaterial', 'publicKey'], { hint: 'k' }),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial',
    ],
    [
      'a v0.3 bundle with a certificate chain',
      edit(
        edit(V03, ['verificationMaterial', 'certificate'], DELETE),
        ['verificationMaterial', 'x509CertificateChain'],
        { certificates: [{ rawBytes: certDer }] },
      ),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial.x509CertificateChain',
    ],
    [
      'a v0.2 bundle with a single certificate',
      edit(
        edit(V02, ['verificationMaterial', 'x509CertificateChain'], DELETE),
        ['verificationMaterial', 'certificate'],
        { rawBytes: certDer },
      ),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial.certificate',
    ],
    [
      '11 certificates',
      edit(
        V02,
        ['verificationMaterial', 'x509CertificateChain', 'certificates'],
        Array.from({ length: 11 }, () => ({ rawBytes: certDer })),
      ),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial.x509CertificateChain.certificates',
    ],
    [
      'a certificate without rawBytes',
      edit(V02, ['verificationMaterial', 'x509CertificateChain', 'certificates', 0, 'rawBytes'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial.x509CertificateChain.certificates[0].rawBytes',
    ],
    [
      'certificate rawBytes that are not base64',
      edit(V03, ['verificationMaterial', 'certificate', 'rawBytes'], 'MII*'),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial.certificate.rawBytes',
    ],
    [
      'a publicKey hint that is a number',
      edit(
        edit(V03, ['verificationMaterial', 'certificate'], DELETE),
        ['verificationMaterial', 'publicKey'],
        { hint: 5 },
      ),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial.publicKey.hint',
    ],
    [
      'tlogEntries that are an object',
      edit(V03, ['verificationMaterial', 'tlogEntries'], {}),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial.tlogEntries',
    ],
    [
      '65 tlog entries',
      edit(
        V03,
        ['verificationMaterial', 'tlogEntries'],
        Array.from(
          { length: 65 },
          () =>
            (V03 as { verificationMaterial: { tlogEntries: unknown[] } }).verificationMaterial.tlogEntries[0],
        ),
      ),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial.tlogEntries',
    ],
    [
      'a logIndex of "-1"',
      edit(V03, [...E, 'logIndex'], '-1'),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logIndex`,
    ],
    ['a logIndex of -1', edit(V03, [...E, 'logIndex'], -1), 'ERR_BUNDLE_MALFORMED', `${entryPath}.logIndex`],
    [
      'a logIndex of 1.5',
      edit(V03, [...E, 'logIndex'], 1.5),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logIndex`,
    ],
    [
      'a logIndex of "1.5"',
      edit(V03, [...E, 'logIndex'], '1.5'),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logIndex`,
    ],
    [
      'a logIndex of "1e3"',
      edit(V03, [...E, 'logIndex'], '1e3'),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logIndex`,
    ],
    [
      'a logIndex of "007"',
      edit(V03, [...E, 'logIndex'], '007'),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logIndex`,
    ],
    [
      'a logIndex of " 7"',
      edit(V03, [...E, 'logIndex'], ' 7'),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logIndex`,
    ],
    [
      'a logIndex above int64',
      edit(V03, [...E, 'logIndex'], '9223372036854775808'),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logIndex`,
    ],
    [
      'a logIndex of 2^53 as a JSON number',
      edit(V03, [...E, 'logIndex'], 2 ** 53),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logIndex`,
    ],
    [
      'a logIndex of true',
      edit(V03, [...E, 'logIndex'], true),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logIndex`,
    ],
    [
      'a negative integratedTime',
      edit(V03, [...E, 'integratedTime'], '-5'),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.integratedTime`,
    ],
    [
      'a negative treeSize',
      edit(V03, [...P, 'treeSize'], '-1'),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionProof.treeSize`,
    ],
    [
      'a non-integer proof logIndex',
      edit(V03, [...P, 'logIndex'], 'x'),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionProof.logIndex`,
    ],
    ['no logId', edit(V03, [...E, 'logId'], DELETE), 'ERR_BUNDLE_MALFORMED', `${entryPath}.logId`],
    [
      'a logId keyId that is not base64',
      edit(V03, [...E, 'logId', 'keyId'], '!!'),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logId.keyId`,
    ],
    [
      'an empty logId keyId',
      edit(V03, [...E, 'logId', 'keyId'], ''),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.logId.keyId`,
    ],
    [
      'no kindVersion',
      edit(V03, [...E, 'kindVersion'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.kindVersion`,
    ],
    [
      'an empty kind',
      edit(V03, [...E, 'kindVersion', 'kind'], ''),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.kindVersion.kind`,
    ],
    [
      'no canonicalizedBody',
      edit(V03, [...E, 'canonicalizedBody'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.canonicalizedBody`,
    ],
    [
      'an empty signed entry timestamp',
      edit(V03, [...E, 'inclusionPromise', 'signedEntryTimestamp'], ''),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionPromise.signedEntryTimestamp`,
    ],
    [
      'a v0.1 entry without inclusionPromise',
      edit(V01, [...E, 'inclusionPromise'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionPromise`,
    ],
    [
      'a v0.2 entry without inclusionProof',
      edit(V02, [...E, 'inclusionProof'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionProof`,
    ],
    [
      'a v0.3 proof without checkpoint',
      edit(V03, [...P, 'checkpoint'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionProof.checkpoint`,
    ],
    [
      'an empty checkpoint envelope',
      edit(V03, [...P, 'checkpoint', 'envelope'], ''),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionProof.checkpoint.envelope`,
    ],
    [
      'no rootHash',
      edit(V03, [...P, 'rootHash'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionProof.rootHash`,
    ],
    [
      'a proof hash that is a number',
      edit(V03, [...P, 'hashes', 1], 7),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionProof.hashes[1]`,
    ],
    [
      'an empty proof hash',
      edit(V03, [...P, 'hashes', 0], ''),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionProof.hashes[0]`,
    ],
    [
      '65 proof hashes',
      edit(
        V03,
        [...P, 'hashes'],
        Array.from({ length: 65 }, () => 'AAAA'),
      ),
      'ERR_BUNDLE_MALFORMED',
      `${entryPath}.inclusionProof.hashes`,
    ],
    [
      'a timestamp that is not base64',
      edit(V03, ['verificationMaterial', 'timestampVerificationData'], {
        rfc3161Timestamps: [{ signedTimestamp: '%' }],
      }),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp',
    ],
    [
      '33 timestamps',
      edit(V03, ['verificationMaterial', 'timestampVerificationData'], {
        rfc3161Timestamps: Array.from({ length: 33 }, () => ({ signedTimestamp: 'MA==' })),
      }),
      'ERR_BUNDLE_MALFORMED',
      'verificationMaterial.timestampVerificationData.rfc3161Timestamps',
    ],
    ['neither content kind', edit(V03, ['messageSignature'], DELETE), 'ERR_BUNDLE_MALFORMED', ''],
    [
      'both content kinds',
      edit(V03, ['dsseEnvelope'], (DSSE as { dsseEnvelope: unknown }).dsseEnvelope),
      'ERR_BUNDLE_MALFORMED',
      '',
    ],
    [
      'no signature',
      edit(V03, ['messageSignature', 'signature'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      'messageSignature.signature',
    ],
    [
      'an empty signature',
      edit(V03, ['messageSignature', 'signature'], ''),
      'ERR_BUNDLE_MALFORMED',
      'messageSignature.signature',
    ],
    [
      'a SHA3 message digest',
      edit(V03, ['messageSignature', 'messageDigest', 'algorithm'], 'SHA3_256'),
      'ERR_DIGEST_UNSUPPORTED',
      'messageSignature.messageDigest.algorithm',
    ],
    [
      'a message digest of the wrong length',
      edit(V03, ['messageSignature', 'messageDigest', 'digest'], 'AAAA'),
      'ERR_BUNDLE_MALFORMED',
      'messageSignature.messageDigest.digest',
    ],
    [
      'two DSSE signatures',
      edit(DSSE, ['dsseEnvelope', 'signatures', 1], { sig: sigB64 }),
      'ERR_BUNDLE_MALFORMED',
      'dsseEnvelope.signatures',
    ],
    [
      'no DSSE signatures',
      edit(DSSE, ['dsseEnvelope', 'signatures'], []),
      'ERR_BUNDLE_MALFORMED',
      'dsseEnvelope.signatures',
    ],
    [
      'an empty DSSE payload',
      edit(DSSE, ['dsseEnvelope', 'payload'], ''),
      'ERR_BUNDLE_MALFORMED',
      'dsseEnvelope.payload',
    ],
    [
      'a DSSE payload that is not base64',
      edit(DSSE, ['dsseEnvelope', 'payload'], 'e30=x'),
      'ERR_BUNDLE_MALFORMED',
      'dsseEnvelope.payload',
    ],
    [
      'no DSSE payloadType',
      edit(DSSE, ['dsseEnvelope', 'payloadType'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      'dsseEnvelope.payloadType',
    ],
    [
      'a DSSE signature without sig',
      edit(DSSE, ['dsseEnvelope', 'signatures', 0, 'sig'], DELETE),
      'ERR_BUNDLE_MALFORMED',
      'dsseEnvelope.signatures[0].sig',
    ],
  ];

  for (const [what, input, code, path] of table) {
    it(`${what} → ${code}${path === '' ? '' : ` at ${path}`}`, async () => {
      await expectCode(() => parseBundle(input), code);
      if (path !== '') {
        assert.throws(
          () => parseBundle(input),
          (e: unknown) => pathOf(e) === path && (e as Error).message.includes(path),
        );
      }
    });
  }

  it('deleting any required field is ERR_BUNDLE_MALFORMED naming that field (property)', () => {
    const required: Path[] = [
      ['verificationMaterial'],
      ['verificationMaterial', 'certificate', 'rawBytes'],
      [...E, 'logId'],
      [...E, 'logId', 'keyId'],
      [...E, 'kindVersion'],
      [...E, 'kindVersion', 'kind'],
      [...E, 'kindVersion', 'version'],
      [...E, 'inclusionPromise', 'signedEntryTimestamp'],
      [...E, 'inclusionProof'],
      [...P, 'rootHash'],
      [...P, 'checkpoint'],
      [...P, 'checkpoint', 'envelope'],
      [...E, 'canonicalizedBody'],
      ['messageSignature', 'signature'],
      ['messageSignature', 'messageDigest', 'digest'],
    ];
    const pathText = (p: Path) =>
      p
        .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
        .join('')
        .slice(1)
        .replaceAll('.[', '[');
    fc.assert(
      fc.property(fc.constantFrom(...required), (p) => {
        let caught: unknown;
        try {
          parseBundle(edit(V03, p, DELETE));
        } catch (e) {
          caught = e;
        }
        assert.ok(isVouchError(caught, 'ERR_BUNDLE_MALFORMED'), `no ERR_BUNDLE_MALFORMED for ${pathText(p)}`);
        assert.equal(pathOf(caught), pathText(p));
      }),
      { numRuns: 60 },
    );
  });

  it('replacing any scalar with a value of another JSON type is refused with a coded error (property)', () => {
    const scalars: Path[] = [
      ['mediaType'],
      [...E, 'logIndex'],
      [...E, 'integratedTime'],
      [...E, 'logId', 'keyId'],
      [...E, 'kindVersion', 'kind'],
      [...P, 'treeSize'],
      [...P, 'hashes', 0],
      ['messageSignature', 'signature'],
      ['verificationMaterial', 'certificate', 'rawBytes'],
    ];
    const others = fc.oneof(fc.boolean(), fc.constant([]), fc.constant({}), fc.double({ noInteger: true }));
    fc.assert(
      fc.property(fc.constantFrom(...scalars), others, (p, v) => {
        assert.throws(
          () => parseBundle(edit(V03, p, v)),
          (e: unknown) => isVouchError(e) && e.category === 'input',
        );
      }),
      { numRuns: 100 },
    );
  });
});

describe('envelope/bundle/read: what protobuf JSON allows', () => {
  const base = parseBundle(V03);

  it('int64 as a JSON number; enum by number; URL-safe or unpadded base64', () => {
    let j = edit(V03, [...E, 'logIndex'], 79571823);
    j = edit(j, ['messageSignature', 'messageDigest', 'algorithm'], 1);
    const sig = (V03 as { messageSignature: { signature: string } }).messageSignature.signature;
    j = edit(j, ['messageSignature', 'signature'], Buffer.from(sig, 'base64').toString('base64url'));
    assert.deepEqual(parseBundle(j), base);
  });

  it('ignores unknown fields at every level (forward compatibility)', () => {
    let j = edit(V03, ['futureTopLevel'], { a: 1 });
    j = edit(j, ['verificationMaterial', 'futureMaterial'], 'x');
    j = edit(j, [...E, 'futureEntryField'], [1, 2]);
    j = edit(j, [...P, 'futureProofField'], null);
    j = edit(j, ['messageSignature', 'future'], true);
    assert.deepEqual(parseBundle(j), base);
  });

  it('null means absent; absent int64 fields are 0 (proto3 omits zero values)', () => {
    let j = edit(V03, ['verificationMaterial', 'timestampVerificationData'], null);
    j = edit(j, [...E, 'integratedTime'], DELETE);
    j = edit(j, [...E, 'logIndex'], null);
    const b = parseBundle(j);
    assert.equal(b.verificationMaterial.tlogEntries[0]?.integratedTime, 0n);
    assert.equal(b.verificationMaterial.tlogEntries[0]?.logIndex, 0n);
    assert.deepEqual(b.verificationMaterial.rfc3161Timestamps, []);
  });

  it('a "__proto__" or "constructor" key is just an unknown field', () => {
    const text = caseText('happy-path-v0.3')
      .toString('utf8')
      .replace('{', '{"__proto__":{"mediaType":"x"},"constructor":1,');
    assert.deepEqual(parseBundle(text), base);
  });

  it('text, bytes and a parsed value give the same model; bytes that are not UTF-8 are refused', async () => {
    const bytes = caseText('happy-path-v0.3');
    assert.deepEqual(parseBundle(bytes.toString('utf8')), base);
    assert.deepEqual(parseBundle(new Uint8Array(bytes)), base);
    await expectCode(() => parseBundle(Buffer.from([0x7b, 0xff])), 'ERR_INPUT_ENCODING');
  });

  it('refuses input over the size cap before parsing it', async () => {
    await expectCode(() => parseBundle(' '.repeat(64 * 1024 * 1024 + 1)), 'ERR_INPUT_TOO_LARGE');
  });

  it('keeps the DSSE keyid, empty when absent', () => {
    const b = parseBundle(DSSE);
    assert.equal(b.content.kind, 'dsseEnvelope');
    if (b.content.kind === 'dsseEnvelope') assert.equal(b.content.dsseEnvelope.signatures[0]?.keyid, '');
    assert.ok(isDeepStrictEqual(parseBundle(bundleToJson(b)), b));
  });
});
