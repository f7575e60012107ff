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
    race: (work) => Promise.race([work, fired]),
    clear: () => clearTimeout(timer),
  };
}
