import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { expiryTime, parsePolicy } from '../../../src/attest/licenses/policy.js';
import { isVouchError } from '../../../src/core/index.js';

const read = (text: string) => parsePolicy(Buffer.from(text), 'policy.yaml');

/** The message of the ERR_LICENSE_POLICY_MALFORMED a policy text raises. */
function rejection(text: string): string {
  try {
    read(text);
  } catch (e) {
    assert.ok(isVouchError(e, 'ERR_LICENSE_POLICY_MALFORMED'), String(e));
    return e.message;
  }
  return assert.fail(`accepted: ${text}`);
}

describe('parsePolicy', () => {
  it('reads YAML with defaults: deny by default, every scope, digest of the bytes', () => {
    const text = 'allow:\n  - MIT\n  - Apache-2.0\n';
    const p = read(text);
    assert.deepEqual(p, {
      allow: ['MIT', 'Apache-2.0'],
      deny: [],
      unknown: 'deny',
      nonSpdx: 'deny',
      exceptions: [],
      scopes: ['required', 'optional', 'dev'],
      sha256: createHash('sha256').update(text).digest('hex'),
    });
  });

  it('reads the same policy as JSON, with every field', () => {
    const p = read(
      JSON.stringify({
        allow: ['MIT'],
        deny: ['GPL-3.0-or-later'],
        unknown: 'warn',
        nonSpdx: 'allow',
        scopes: ['required'],
        exceptions: [
          { package: 'pkg:npm/left-pad@1.x', license: 'WTFPL', reason: 'r', expires: '2030-01-01' },
        ],
      }),
    );
    assert.equal(p.unknown, 'warn');
    assert.equal(p.nonSpdx, 'allow');
    assert.deepEqual(p.scopes, ['required']);
    assert.deepEqual(p.exceptions, [
      { package: 'pkg:npm/left-pad@1.x', license: 'WTFPL', reason: 'r', expires: '2030-01-01' },
    ]);
  });

  it('rewrites deprecated folded-exception ids in lists', () => {
    assert.deepEqual(read('deny: [GPL-2.0-with-classpath-exception, GPL-3.0-with-GCC-exception+]\n').deny, [
      'GPL-2.0-only WITH Classpath-exception-2.0',
      'GPL-3.0-or-later WITH GCC-exception-3.1',
    ]);
  });

  it('has no allow list when none is given (only deny applies)', () => {
    assert.equal(read('deny: [AGPL-3.0-only]\n').allow, undefined);
  });

  const bad: [string, string, RegExp][] = [
    [
      'unknown field',
      'allow: [MIT]\nalow: [ISC]\n',
      /policy\.yaml:2: licence policy alow is not a policy field/,
    ],
    ['misspelt action', 'unknown: block\n', /:1: licence policy unknown must be one of deny, warn, allow/],
    [
      'non-SPDX allow entry',
      'allow:\n  - MIT\n  - Apache 2\n',
      /:3: licence policy allow\[1\] "Apache 2" is not an SPDX licence/,
    ],
    ['compound entry', 'deny: [GPL-2.0-only OR MIT]\n', /deny\[0\] .*not AND\/OR/],
    [
      'two exceptions in one entry',
      'deny: [GPL-2.0-with-GCC-exception WITH Classpath-exception-2.0]\n',
      /deny\[0\] .*GPL-2\.0-with-GCC-exception already names its exception/,
    ],
    ['entry not a string', 'allow: [1]\n', /allow\[0\] must be a string/],
    ['list not a list', 'allow: MIT\n', /allow must be a list/],
    [
      'allow with every item commented out (null)',
      'deny: [GPL-3.0-only]\nallow:\n  # - MIT\n',
      /policy\.yaml:2: licence policy allow is empty \(null\); write \[\] for an empty list/,
    ],
    ['explicit null allow', 'allow: ~\n', /:1: licence policy allow is empty \(null\)/],
    ['null deny', '{"deny": null}', /:1: licence policy deny is empty \(null\)/],
    ['not a mapping', '- MIT\n', /licence policy document must be a mapping/],
    ['empty scopes', 'scopes: []\n', /scopes must be a non-empty list/],
    ['bad scope', 'scopes: [runtime]\n', /scopes\[0\] must be one of required, optional, dev/],
    [
      'exception without reason',
      'exceptions:\n  - package: a\n    license: MIT\n',
      /exceptions\[0\] needs "reason"/,
    ],
    [
      'exception unknown field',
      'exceptions:\n  - package: a\n    license: MIT\n    reason: r\n    until: 2030-01-01\n',
      /:5: licence policy exceptions\[0\]\.until is not an exception field/,
    ],
    [
      'exception bad date',
      'exceptions:\n  - {package: a, license: MIT, reason: r, expires: 2030-02-30}\n',
      /exceptions\[0\]\.expires "2030-02-30" is not an RFC 3339 date/,
    ],
    [
      'exception bad purl',
      'exceptions:\n  - {package: "pkg:", license: MIT, reason: r}\n',
      /exceptions\[0\]\.package "pkg:" is neither/,
    ],
    ['YAML syntax', 'allow: [MIT\n', /policy\.yaml:\d+: not a valid YAML\/JSON licence policy/],
    ['duplicate key', '{"allow": ["MIT"], "allow": ["ISC"]}', /not a valid YAML\/JSON licence policy/],
  ];
  for (const [what, text, pattern] of bad) {
    it(`rejects ${what}`, () => {
      assert.match(rejection(text), pattern);
    });
  }

  it('refuses YAML alias bombs with a coded error', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = `*${String.fromCharCode(96 + i)}`;
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(prev).join(', ')}]`,
      );
    }
    assert.match(rejection(lines.join('\n')), /resource exhaustion/);
  });
});

describe('expiryTime', () => {
  it('ends a bare date at the end of that day (UTC) and takes date-times as instants', () => {
    assert.equal(expiryTime('2026-06-30'), Date.parse('2026-07-01T00:00:00Z'));
    assert.equal(expiryTime('2026-06-30T10:00:00+02:00'), Date.parse('2026-06-30T08:00:00Z'));
    assert.equal(expiryTime('2026-13-01'), undefined);
    assert.equal(expiryTime('30/06/2026'), undefined);
    assert.equal(expiryTime('2026-06-30T10:00:00'), undefined);
  });
});
