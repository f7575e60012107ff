import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  assertPredicateType,
  assertSubjectMatches,
  buildStatement,
  INTOTO_PAYLOAD_TYPE,
  parseBundle,
  parseDsseEnvelope,
  parseStatement,
  type ResourceDescriptor,
  STATEMENT_V1,
  STATEMENT_V01,
  type Statement,
  serializeStatement,
} from '../../src/envelope/index.js';
import { expectCode, VECTORS } from '../helpers.js';

const DIR = join(VECTORS, 'in-toto');
const read = (...p: string[]) => readFileSync(join(DIR, ...p));
interface RawDoc {
  predicateType?: unknown;
  predicate?: unknown;
  subject?: unknown[];
  digest?: unknown;
  [k: string]: unknown;
}
const json = (...p: string[]) => JSON.parse(read(...p).toString('utf8')) as RawDoc;
const sha = (alg: 'sha256' | 'sha512', data: Uint8Array) => createHash(alg).update(data).digest();
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('envelope/intoto: spec examples (in-toto/attestation spec/v1, predicates)', () => {
  const files = readdirSync(join(DIR, 'spec-examples')).sort();
  const statements = files.filter((f) => !f.startsWith('v1_resource_descriptor'));
  const descriptors = files.filter((f) => f.startsWith('v1_resource_descriptor'));

  it('has the 14 examples SOURCE.md lists (9 statements, 5 resource descriptors)', () => {
    assert.equal(statements.length, 9);
    assert.equal(descriptors.length, 5);
  });

  for (const f of statements) {
    it(`${f} parses as a Statement v1`, () => {
      const raw = json('spec-examples', f);
      const st = parseStatement(read('spec-examples', f));
      assert.equal(st._type, STATEMENT_V1);
      assert.equal(st.predicateType, raw.predicateType);
      assert.deepEqual(st.predicate, raw.predicate);
      assert.equal(st.subject.length, raw.subject?.length);
    });
  }

  // A subject MUST have a digest (statement.md); a descriptor in general needs only uri, digest or content.
  for (const f of descriptors) {
    const rd = json('spec-examples', f);
    const hasDigest = rd.digest !== undefined;
    it(`${f} ${hasDigest ? 'is accepted' : 'is refused'} as a statement subject`, async () => {
      const payload = bytes({ _type: STATEMENT_V1, subject: [rd], predicateType: 'https://example.com/p' });
      if (!hasDigest) return expectCode(() => parseStatement(payload), 'ERR_INTOTO_MALFORMED');
      const [subject] = parseStatement(payload).subject;
      for (const k of ['name', 'uri', 'digest', 'content', 'downloadLocation', 'mediaType', 'annotations']) {
        assert.deepEqual((subject as unknown as Record<string, unknown>)[k], rd[k], k);
      }
    });
  }
});

describe('envelope/intoto: guac examples', () => {
  it('certify-novuln-v02 parses; certify-vuln-v02 has a subject without a digest and is refused', async () => {
    const st = parseStatement(read('guac-examples', 'certify-novuln-v02.json'));
    assert.equal(st.predicateType, 'https://in-toto.io/attestation/vulns/v0.2');
    assert.equal(st.subject[0]?.uri, 'pkg:maven/org.apache.logging.log4j/log4j-core@2.8.1');
    await expectCode(
      () => parseStatement(read('guac-examples', 'certify-vuln-v02.json')),
      'ERR_INTOTO_MALFORMED',
    );
  });

  it('Statement v0.1 (kubectl SLSA v0.2 provenance) is read', () => {
    const st = parseStatement(read('guac-examples', 'oci-kubectl-linux-amd64-in-toto.json'));
    assert.equal(st._type, STATEMENT_V01);
    assert.equal(st.predicateType, 'https://slsa.dev/provenance/v0.2');
    assert.ok(st.subject.length > 1);
  });

  it('a DSSE envelope carrying a v0.1 statement', () => {
    const env = parseDsseEnvelope(read('guac-examples', 'oci-dsse-att.json'));
    assert.equal(env.payloadType, INTOTO_PAYLOAD_TYPE);
    const st = parseStatement(env.payload);
    assert.equal(st._type, STATEMENT_V01);
    assertPredicateType(st, 'https://slsa.dev/provenance/v0.2');
  });
});

describe('envelope/intoto: real attestations', () => {
  const npm = readdirSync(join(DIR, 'npm-attestations')).filter((f) => f.endsWith('.tgz.json'));
  it('has the 6 npm attestation files', () => assert.equal(npm.length, 6));

  for (const f of npm) {
    it(`npm ${f}: both bundles parse, their statements name the tarball by sha512`, () => {
      const tgz = read('npm-attestations', f.replace(/\.json$/, ''));
      const { attestations } = json('npm-attestations', f) as {
        attestations: { predicateType: string; bundle: unknown }[];
      };
      assert.equal(attestations.length, 2);
      for (const a of attestations) {
        const b = parseBundle(a.bundle);
        assert.equal(b.content.kind, 'dsseEnvelope');
        if (b.content.kind !== 'dsseEnvelope') return;
        assert.equal(b.content.dsseEnvelope.payloadType, INTOTO_PAYLOAD_TYPE);
        const st = parseStatement(b.content.dsseEnvelope.payload);
        assertPredicateType(st, a.predicateType);
        const subject = assertSubjectMatches(st, { algorithm: 'sha512', digest: sha('sha512', tgz) });
        assert.match(subject.name ?? '', /^pkg:npm\//);
      }
    });
  }

  for (const name of ['MODULE.bazel', 'MODULE-wrong-signer.bazel']) {
    it(`SLSA v1 GitHub attestation ${name}.intoto.jsonl: bundle v0.3 with DSSE; subject is the module file`, async () => {
      const lines = read('slsa-provenance-v1-bcr', `${name}.intoto.jsonl`)
        .toString('utf8')
        .trim()
        .split('\n');
      assert.equal(lines.length, 1);
      const b = parseBundle(lines[0]);
      assert.equal(b.version, '0.3');
      assert.equal(b.verificationMaterial.key.kind, 'certificate');
      assert.equal(b.content.kind, 'dsseEnvelope');
      if (b.content.kind !== 'dsseEnvelope') return;
      const st = parseStatement(b.content.dsseEnvelope.payload);
      assert.equal(st._type, STATEMENT_V1);
      assertPredicateType(st, 'https://slsa.dev/provenance/v1');
      const module = read('slsa-provenance-v1-bcr', name);
      assert.equal(
        assertSubjectMatches(st, { algorithm: 'sha256', digest: sha('sha256', module) }).name,
        'MODULE.bazel',
      );
      await expectCode(
        () => assertPredicateType(st, 'https://slsa.dev/provenance/v0.2'),
        'ERR_INTOTO_PREDICATE_TYPE',
      );
      await expectCode(
        () => assertSubjectMatches(st, { algorithm: 'sha256', digest: sha('sha256', Buffer.from('other')) }),
        'ERR_INTOTO_SUBJECT_MISMATCH',
      );
    });
  }
});

const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);
const good = {
  subjects: [
    { name: 'one.tgz', digest: { sha256: D1 } },
    { name: 'two.tgz', digest: { sha256: D2, sha512: 'c'.repeat(128) } },
  ],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: { buildDefinition: { buildType: 'x', externalParameters: { n: [1, null, true] } } },
};

describe('envelope/intoto: buildStatement', () => {
  it('builds a Statement v1 that serialises and reads back equal', () => {
    const st = buildStatement(good);
    assert.equal(st._type, STATEMENT_V1);
    assert.deepEqual(st.subject, good.subjects);
    assert.deepEqual(parseStatement(serializeStatement(st)), st);
    const text = serializeStatement(st).toString('utf8');
    assert.ok(
      text.startsWith(`{"_type":"${STATEMENT_V1}","subject":[{"name":"one.tgz","digest":{"sha256":"${D1}"}}`),
    );
  });

  it('leaves out an undefined predicate; keeps every descriptor field', () => {
    const subject: ResourceDescriptor = {
      name: 'n',
      uri: 'https://example.com/a',
      digest: { sha256: D1, gitCommit: 'd'.repeat(40), customAlg: 'anything' },
      content: 'aGk=',
      downloadLocation: 'https://example.com/dl',
      mediaType: 'application/json',
      annotations: { reviewed: true },
    };
    const st = buildStatement({
      subjects: [subject],
      predicateType: 'https://example.com/p',
      predicate: undefined,
    });
    assert.equal('predicate' in st, false);
    assert.deepEqual(parseStatement(serializeStatement(st)).subject, [subject]);
  });

  const bad: [string, unknown][] = [
    ['no subjects', { ...good, subjects: [] }],
    ['a subject without a digest', { ...good, subjects: [{ name: 'x' }] }],
    ['an empty digest set', { ...good, subjects: [{ digest: {} }] }],
    ['an uppercase sha256', { ...good, subjects: [{ digest: { sha256: D1.toUpperCase() } }] }],
    ['a short sha256', { ...good, subjects: [{ digest: { sha256: 'abc' } }] }],
    ['a sha512 of sha256 length', { ...good, subjects: [{ digest: { sha512: D1 } }] }],
    ['a non-string digest value', { ...good, subjects: [{ digest: { sha256: 1 } }] }],
    ['an empty predicate type', { ...good, predicateType: '' }],
    ['an array predicate', { ...good, predicate: [1] }],
    ['a string predicate', { ...good, predicate: 'x' }],
    ['a predicate holding a Date', { ...good, predicate: { at: new Date(0) } }],
    ['a predicate holding NaN', { ...good, predicate: { n: Number.NaN } }],
    ['a predicate holding a bigint', { ...good, predicate: { n: 1n } }],
    ['a predicate holding a function', { ...good, predicate: { f: () => 1 } }],
    ['a predicate nested 300 deep', { ...good, predicate: nest(300) }],
    ['content that is not base64', { ...good, subjects: [{ digest: { sha256: D1 }, content: '**' }] }],
  ];
  for (const [what, o] of bad) {
    it(`refuses ${what} (ERR_INTOTO_MALFORMED)`, async () => {
      await expectCode(
        () => buildStatement(o as Parameters<typeof buildStatement>[0]),
        'ERR_INTOTO_MALFORMED',
      );
    });
  }
});

function nest(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

describe('envelope/intoto: parseStatement is strict on structure', () => {
  const base = {
    _type: STATEMENT_V1,
    subject: [{ digest: { sha256: D1 } }],
    predicateType: 'https://example.com/p',
  };
  const bad: [string, Uint8Array][] = [
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xc3, 0x28, 0x7d])],
    ['text that is not JSON', Buffer.from('{"_type":')],
    ['a JSON array', bytes([base])],
    ['an unknown _type', bytes({ ...base, _type: 'https://in-toto.io/Statement/v2' })],
    ['a missing _type', bytes({ subject: base.subject, predicateType: base.predicateType })],
    ['a missing subject', bytes({ _type: STATEMENT_V1, predicateType: 'p' })],
    ['a subject that is an object', bytes({ ...base, subject: { digest: { sha256: D1 } } })],
    ['an empty subject list', bytes({ ...base, subject: [] })],
    ['a subject that is a string', bytes({ ...base, subject: ['x'] })],
    ['a digest that is a string', bytes({ ...base, subject: [{ digest: D1 }] })],
    ['a digest value that is null', bytes({ ...base, subject: [{ digest: { sha256: null } }] })],
    ['an empty digest value', bytes({ ...base, subject: [{ digest: { sha256: '' } }] })],
    ['a name that is a number', bytes({ ...base, subject: [{ name: 1, digest: { sha256: D1 } }] })],
    [
      'annotations that are an array',
      bytes({ ...base, subject: [{ digest: { sha256: D1 }, annotations: [] }] }),
    ],
    ['a missing predicateType', bytes({ _type: STATEMENT_V1, subject: base.subject })],
    ['a null predicate', bytes({ ...base, predicate: null })],
    ['1025 subjects', bytes({ ...base, subject: Array.from({ length: 1025 }, () => base.subject[0]) })],
    ['33 digests in one subject', bytes({ ...base, subject: [{ digest: manyDigests(33) }] })],
  ];
  for (const [what, payload] of bad) {
    it(`refuses ${what} (ERR_INTOTO_MALFORMED)`, async () => {
      await expectCode(() => parseStatement(payload), 'ERR_INTOTO_MALFORMED');
    });
  }

  it('ignores unknown fields; a "__proto__" algorithm name stays an ordinary key', () => {
    const text = `{"_type":"${STATEMENT_V1}","future":1,"subject":[{"x":2,"digest":{"__proto__":"x","sha256":"${D1}"}}],"predicateType":"p"}`;
    const st = parseStatement(Buffer.from(text));
    const digest = st.subject[0]?.digest as Record<string, string>;
    assert.equal(Object.getPrototypeOf(digest), Object.prototype);
    assert.deepEqual(Object.keys(digest), ['__proto__', 'sha256']);
    assert.equal('future' in st, false);
  });
});

function manyDigests(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`alg${i}`, 'aa']));
}

describe('envelope/intoto: subject and predicate checks', () => {
  const st = buildStatement(good);

  it('finds the subject holding the digest; hex case is ignored', () => {
    assert.equal(
      assertSubjectMatches(st, { algorithm: 'sha256', digest: Buffer.from(D2, 'hex') }).name,
      'two.tgz',
    );
    const upper: Statement = { ...st, subject: [{ digest: { sha256: D1.toUpperCase() } }] };
    assert.deepEqual(assertSubjectMatches(upper, { algorithm: 'sha256', digest: Buffer.from(D1, 'hex') }), {
      digest: { sha256: D1.toUpperCase() },
    });
    assert.equal(
      assertSubjectMatches(st, { algorithm: 'sha512', digest: Buffer.from('c'.repeat(128), 'hex') }).name,
      'two.tgz',
    );
  });

  it('no subject with that digest, or none under that algorithm, is ERR_INTOTO_SUBJECT_MISMATCH', async () => {
    await expectCode(
      () => assertSubjectMatches(st, { algorithm: 'sha384', digest: Buffer.alloc(48, 0xaa) }),
      'ERR_INTOTO_SUBJECT_MISMATCH',
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (d) => {
        fc.pre(![D1, D2].includes(Buffer.from(d).toString('hex')));
        await expectCode(
          () => assertSubjectMatches(st, { algorithm: 'sha256', digest: d }),
          'ERR_INTOTO_SUBJECT_MISMATCH',
        );
      }),
      { numRuns: 100 },
    );
  });

  it('a digest of the wrong length for its algorithm is a TypeError', () => {
    assert.throws(
      () => assertSubjectMatches(st, { algorithm: 'sha256', digest: Buffer.alloc(31) }),
      TypeError,
    );
  });

  it('assertPredicateType compares exactly', async () => {
    assertPredicateType(st, 'https://slsa.dev/provenance/v1');
    await expectCode(
      () => assertPredicateType(st, 'https://slsa.dev/provenance/V1'),
      'ERR_INTOTO_PREDICATE_TYPE',
    );
  });
});

describe('envelope/intoto: buildStatement copies its input', () => {
  it('changing the predicate object afterwards does not change the statement', () => {
    const predicate = { list: [1] };
    const st = buildStatement({ subjects: [{ digest: { sha256: D1 } }], predicateType: 'p', predicate });
    predicate.list.push(2);
    assert.deepEqual(st.predicate, { list: [1] });
  });
});
