import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpression, loadCel } from '../../src/policy/cel.js';
import { MAX_BUILT_CHARS, replaceLinear, resetBudget } from '../../src/policy/cel-budget.js';
import { RULE_VARIABLES } from '../../src/policy/cel-types.js';

/** Runs a literal-only expression (of any type, through dyn) with the policy's CEL environment. */
async function run(text: string): Promise<unknown> {
  const { expr, problems } = compileExpression(await loadCel(), `dyn(${text})`, RULE_VARIABLES);
  assert.deepEqual(problems, [], text);
  return expr?.run({});
}

describe('metered string functions keep the strings extension results (cel-go ext/strings)', () => {
  const cases: [string, unknown][] = [
    ['"hello hello".replace("he", "we")', 'wello wello'],
    ['"hello hello".replace("he", "we", -1)', 'wello wello'],
    ['"hello hello".replace("he", "we", 1)', 'wello hello'],
    ['"hello hello".replace("he", "we", 0)', 'hello hello'],
    ['"hello hello".replace("", "_")', '_h_e_l_l_o_ _h_e_l_l_o_'],
    ['"hello hello".replace("h", "")', 'ello ello'],
    ['"aaa".replace("aa", "b")', 'ba'],
    ['"a😀b".replace("", "-", 2)', '-a-😀b'],
    ['"TacoCat".lowerAscii()', 'tacocat'],
    ['"TacoCÆt Xii".lowerAscii()', 'tacocÆt xii'],
    ['"tacoCat".upperAscii()', 'TACOCAT'],
    ['"tacoCαt".upperAscii()', 'TACOCαT'],
    ['strings.quote("first\\nsecond\\t\\"x\\" \\\\")', '"first\\nsecond\\t\\"x\\" \\\\"'],
    ['["a", "b", "c"].join("-")', 'a-b-c'],
    ['["a", "b"].join()', 'ab'],
    ['"a,b,c".split(",", 2)', undefined],
    ['"%s and %d".format(["x", 2])', 'x and 2'],
    ['"ab" + "cd"', 'abcd'],
    ['size([1, 2] + [3])', 3n],
    ['string(bytes("héllo"))', 'héllo'],
  ];
  for (const [text, want] of cases) {
    it(text, async () => {
      const got = await run(text);
      if (want === undefined) assert.equal(typeof got, 'object');
      else assert.equal(got, want);
    });
  }
});

describe('replaceLinear', () => {
  it('replaces a 512 KiB string of matches in linear time', () => {
    resetBudget();
    const s = '-'.repeat(512 * 1024);
    const started = performance.now();
    assert.equal(replaceLinear(s, '-', '_', -1), '_'.repeat(s.length));
    assert.ok(performance.now() - started < 500);
  });

  it('counts the result against the budget before building it', () => {
    resetBudget();
    assert.throws(
      () => replaceLinear('-'.repeat(4096), '-', 'x'.repeat(MAX_BUILT_CHARS / 2048), -1),
      /policy limit/,
    );
    resetBudget();
    assert.equal(replaceLinear('abc', 'b', 'x'.repeat(3), -1), 'axxxc');
  });
});
