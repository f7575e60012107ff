// Property tests for the attest layer's attacker-controlled inputs: lockfiles (npm, pnpm, yarn v1, Berry),
// SBOMs (CycloneDX, SPDX), OSV records, OpenVEX documents and licence policies. Any byte changed, inserted or
// removed either still reads, or is refused with a coded VouchError — never a raw exception, never a hang.
// Where a change must be refused (a structural byte of a JSON document), that is demanded too.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  parseOpenVex,
  parseOsv,
  parsePolicy,
  parseSbom,
  readLockfile,
  toCycloneDx,
  toSpdx,
} from '../../src/attest/index.js';
import { isVouchError, parseJson } from '../../src/core/index.js';
import { tempDir, VECTORS } from '../helpers.js';

const RUNS = Number(process.env['VOUCH_PROPERTY_RUNS'] ?? 150);
const FIXTURES = join(import.meta.dirname, '..', 'attest', 'sbom', 'fixtures', 'lockfiles');

/** One edit of a byte string: replace, insert or delete at a position. */
const edit = fc.record({
  kind: fc.constantFrom('replace', 'insert', 'delete'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});
type Edit = { kind: 'replace' | 'insert' | 'delete'; at: number; byte: number };

function apply(bytes: Uint8Array, e: Edit): Buffer {
  const at = e.at % (bytes.length + (e.kind === 'insert' ? 1 : 0));
  const b = Buffer.from(bytes);
  if (e.kind === 'replace') {
    b[at] = b[at] === e.byte ? (e.byte + 1) & 0xff : e.byte;
    return b;
  }
  if (e.kind === 'insert') return Buffer.concat([b.subarray(0, at), Buffer.from([e.byte]), b.subarray(at)]);
  return Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
}

/** Runs `read` on mutated bytes and demands success or a coded error; returns how many were refused. */
async function mutateAll(
  bytes: Uint8Array,
  read: (b: Buffer) => unknown | Promise<unknown>,
): Promise<number> {
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(edit, async (e) => {
      try {
        await read(apply(bytes, e as Edit));
      } catch (err) {
        assert.ok(isVouchError(err), `uncoded ${String(err)} after ${JSON.stringify(e)}`);
        refused++;
      }
    }),
    { numRuns: RUNS },
  );
  return refused;
}

describe('properties: lockfile readers never fail uncoded', () => {
  const dir = tempDir('vouch-prop-lock-');
  const cases: [string, string, string][] = [
    ['npm workspaces', join(FIXTURES, 'npm-workspaces', 'package-lock.json'), 'package-lock.json'],
    ['pnpm v6', join(FIXTURES, 'pnpm-v6.pnpm-lock.yaml'), 'pnpm-lock.yaml'],
    ['pnpm workspace (v9)', join(FIXTURES, 'pnpm-workspace', 'pnpm-lock.yaml'), 'pnpm-lock.yaml'],
    ['yarn v1 workspace', join(FIXTURES, 'yarn-v1-workspace', 'yarn.lock'), 'yarn.lock'],
    ['yarn berry workspace', join(FIXTURES, 'yarn-berry-workspace', 'yarn.lock'), 'yarn.lock'],
  ];
  for (const [name, path, fileName] of cases) {
    it(name, async () => {
      const original = readFileSync(path);
      await readLockfile({ lockfile: path, installed: false }); // the original reads
      let n = 0;
      await mutateAll(original, async (b) => {
        const file = join(dir, `${n++}-${fileName}`);
        writeFileSync(file, b);
        return readLockfile({ lockfile: file, installed: false });
      });
    });
  }
});

describe('properties: SBOM, OSV, OpenVEX and policy readers never fail uncoded', () => {
  it('CycloneDX and SPDX documents written by Vouch', async () => {
    const graph = await readLockfile({
      lockfile: join(FIXTURES, 'npm-workspaces', 'package-lock.json'),
      installed: false,
    });
    const opts = { timestamp: new Date('2026-01-01T00:00:00Z'), tool: { name: 'vouch', version: '0.1.0' } };
    for (const doc of [toCycloneDx(graph, opts), toSpdx(graph, opts)]) {
      const bytes = Buffer.from(JSON.stringify(doc));
      parseSbom(bytes, 'sbom.json');
      await mutateAll(bytes, (b) => parseSbom(b, 'sbom.json'));
    }
  });

  it('real OSV records', async () => {
    for (const f of ['GHSA-jf85-cpcp-j695.json', 'GHSA-c2qf-rxjj-qqgw.json']) {
      const bytes = readFileSync(join(VECTORS, 'osv', f));
      parseOsv(parseJson(bytes, f), f);
      await mutateAll(bytes, (b) => parseOsv(parseJson(b, f), f));
    }
  });

  it('an OpenVEX document', async () => {
    const bytes = Buffer.from(
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        '@id': 'https://example.com/vex/1',
        author: 'sec team',
        timestamp: '2026-01-01T00:00:00Z',
        version: 1,
        statements: [
          {
            vulnerability: { name: 'GHSA-jf85-cpcp-j695', aliases: ['CVE-2019-10744'] },
            products: [{ '@id': 'pkg:npm/app@1.0.0', subcomponents: [{ '@id': 'pkg:npm/lodash@4.17.11' }] }],
            status: 'not_affected',
            justification: 'vulnerable_code_not_in_execute_path',
          },
        ],
      }),
    );
    parseOpenVex(parseJson(bytes, 'vex.json'), 'vex.json');
    await mutateAll(bytes, (b) => parseOpenVex(parseJson(b, 'vex.json'), 'vex.json'));
  });

  it('a licence policy (YAML)', async () => {
    const bytes = Buffer.from(
      [
        'allow: [MIT, Apache-2.0, BSD-3-Clause, "GPL-2.0-only WITH Classpath-exception-2.0"]',
        'deny: [AGPL-3.0-only]',
        'unknown: warn',
        'nonSpdx: deny',
        'exceptions:',
        '  - package: pkg:npm/left-pad@^1.0.0',
        '    license: WTFPL',
        '    reason: vendored',
        '    expires: 2027-01-01',
        '',
      ].join('\n'),
    );
    parsePolicy(bytes, 'policy.yaml');
    await mutateAll(bytes, (b) => parsePolicy(b, 'policy.yaml'));
  });
});

/** Positions of JSON punctuation and string delimiters outside strings: deleting one breaks the document. */
function structuralPositions(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = String.fromCharCode(bytes[i] as number);
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        out.push(i);
      }
    } else if (c === '"') {
      inString = true;
      out.push(i);
    } else if ('{}[]:,'.includes(c)) out.push(i);
  }
  return out;
}

describe('properties: structural damage to JSON inputs is refused', () => {
  it('an OSV record with a brace, bracket, colon, comma or string delimiter removed is refused', async () => {
    const f = 'GHSA-xvch-5gv4-984h.json';
    const bytes = readFileSync(join(VECTORS, 'osv', f));
    const structural = structuralPositions(bytes);
    await fc.assert(
      fc.property(fc.constantFrom(...structural), (at) => {
        assert.throws(
          () => parseOsv(parseJson(apply(bytes, { kind: 'delete', at, byte: 0 }), f), f),
          (e: unknown) => isVouchError(e),
        );
      }),
      { numRuns: RUNS },
    );
  });
});
