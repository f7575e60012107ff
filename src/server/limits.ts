import { VouchError } from '../core/index.js';

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, results in input order. `fn` should settle
 * on its own terms (the admission path turns every failure into a denial); a rejection rejects the whole.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new TypeError('mapLimit: limit must be a positive integer');
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A time limit shared by the calls of one request; `race` rejects with `error()` once it has passed. */
export interface Deadline {
  readonly expired: boolean;
  /** Throws `error()` when the time is up. */
  check(): void;
  race<T>(work: Promise<T>): Promise<T>;
  clear(): void;
}

export function startDeadline(ms: number, error: () => Error): Deadline {
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const fired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(error());
    }, ms);
  });
  // Nobody may be racing when it fires (the work finished first); that is not an unhandled rejection.
  fired.catch(() => undefined);
  return {
    get expired() {
      return expired;
    },
    check: () => {
      if (expired) throw error();
    },
    race: (work) => Promise.race([work, fired]),
    clear: () => clearTimeout(timer),
  };
}

/**
 * The server-wide bound on gate calls, shared by every route: at most `limit` run at once and at most
 * `maxQueued` wait for a slot; one more is refused at once (ERR_SERVER_BUSY, a 503 or a denial). Waiting
 * counts against the caller's deadline. A slot is held until the gate's work settles, not until its answer
 * was sent: work that outlives its deadline still counts, so abandoned work cannot pile up.
 */
export class GateSlots {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly limit: number,
    readonly maxQueued: number,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new TypeError('GateSlots: limit must be a positive integer');
    if (!Number.isSafeInteger(maxQueued) || maxQueued < 0)
      throw new TypeError('GateSlots: maxQueued must be a non-negative integer');
  }

  /** Gate calls holding a slot now (running, or abandoned by a deadline and still running). */
  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `work` in a slot, within `deadline`: the answer is raced against it, the slot kept until `work` ends. */
  async run<T>(deadline: Deadline, work: () => Promise<T>): Promise<T> {
    deadline.check();
    await this.#acquire(deadline);
    let settled: Promise<T>;
    try {
      settled = work();
    } catch (e) {
      settled = Promise.reject(e);
    }
    const release = () => this.#release();
    settled.then(release, release);
    return deadline.race(settled);
  }

  async #acquire(deadline: Deadline): Promise<void> {
    if (this.#running < this.limit) {
      this.#running++;
      return;
    }
    if (this.#waiting.length >= this.maxQueued)
      throw new VouchError(
        'ERR_SERVER_BUSY',
        `server busy: ${this.limit} verifications running and ${this.maxQueued} waiting; try again`,
      );
    let grant: () => void = () => undefined;
    const granted = new Promise<void>((resolve) => {
      grant = resolve;
    });
    this.#waiting.push(grant);
    try {
      await deadline.race(granted);
    } catch (e) {
      const i = this.#waiting.indexOf(grant);
      // Still queued: leave the queue. Already handed a slot in the same turn: give it back.
      if (i >= 0) this.#waiting.splice(i, 1);
      else this.#release();
      throw e;
    }
  }

  /** Hands the slot to the next waiter (it stays counted as running), else frees it. */
  #release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#running--;
    else next();
  }
}
