import { readFileSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type * as Yauzl from 'yauzl';
import { lazyRequire, unreadable, VouchError } from '../../core/index.js';

const yauzl = lazyRequire<typeof Yauzl>('yauzl');

/** One OSV file from a source: its name (for reports) and bytes, or why it could not be read. */
export type SourceEntry =
  | { readonly name: string; readonly bytes: Buffer }
  | { readonly name: string; readonly error: string };

export interface OsvSource {
  /** Number of candidate `.json` files, known before reading them (for progress). */
  readonly total: number;
  entries(): AsyncIterable<SourceEntry>;
}

/** The largest OSV record accepted; the biggest real ones (kernel CVEs with long version lists) are ~2 MiB. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Deflate reaches ~1000:1 only on crafted input; JSON records compress well below this. */
const MAX_RATIO = 200;
const RATIO_MIN_BYTES = 64 * 1024;

function isJsonName(name: string): boolean {
  return name.toLowerCase().endsWith('.json');
}

/** A directory tree of `*.json` records (regular files only; symbolic links are not followed). */
async function directorySource(dir: string): Promise<OsvSource> {
  let files: string[];
  try {
    const dirents = await readdir(dir, { withFileTypes: true, recursive: true });
    files = dirents
      .filter((d) => d.isFile() && isJsonName(d.name))
      .map((d) => join(d.parentPath, d.name))
      .sort();
  } catch (e) {
    throw unreadable(dir, e);
  }
  return {
    total: files.length,
    async *entries() {
      // Synchronous reads: records are small and many, and a thread-pool round trip per file made a
      // 50,000-record import several times slower (bench/scan.bench.ts).
      for (const file of files) {
        const name = relative(dir, file);
        let entry: SourceEntry;
        try {
          const size = statSync(file).size;
          entry =
            size > MAX_RECORD_BYTES
              ? { name, error: `is ${size} bytes; the limit is ${MAX_RECORD_BYTES}` }
              : { name, bytes: readFileSync(file) };
        } catch (e) {
          entry = { name, error: `cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}` };
        }
        yield entry;
      }
    },
  };
}

function corrupt(path: string, e: unknown): VouchError {
  if (e instanceof VouchError) return e;
  return new VouchError(
    'ERR_INPUT_MALFORMED',
    `${path}: not a readable zip archive: ${(e as Error).message}`,
    {
      cause: e,
      details: { path },
    },
  );
}

async function readEntry(zip: Yauzl.ZipFile, entry: Yauzl.Entry): Promise<Buffer> {
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  // yauzl checks the inflated length against the declared uncompressedSize (validateEntrySizes), so the
  // size cap checked before opening also holds while reading.
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * An OSV zip (e.g. `<ecosystem>/all.zip` from the osv-vulnerabilities bucket), read lazily one entry at a
 * time. Entry names are checked by yauzl (no absolute paths, no `..`: nothing is extracted, but a zip-slip
 * name only comes from a hostile archive, so the archive is refused); an entry inflating more than 200:1 is a
 * zip bomb and refuses the archive; a structural error is ERR_INPUT_MALFORMED.
 */
async function zipSource(path: string): Promise<OsvSource> {
  let zip: Yauzl.ZipFile;
  try {
    zip = await yauzl().openPromise(path, {
      lazyEntries: true,
      validateEntrySizes: true,
      strictFileNames: true,
    });
  } catch (e) {
    throw corrupt(path, e);
  }
  return {
    total: zip.entryCount,
    async *entries() {
      try {
        for await (const entry of zip.eachEntry()) {
          const name = entry.fileName;
          if (name.endsWith('/') || !isJsonName(name)) continue;
          if (entry.uncompressedSize > MAX_RECORD_BYTES) {
            yield { name, error: `is ${entry.uncompressedSize} bytes; the limit is ${MAX_RECORD_BYTES}` };
            continue;
          }
          if (
            entry.uncompressedSize > RATIO_MIN_BYTES &&
            entry.uncompressedSize > entry.compressedSize * MAX_RATIO
          ) {
            throw new VouchError(
              'ERR_INPUT_MALFORMED',
              `${path}: entry ${name} inflates ${entry.compressedSize} bytes to ${entry.uncompressedSize}; refusing a likely zip bomb`,
              { details: { path, entry: name } },
            );
          }
          if (!entry.canDecodeFileData()) {
            yield { name, error: 'is encrypted or uses an unsupported compression method' };
            continue;
          }
          yield { name, bytes: await readEntry(zip, entry) };
        }
      } catch (e) {
        throw corrupt(path, e);
      } finally {
        zip.close();
      }
    },
  };
}

/** A directory of `*.json` records, an OSV zip, or one record file. */
export async function openOsvSource(path: string): Promise<OsvSource> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (e) {
    throw unreadable(path, e);
  }
  if (st.isDirectory()) return directorySource(path);
  if (!st.isFile()) throw new VouchError('ERR_INPUT_UNREADABLE', `${path} is not a file or directory`);
  if (isJsonName(path)) {
    return {
      total: 1,
      async *entries() {
        if (st.size > MAX_RECORD_BYTES)
          yield { name: path, error: `is ${st.size} bytes; the limit is ${MAX_RECORD_BYTES}` };
        else yield { name: path, bytes: await readFile(path) };
      },
    };
  }
  return zipSource(path);
}
