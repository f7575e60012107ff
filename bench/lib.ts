import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Scratch space for benchmark inputs (git-ignored). */
export function workDir(): string {
  const dir = resolve(import.meta.dirname, '.work');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function workPath(name: string): string {
  return join(workDir(), name);
}

/** Runs `fn` repeatedly for about `seconds` (after a warm-up) and returns operations per second. */
export async function opsPerSecond(fn: () => unknown, seconds = 1): Promise<number> {
  const warmEnd = performance.now() + 150;
  while (performance.now() < warmEnd) await fn();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

/** Best (smallest) wall time of `runs` runs, in milliseconds. */
export async function bestTime(fn: () => unknown, runs = 3): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

export interface Row {
  name: string;
  value: string;
  reference: string;
  ratio: number;
  target?: number;
}

/** Prints rows as a table and as one JSON line (for notes and later comparison). */
export function report(title: string, rows: readonly Row[]): void {
  console.log(`\n## ${title}`);
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const verdict =
      r.target === undefined
        ? ''
        : r.ratio >= r.target
          ? `  (target ≥ ${r.target}×: met)`
          : `  (target ≥ ${r.target}×: MISSED)`;
    console.log(
      `${r.name.padEnd(w)}  ${r.value.padStart(14)}  vs ${r.reference.padStart(14)}  = ${r.ratio.toFixed(2)}×${verdict}`,
    );
  }
  console.log(`JSON ${JSON.stringify({ title, rows })}`);
}
