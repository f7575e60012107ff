import { createRequire } from 'node:module';
import type * as X509 from '@peculiar/x509';
import type * as Pkijs from 'pkijs';

/**
 * Loaded on first use: @peculiar/x509 (with reflect-metadata) and pkijs cost ~300 ms of start-up together,
 * and most commands (`sbom`, `scan`, signing with a local key) never touch X.509 or CMS. Both packages have no
 * `exports` map, so an ESM `import` of them resolves to this same CommonJS build: one module instance either
 * way, and `instanceof` checks across callers keep working.
 */
const requireCjs = createRequire(import.meta.url);

let x509: typeof X509 | undefined;
let pkijs: typeof Pkijs | undefined;

export function x509Lib(): typeof X509 {
  if (x509 === undefined) {
    // tsyringe inside @peculiar/x509 needs the Reflect metadata API before it loads (decision 002).
    requireCjs('reflect-metadata');
    x509 = requireCjs('@peculiar/x509') as typeof X509;
  }
  return x509;
}

export function pkijsLib(): typeof Pkijs {
  pkijs ??= requireCjs('pkijs') as typeof Pkijs;
  return pkijs;
}
