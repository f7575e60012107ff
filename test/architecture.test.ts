import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

// STYLE §1–2: a folder's index.ts is its only door, and layers import downward only.
const LAYERS = [
  'core',
  'crypto',
  'envelope',
  'attest',
  'log',
  'ca',
  'tsa',
  'oci',
  'policy',
  'verify',
  'catalog',
  'server',
  'web',
  'cli',
];
const SRC = resolve(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('architecture', () => {
  const all = files(SRC);
  it('every top-level folder is a known layer', () => {
    for (const d of readdirSync(SRC)) assert.ok(LAYERS.includes(d), `src/${d} is not a layer in ROADMAP.md`);
  });
  it('imports go downward, through index.ts only', () => {
    const bad: string[] = [];
    for (const f of all) {
      const from = relative(SRC, f).split('/')[0] as string;
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = relative(SRC, resolve(join(f, '..'), m[1] as string));
        const [to, ...rest] = target.split('/');
        if (to === from) continue;
        if (LAYERS.indexOf(to as string) >= LAYERS.indexOf(from))
          bad.push(`${relative(SRC, f)} imports upward: ${m[1]}`);
        if (rest.join('/') !== 'index.js') bad.push(`${relative(SRC, f)} bypasses ${to}/index.ts: ${m[1]}`);
      }
    }
    assert.deepEqual(bad, []);
  });
  it('public capabilities have an exports entry', () => {
    const pkg = JSON.parse(readFileSync(resolve(SRC, '..', 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    for (const d of readdirSync(SRC).filter((d) => d !== 'cli')) {
      assert.ok(pkg.exports[`./${d}`] !== undefined, `package.json exports lacks ./${d}`);
    }
  });
});
