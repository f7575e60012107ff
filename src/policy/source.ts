import type * as Yaml from 'yaml';
import { decodeUtf8, isVouchError, lazyRequire, type VouchErrorCode } from '../core/index.js';
import type { PolicyDiagnostic } from './types.js';

const yaml = lazyRequire<typeof Yaml>('yaml');

/** Policy and test files are small hand-written documents. */
export const MAX_POLICY_BYTES = 1024 * 1024;
/** YAML alias expansion bound ("billion laughs"); yaml throws once a document exceeds it. */
const MAX_ALIAS_COUNT = 100;

export type Path = readonly (string | number)[];

/** `spec.rules[2].expr` — the path form diagnostics and messages use. */
export function pathText(path: Path): string {
  return path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? k : `${s}.${k}`),
    '',
  );
}

/** A position in the file, 1-based. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * A YAML 1.2 (or JSON) document with the positions of its nodes, so every problem found later (schema,
 * CEL, keys) names its line. The text is attacker-influenced when a gate loads policies from a repository:
 * aliases are bounded and duplicate keys are errors (a second `mode:` must not silently win).
 */
export class SourceDocument {
  readonly diagnostics: PolicyDiagnostic[] = [];
  /** The document as plain JSON values; undefined when the YAML did not parse. */
  readonly value: unknown;
  readonly #doc: Yaml.Document.Parsed | undefined;
  readonly #lines: Yaml.LineCounter;
  readonly #text: string;

  constructor(
    input: string | Uint8Array,
    readonly source: string,
    readonly code: VouchErrorCode,
  ) {
    this.#lines = new (yaml().LineCounter)();
    let text = '';
    try {
      text = typeof input === 'string' ? input : decodeUtf8(input, source);
    } catch (e) {
      this.#text = '';
      this.#doc = undefined;
      this.add([], isVouchError(e) ? e.message : `${source} is not UTF-8`);
      return;
    }
    this.#text = text;
    // YAML 1.1 tags (!!binary, !!timestamp, !!set …) would give Buffers, Dates and Sets where JSON values are
    // expected; unresolved, they are reported with the other warnings below.
    const doc = yaml().parseDocument(text, {
      lineCounter: this.#lines,
      prettyErrors: false,
      uniqueKeys: true,
      resolveKnownTags: false,
    });
    this.#doc = doc;
    for (const err of doc.errors) {
      const at = this.#lines.linePos(err.pos[0]);
      this.diagnostics.push({
        path: '',
        line: at.line,
        column: at.col,
        code,
        message: `not valid YAML: ${err.message.split('\n')[0] ?? err.code}`,
      });
    }
    // yaml reports an unknown tag (`!!binary`, `!custom`) as a warning and keeps the string; a policy has
    // no use for tags, and a value that means something else to another reader is refused.
    for (const w of doc.warnings) {
      const at = this.#lines.linePos(w.pos[0]);
      this.diagnostics.push({
        path: '',
        line: at.line,
        column: at.col,
        code,
        message: `YAML: ${w.message.split('\n')[0] ?? w.code}`,
      });
    }
    if (this.diagnostics.length > 0) return;
    try {
      this.value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      this.add([], `cannot be read: ${(e as Error).message}`);
    }
  }

  /** The position of the node at `path` (of its key with `key: true`), when the document has it. */
  locate(path: Path, opts: { key?: boolean } = {}): Position | undefined {
    const doc = this.#doc;
    if (doc === undefined) return undefined;
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const k of path) {
      if (yaml().isMap(node)) {
        const pair = node.items.find((p) => yaml().isScalar(p.key) && p.key.value === k);
        if (pair === undefined) return this.#pos(node);
        keyNode = pair.key;
        node = pair.value;
      } else if (yaml().isSeq(node) && typeof k === 'number') {
        keyNode = undefined;
        node = node.items[k];
      } else {
        return this.#pos(node);
      }
    }
    return this.#pos(opts.key === true && keyNode !== undefined ? keyNode : node);
  }

  #pos(node: unknown): Position | undefined {
    if (node === null || typeof node !== 'object' || !('range' in node) || !Array.isArray(node.range))
      return undefined;
    const at = this.#lines.linePos(node.range[0] as number);
    return { line: at.line, column: at.col };
  }

  /**
   * Where offset `offset` of the string at `path` is in the file. Exact for one-line scalars and literal
   * blocks (`|`), the usual ways to write an expression; other multi-line forms get the line only.
   */
  locateInString(path: Path, offset: number, value: string): Position | undefined {
    const start = this.locate(path);
    const node = this.#doc?.getIn(path as (string | number)[], true);
    if (start === undefined || !yaml().isScalar(node)) return start;
    const before = value.slice(0, offset);
    const lineInValue = before.split('\n').length - 1;
    const col = offset - (before.lastIndexOf('\n') + 1);
    if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
      const line = start.line + 1 + lineInValue;
      const indent = /^ */.exec(this.#lineText(start.line + 1))?.[0].length ?? 0;
      return { line, column: indent + col + 1 };
    }
    if (lineInValue > 0) return { line: start.line + lineInValue, column: 1 };
    const quote = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
    return { line: start.line, column: start.column + quote + col };
  }

  #lineText(line: number): string {
    const offsets = this.#lines.lineStarts;
    const from = offsets[line - 1];
    if (from === undefined) return '';
    const to = offsets[line] ?? this.#text.length;
    return this.#text.slice(from, to);
  }

  /** Records a problem at `path` (the message is prefixed with it), with the line of its node or key. */
  add(
    path: Path,
    message: string,
    opts: { code?: VouchErrorCode; key?: boolean; at?: Position; expression?: Position } = {},
  ): void {
    const at = opts.at ?? this.locate(path, opts);
    const where = pathText(path);
    this.diagnostics.push({
      path: where,
      ...(at === undefined ? {} : { line: at.line, column: at.column }),
      ...(opts.expression === undefined ? {} : { expression: opts.expression }),
      code: opts.code ?? this.code,
      message: where === '' ? message : `${where}: ${message}`,
    });
  }
}
