import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type FieldsContext,
  failAt,
  isVouchError,
  JsonFields,
  sourceContext,
  type VouchError,
} from '../../src/core/index.js';

const CTX = sourceContext('ERR_OSV_MALFORMED', 'doc.json');

function thrown(fn: () => unknown): VouchError {
  try {
    fn();
  } catch (e) {
    assert.ok(isVouchError(e), `expected a VouchError, got ${String(e)}`);
    return e;
  }
  return assert.fail('nothing was thrown');
}

/** Each case reads `json` and must fail with this message (code ERR_OSV_MALFORMED, details.path `path`). */
const REFUSALS: [
  name: string,
  json: unknown,
  read: (f: JsonFields) => unknown,
  path: string,
  message: string,
][] = [
  ['not an object', [], () => undefined, '', 'doc.json: must be a JSON object'],
  ['wrong type', { a: 1 }, (f) => f.optString('a'), 'a', 'doc.json: a: must be a string'],
  ['missing string', {}, (f) => f.string('a'), 'a', 'doc.json: a: is required'],
  [
    'empty string counted as missing',
    { a: '' },
    (f) => f.string('a', { emptyIsAbsent: true }),
    'a',
    'doc.json: a: is required',
  ],
  [
    'empty string refused',
    { a: '' },
    (f) => f.string('a', { nonEmpty: true }),
    'a',
    'doc.json: a: must not be empty',
  ],
  [
    'string over its cap',
    { a: 'abcd' },
    (f) => f.optString('a', { max: 3 }),
    'a',
    'doc.json: a: is 4 characters; at most 3 are accepted',
  ],
  ['missing object', {}, (f) => f.object('o'), 'o', 'doc.json: o: is required'],
  [
    'nested path',
    { o: { p: [1] } },
    (f) => f.object('o').optObject('p'),
    'o.p',
    'doc.json: o.p: must be a JSON object',
  ],
  ['not an array', { a: {} }, (f) => f.array('a', 5), 'a', 'doc.json: a: must be an array'],
  [
    'array over its cap',
    { a: [1, 2, 3] },
    (f) => f.array('a', 2),
    'a',
    'doc.json: a: has 3 elements; at most 2 are accepted',
  ],
  [
    'element path',
    { o: { list: [{}, 'x'] } },
    (f) => f.object('o').objects('list', 5),
    'o.list[1]',
    'doc.json: o.list[1]: must be a JSON object',
  ],
  ['string element', { s: ['a', 2] }, (f) => f.strings('s', 5), 's[1]', 'doc.json: s[1]: must be a string'],
  [
    'string element over its cap',
    { s: ['abcd'] },
    (f) => f.strings('s', 5, 3),
    's[0]',
    'doc.json: s[0]: is longer than 3 characters',
  ],
  [
    'inherited property is absent',
    Object.create({ a: 'from the prototype' }),
    (f) => f.string('a'),
    'a',
    'doc.json: a: is required',
  ],
  [
    'constructor is not own',
    {},
    (f) => f.object('constructor'),
    'constructor',
    'doc.json: constructor: is required',
  ],
];

describe('core/fields: JsonFields', () => {
  for (const [name, json, read, path, message] of REFUSALS) {
    it(`refuses: ${name}`, () => {
      const e = thrown(() => read(new JsonFields(json, '', CTX)));
      assert.equal(e.code, 'ERR_OSV_MALFORMED');
      assert.equal(e.message, message);
      assert.deepEqual(e.details, { source: 'doc.json', path });
    });
  }

  it('reads only own properties: a __proto__ key is data, Object.prototype stays untouched', () => {
    const json: unknown = JSON.parse('{"__proto__": {"polluted": "yes"}, "name": "n"}');
    const f = new JsonFields(json, '', CTX);
    assert.deepEqual(f.keys(), ['__proto__', 'name']);
    assert.equal(f.object('__proto__').string('polluted'), 'yes');
    assert.equal(f.has('toString'), false);
    assert.equal(f.raw('hasOwnProperty'), undefined);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('reads strings, objects and arrays with their paths', () => {
    const f = new JsonFields({ a: '', b: 'xyz', o: { list: [{ k: 'v' }], s: ['p', 'q'] } }, '$', CTX);
    assert.equal(f.string('a'), '');
    assert.equal(f.string('b', { max: 3, nonEmpty: true, emptyIsAbsent: true }), 'xyz');
    assert.equal(f.optString('missing'), undefined);
    assert.equal(f.optObject('missing'), undefined);
    const o = f.object('o');
    assert.equal(o.path, '$.o');
    assert.equal(o.at(''), '$.o');
    assert.deepEqual(
      o.array('list', 1).map((e) => e.path),
      ['$.o.list[0]'],
    );
    const [first] = o.objects('list', 1);
    assert.equal(first?.path, '$.o.list[0]');
    assert.equal(first?.string('k'), 'v');
    assert.deepEqual(o.strings('s', 2, 1), ['p', 'q']);
    assert.deepEqual(o.array('absent', 0), []);
  });

  it('lets the context choose the message and add details; subclasses read children with their own class', () => {
    const ctx: FieldsContext = {
      code: 'ERR_SBOM_MALFORMED',
      message: (path, problem) => `x.json: invalid SBOM: ${path} ${problem}`,
      details: { check: 'sbom' },
    };
    class Upper extends JsonFields {
      upper(key: string): string {
        return this.string(key).toUpperCase();
      }
    }
    const f = new Upper({ c: { n: 'v' } }, '$', ctx);
    assert.equal(f.object('c').upper('n'), 'V');
    const e = thrown(() => f.object('c').fail('n', 'is wrong'));
    assert.equal(e.code, 'ERR_SBOM_MALFORMED');
    assert.equal(e.message, 'x.json: invalid SBOM: $.c.n is wrong');
    assert.deepEqual(e.details, { check: 'sbom', path: '$.c.n' });
    const direct = thrown(() => failAt(ctx, '$.z[0]', 'is odd'));
    assert.equal(direct.message, 'x.json: invalid SBOM: $.z[0] is odd');
  });
});
