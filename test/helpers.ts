import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { isVouchError, type VouchErrorCode } from '../src/core/index.js';

/** Asserts that `fn` throws (or rejects with) a VouchError with exactly this code. */
export async function expectCode(fn: () => unknown, code: VouchErrorCode): Promise<void> {
  let thrown: unknown;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected ${code}, but nothing was thrown`);
  assert.ok(isVouchError(thrown), `expected VouchError ${code}, got ${String(thrown)}`);
  assert.equal(thrown.code, code, `expected ${code}, got ${thrown.code}: ${thrown.message}`);
}

/** A temporary directory removed when the test file ends. */
export function tempDir(prefix = 'vouch-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `../shared/vectors/...` beside the checkout. */
export const VECTORS = resolve(import.meta.dirname, '..', '..', 'shared', 'vectors');
