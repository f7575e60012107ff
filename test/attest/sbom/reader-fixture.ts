import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { PackageGraph, PackageNode } from '../../../src/attest/sbom/model.js';
import { isVouchError } from '../../../src/core/index.js';
import { VECTORS } from '../../helpers.js';

/** What the npm, pnpm and yarn reader tests share. */

/** Published lockfile vectors. */
export const LOCKS = join(VECTORS, 'lockfiles');
/** Hand-made lockfiles (workspaces, truncations, wrong types). */
export const FIX = join(import.meta.dirname, 'fixtures', 'lockfiles');

export function node(g: PackageGraph, id: string): PackageNode {
  const n = g.packages.get(id);
  assert.ok(n, `no node ${id}`);
  return n;
}

/** The message of the ERR_LOCKFILE_MALFORMED that `fn` rejects with. */
export async function message(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, 'ERR_LOCKFILE_MALFORMED', e.message);
    return e.message;
  }
  assert.fail('expected ERR_LOCKFILE_MALFORMED');
}
