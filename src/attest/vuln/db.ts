import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { isVouchError, lazyRequire, parseJson, VouchError } from '../../core/index.js';
import { parseOsv } from './osv.js';
import { normaliseName } from './purl.js';
import { openOsvSource } from './source.js';
import type { CandidateLookup, OsvRecord } from './types.js';

const sqliteDriver = lazyRequire<typeof Database>('better-sqlite3');

/**
 * The local vulnerability database: OSV records in SQLite (better-sqlite3, WAL). One row per record holds the
 * normalised record as JSON with its `modified` time and the SHA-256 of the file it came from, which makes
 * imports incremental; `packages` indexes (ecosystem, normalised name) → record for lookups.
 * Durability: an import commits one transaction per batch, so a crash loses at most the batch in flight
 * and never leaves a half-written record; re-running the import finishes the job. An import marks the
 * database `import_started` before its first write and clears the mark in the transaction that records
 * `last_update`; until then (a crash, a hostile zip met half-way) scanning refuses the database, since a
 * partial set of records would pass components it never checked.
 */

/**
 * Bumped whenever the tables or the name normalisation of the index change; a database of another version is
 * refused, not guessed at. 2: npm and NuGet names indexed case-folded.
 */
export const VULN_DB_SCHEMA = '2';
const BATCH = 1000;
/** A batch is also written once its records' text reaches this size, so a few huge records stay bounded. */
const BATCH_BYTES = 64 * 1024 * 1024;
/** How many failing files an import report names (all are counted). */
const MAX_REPORTED_FAILURES = 100;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
  id TEXT PRIMARY KEY,
  modified TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  withdrawn INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE packages (
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (ecosystem, name, id)
) WITHOUT ROWID;
CREATE INDEX packages_by_id ON packages (id);
`;

export interface VulnDbInfo {
  readonly path: string;
  readonly records: number;
  /** What the last import read (path as given). */
  readonly source?: string;
  /** When the last import finished (RFC 3339). */
  readonly lastUpdate?: string;
  /** `sha256:` over the sorted (id, file hash) pairs: equal databases have equal versions. */
  readonly version?: string;
}

export interface VulnDb {
  readonly path: string;
  readonly lookup: CandidateLookup;
  info(): VulnDbInfo;
  close(): void;
  /** The connection, for `importOsv` in this folder. */
  readonly sqlite: Database.Database;
}

function dbError(path: string, e: unknown): VouchError {
  if (isVouchError(e)) return e;
  return new VouchError(
    'ERR_VULN_DB',
    `${path}: not a usable vulnerability database: ${(e as Error).message}`,
    {
      cause: e,
      details: { path },
    },
  );
}

function refuse(path: string, problem: string): never {
  throw new VouchError(
    'ERR_VULN_DB',
    `${path} ${problem}; run \`vouch vuln db import <osv.zip|dir> --db ${path}\``,
    { details: { path } },
  );
}

/**
 * Opens the database at `path`. With `create`, read-write for an import, creating the file and its tables
 * when needed. Without it, read-only for a scan: the file must exist and hold a finished import (a schema,
 * at least one record, `last_update`, no unfinished import), else ERR_VULN_DB — an empty or half-imported
 * database would let every component pass. A file that is not SQLite, or one of another program or schema
 * version, is ERR_VULN_DB either way.
 */
export function openVulnDb(path: string, opts: { create?: boolean } = {}): VulnDb {
  const write = opts.create === true;
  if (!write && !existsSync(path)) {
    throw new VouchError(
      'ERR_VULN_DB',
      `no vulnerability database at ${path}; create it with \`vouch vuln db import <osv.zip|dir>\``,
      { details: { path } },
    );
  }
  let sqlite: Database.Database;
  try {
    sqlite = new (sqliteDriver())(path, write ? {} : { readonly: true, fileMustExist: true });
  } catch (e) {
    throw dbError(path, e);
  }
  try {
    if (write) {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
    }
    const hasMeta = sqlite
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
      .get();
    if (hasMeta === undefined) {
      const tables = sqlite.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
        n: number;
      };
      if (tables.n > 0)
        throw new VouchError('ERR_VULN_DB', `${path} is an SQLite database of another program`);
      if (!write) refuse(path, 'is empty (no vulnerability records)');
      sqlite.exec(SCHEMA);
      sqlite.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema', VULN_DB_SCHEMA);
    } else {
      const row = sqlite.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as
        | { value: string }
        | undefined;
      if (row?.value !== VULN_DB_SCHEMA) {
        throw new VouchError(
          'ERR_VULN_DB',
          `${path} has database schema ${row?.value ?? 'unknown'}; this Vouch reads schema ${VULN_DB_SCHEMA} (re-import into a new file)`,
          { details: { path, schema: row?.value } },
        );
      }
    }
    if (!write) checkComplete(sqlite, path);
  } catch (e) {
    sqlite.close();
    throw dbError(path, e);
  }
  const select = sqlite.prepare(
    'SELECT r.body FROM packages p JOIN records r ON r.id = p.id WHERE p.ecosystem = ? AND p.name = ?',
  );
  select.pluck(true);
  const meta = sqlite.prepare('SELECT value FROM meta WHERE key = ?').pluck(true);
  return {
    path,
    sqlite,
    // Bodies are the records this module wrote after parseOsv checked them, so they are read back as is.
    lookup: (ecosystem, name) =>
      (select.all(ecosystem, normaliseName(ecosystem, name)) as string[]).map(
        (b) => JSON.parse(b) as OsvRecord,
      ),
    info: () => {
      const get = (k: string) => meta.get(k) as string | undefined;
      const records = sqlite.prepare('SELECT count(*) FROM records').pluck(true).get() as number;
      const source = get('source');
      const lastUpdate = get('last_update');
      const version = get('version');
      return {
        path,
        records,
        ...(source === undefined ? {} : { source }),
        ...(lastUpdate === undefined ? {} : { lastUpdate }),
        ...(version === undefined ? {} : { version }),
      };
    },
    close: () => {
      // Leave the file in rollback-journal mode: a read-only scan of a WAL database has to create -wal and
      // -shm files beside it that it cannot remove. Another connection still reading keeps WAL mode
      // (SQLITE_BUSY), which readers handle too, so that failure changes nothing and is not reported.
      if (write) {
        try {
          sqlite.pragma('journal_mode = DELETE');
        } catch {}
      }
      sqlite.close();
    },
  };
}

/** Refuses a database whose last import did not finish, or that holds nothing to match against. */
function checkComplete(sqlite: Database.Database, path: string): void {
  const meta = sqlite.prepare('SELECT value FROM meta WHERE key = ?').pluck(true);
  const started = meta.get('import_started') as string | undefined;
  if (started !== undefined) refuse(path, `holds an import started at ${started} that did not finish`);
  if (meta.get('last_update') === undefined) refuse(path, 'has no finished import');
  if (sqlite.prepare('SELECT 1 FROM records LIMIT 1').get() === undefined) {
    refuse(path, 'holds no vulnerability records');
  }
}

export interface ImportReport {
  readonly added: number;
  readonly updated: number;
  readonly unchanged: number;
  /** New or changed records that are withdrawn (stored, never matched). */
  readonly withdrawn: number;
  /** Files that could not be read or are not valid OSV records; the import goes on without them. */
  readonly failed: number;
  /** The first failures, by file name. */
  readonly failures: readonly { readonly file: string; readonly message: string }[];
  /** Ranges left out of records that were imported, because they cannot be used (see `parseOsv`). */
  readonly skippedRanges: number;
  /** The first skipped ranges, by file name. */
  readonly skipped: readonly { readonly file: string; readonly message: string }[];
}

export interface ImportOptions {
  /** Called after each file with the files done and the total known up front. */
  readonly onProgress?: (done: number, total: number) => void;
  /** `last_update` recorded in the database (tests pin it); defaults to now. */
  readonly now?: Date;
  /** Bytes of record text after which a batch is written (tests lower it); defaults to 64 MiB. */
  readonly batchBytes?: number;
}

interface Pending {
  readonly record: OsvRecord;
  readonly sha256: string;
}

/**
 * Imports OSV records from a directory tree of `*.json`, an OSV zip, or one record file. Incremental: a record
 * whose (id, modified, SHA-256 of its bytes) is already stored is left alone; a changed one replaces the
 * stored one. A malformed record is counted and reported by file name, never fatal (the caller decides what
 * a failure means); a range that cannot be used is left out of its record and reported; an unreadable source
 * or corrupt zip is fatal (ERR_INPUT_*).
 */
export async function importOsv(db: VulnDb, source: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const osv = await openOsvSource(source);
  const { sqlite } = db;
  const setMeta = sqlite.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  try {
    setMeta.run('import_started', new Date().toISOString());
  } catch (e) {
    throw dbError(db.path, e);
  }
  const existing = sqlite.prepare('SELECT modified, sha256 FROM records WHERE id = ?');
  const upsert = sqlite.prepare(
    'INSERT OR REPLACE INTO records (id, modified, sha256, withdrawn, body) VALUES (?, ?, ?, ?, ?)',
  );
  const unindex = sqlite.prepare('DELETE FROM packages WHERE id = ?');
  const index = sqlite.prepare('INSERT OR IGNORE INTO packages (ecosystem, name, id) VALUES (?, ?, ?)');
  const counts = { added: 0, updated: 0, unchanged: 0, withdrawn: 0, failed: 0 };
  const failures: { file: string; message: string }[] = [];
  const failure = (file: string, message: string) => {
    counts.failed++;
    if (failures.length < MAX_REPORTED_FAILURES) failures.push({ file, message });
  };
  let skippedRanges = 0;
  const skipped: { file: string; message: string }[] = [];

  const write = sqlite.transaction((batch: readonly Pending[]) => {
    for (const { record, sha256 } of batch) {
      const old = existing.get(record.id) as { modified: string; sha256: string } | undefined;
      if (old !== undefined && old.modified === record.modified && old.sha256 === sha256) {
        counts.unchanged++;
        continue;
      }
      const withdrawn = record.withdrawn !== undefined;
      if (withdrawn) counts.withdrawn++;
      else if (old === undefined) counts.added++;
      else counts.updated++;
      upsert.run(record.id, record.modified, sha256, withdrawn ? 1 : 0, JSON.stringify(record));
      unindex.run(record.id);
      if (withdrawn) continue;
      for (const a of record.affected) index.run(a.ecosystem, normaliseName(a.ecosystem, a.name), record.id);
    }
  });
  const flush = (batch: Pending[]) => {
    try {
      write(batch);
    } catch (e) {
      throw dbError(db.path, e);
    }
    batch.length = 0;
    batchBytes = 0;
  };

  const batch: Pending[] = [];
  let batchBytes = 0;
  const maxBatchBytes = opts.batchBytes ?? BATCH_BYTES;
  let done = 0;
  for await (const entry of osv.entries()) {
    done++;
    if ('error' in entry) {
      failure(entry.name, `${entry.name}: ${entry.error}`);
    } else {
      try {
        const file = entry.name;
        const record = parseOsv(parseJson(entry.bytes, file), file, (message) => {
          skippedRanges++;
          if (skipped.length < MAX_REPORTED_FAILURES) skipped.push({ file, message });
        });
        batch.push({ record, sha256: createHash('sha256').update(entry.bytes).digest('hex') });
        batchBytes += entry.bytes.length;
      } catch (e) {
        if (!isVouchError(e)) throw e;
        failure(entry.name, e.message);
      }
    }
    if (batch.length >= BATCH || batchBytes >= maxBatchBytes) flush(batch);
    opts.onProgress?.(done, osv.total);
  }
  flush(batch);
  finishImport(db, source, (opts.now ?? new Date()).toISOString());
  return { ...counts, failures, skippedRanges, skipped };
}

function finishImport(db: VulnDb, source: string, now: string): void {
  const hash = createHash('sha256');
  for (const row of db.sqlite.prepare('SELECT id, sha256 FROM records ORDER BY id').iterate()) {
    const { id, sha256 } = row as { id: string; sha256: string };
    hash.update(`${id}\t${sha256}\n`);
  }
  const set = db.sqlite.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  try {
    db.sqlite.transaction(() => {
      set.run('source', source);
      set.run('last_update', now);
      set.run('version', `sha256:${hash.digest('hex')}`);
      db.sqlite.prepare("DELETE FROM meta WHERE key = 'import_started'").run();
    })();
  } catch (e) {
    throw dbError(db.path, e);
  }
}
