import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VouchError } from '../../src/core/index.js';
import { GateSlots, startDeadline } from '../../src/server/limits.js';
import { expectCode } from '../helpers.js';

const timeout = () => new VouchError('ERR_POLICY_TIMEOUT', 'no decision in time');

/** Work that ends when the test says so, recording that it started. */
function held(): { started: boolean; work: () => Promise<string>; end(value: string): void } {
  let end: (value: string) => void = () => undefined;
  const h = {
    started: false,
    work: () => {
      h.started = true;
      return new Promise<string>((resolve) => {
        end = resolve;
      });
    },
    end: (value: string) => end(value),
  };
  return h;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('server: GateSlots', () => {
  it('runs at most `limit` at once; the others wait their turn, in order', async () => {
    const slots = new GateSlots(2, 8);
    const deadline = startDeadline(5000, timeout);
    const works = [held(), held(), held(), held()];
    const answers = works.map((w) => slots.run(deadline, w.work));
    await tick();
    assert.deepEqual(
      works.map((w) => w.started),
      [true, true, false, false],
    );
    assert.equal(slots.running, 2);
    assert.equal(slots.waiting, 2);
    works[1]?.end('b');
    assert.equal(await answers[1], 'b');
    await tick();
    assert.deepEqual(
      works.map((w) => w.started),
      [true, true, true, false],
    );
    works[0]?.end('w0');
    works[2]?.end('w2');
    await Promise.all([answers[0], answers[2]]);
    await tick();
    assert.equal(works[3]?.started, true);
    works[3]?.end('w3');
    assert.deepEqual(await Promise.all(answers), ['w0', 'b', 'w2', 'w3']);
    assert.equal(slots.running, 0);
    deadline.clear();
  });

  it('refuses at once when the queue is full: ERR_SERVER_BUSY', async () => {
    const slots = new GateSlots(1, 1);
    const deadline = startDeadline(5000, timeout);
    const first = held();
    const running = slots.run(deadline, first.work);
    const queued = slots.run(deadline, async () => 'queued');
    const started = Date.now();
    await assert.rejects(
      slots.run(deadline, async () => 'never'),
      {
        code: 'ERR_SERVER_BUSY',
        message: 'server busy: 1 verifications running and 1 waiting; try again',
      },
    );
    assert.ok(Date.now() - started < 100);
    first.end('first');
    assert.deepEqual(await Promise.all([running, queued]), ['first', 'queued']);
    deadline.clear();
  });

  it('counts the wait for a slot against the deadline; a waiter out of time leaves the queue unstarted', async () => {
    const slots = new GateSlots(1, 4);
    const long = startDeadline(5000, timeout);
    const first = held();
    const running = slots.run(long, first.work);
    const short = startDeadline(50, timeout);
    const late = held();
    await expectCode(() => slots.run(short, late.work), 'ERR_POLICY_TIMEOUT');
    assert.equal(slots.waiting, 0);
    first.end('first');
    assert.equal(await running, 'first');
    await tick();
    assert.equal(late.started, false);
    assert.equal(slots.running, 0);
    // A deadline already past starts nothing, even with a free slot.
    await expectCode(() => slots.run(short, late.work), 'ERR_POLICY_TIMEOUT');
    assert.equal(late.started, false);
    long.clear();
  });

  it('keeps the slot of work that missed its deadline until that work ends', async () => {
    const slots = new GateSlots(1, 0);
    const short = startDeadline(30, timeout);
    const abandoned = held();
    await expectCode(() => slots.run(short, abandoned.work), 'ERR_POLICY_TIMEOUT');
    assert.equal(slots.running, 1);
    const next = startDeadline(5000, timeout);
    await assert.rejects(
      slots.run(next, async () => 'x'),
      /server busy/,
    );
    abandoned.end('late');
    await tick();
    assert.equal(slots.running, 0);
    assert.equal(await slots.run(next, async () => 'x'), 'x');
    next.clear();
  });

  it('frees the slot of work that throws, synchronously or not', async () => {
    const slots = new GateSlots(1, 0);
    const deadline = startDeadline(5000, timeout);
    await assert.rejects(
      slots.run(deadline, () => {
        throw new TypeError('sync');
      }),
      TypeError,
    );
    await expectCode(
      () => slots.run(deadline, async () => Promise.reject(new VouchError('ERR_OCI_NOT_FOUND', 'gone'))),
      'ERR_OCI_NOT_FOUND',
    );
    await tick();
    assert.equal(slots.running, 0);
    deadline.clear();
  });

  it('refuses a limit that is not a positive integer (TypeError)', () => {
    assert.throws(() => new GateSlots(0, 1), TypeError);
    assert.throws(() => new GateSlots(1, -1), TypeError);
  });
});
