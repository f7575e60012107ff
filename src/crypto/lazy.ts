import type * as Nist from '@noble/curves/nist.js';
import type * as X509 from '@peculiar/x509';
import type * as Asn1js from 'asn1js';
import type * as Pkijs from 'pkijs';
import { lazyRequire } from '../core/index.js';

// @peculiar/x509 (with reflect-metadata), pkijs, asn1js and the noble curves cost ~400 ms of start-up
// together, and most commands (`sbom`, `scan`, signing with a local key) never touch X.509, CMS, DER or a
// prehashed ECDSA signature. The CommonJS ones have no `exports` map, so an ESM `import` resolves to the same
// build and `instanceof` checks keep working; @noble/curves is ESM, which `require` loads as the same module
// record (require(esm), Node >= 20.19).
const reflectMetadata = lazyRequire<unknown>('reflect-metadata');
const x509 = lazyRequire<typeof X509>('@peculiar/x509');

export function x509Lib(): typeof X509 {
  // tsyringe inside @peculiar/x509 needs the Reflect metadata API before it loads (decision 002).
  reflectMetadata();
  return x509();
}

export const pkijsLib = lazyRequire<typeof Pkijs>('pkijs');
export const asn1jsLib = lazyRequire<typeof Asn1js>('asn1js');
export const nistCurves = lazyRequire<typeof Nist>('@noble/curves/nist.js');
