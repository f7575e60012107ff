import { createRequire } from 'node:module';

const requireCjs = createRequire(import.meta.url);

/**
 * A CommonJS dependency loaded on its first use instead of at start-up. Every command is one process, and
 * loading the libraries of every capability up front cost about a second; a command now pays only for
 * what it touches. Use it only for packages whose `import` resolves to the same CommonJS file (no
 * `exports` map, or a `node`/`require` condition pointing there), so both ways share one module instance.
 */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= requireCjs(id) as T;
    return loaded;
  };
}
