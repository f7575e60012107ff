import { relative, resolve, sep } from 'node:path';
import type * as Tinyglobby from 'tinyglobby';
import { digestFile, lazyRequire, toHex, VouchError } from '../../core/index.js';
import type { ResourceDescriptor } from '../../envelope/index.js';
import { isFile } from '../sbom/installed.js';
import { byCodeUnit } from '../sbom/sbom-write-common.js';

const tinyglobby = lazyRequire<typeof Tinyglobby>('tinyglobby');

/** The envelope layer's bound on subjects per statement (src/envelope/intoto.ts), checked before hashing. */
const MAX_SUBJECTS = 1024;

/** `cwd`-relative name with `/` separators, the form in-toto subjects conventionally carry. */
export function relativeName(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return sep === '/' ? rel : rel.split(sep).join('/');
}

/** The files one `--subject` names: itself when it is an existing path, else the files its glob matches. */
async function expand(pattern: string, cwd: string): Promise<string[]> {
  const direct = resolve(cwd, pattern);
  if (await isFile(direct)) return [direct];
  if (!tinyglobby().isDynamicPattern(pattern)) return [];
  const found = await tinyglobby().glob(pattern, { cwd, absolute: true, onlyFiles: true, dot: false });
  return found.map((f) => resolve(f));
}

/**
 * Resolves subject paths and globs to in-toto subjects (statement.md): name relative to `cwd`, sha256 of the
 * content, sorted by name, each file once. A pattern that matches nothing is an error naming it, so a
 * misspelt glob cannot silently drop an artifact from the provenance.
 */
export async function resolveSubjects(
  patterns: readonly string[],
  cwd: string,
): Promise<ResourceDescriptor[]> {
  if (patterns.length === 0) {
    throw new VouchError('ERR_PROVENANCE_SUBJECT', 'at least one subject (path or glob) is required');
  }
  const files = new Set<string>();
  for (const pattern of patterns) {
    const matched = await expand(pattern, cwd);
    if (matched.length === 0) {
      throw new VouchError('ERR_PROVENANCE_SUBJECT', `subject "${pattern}" matches no file`, {
        details: { pattern },
      });
    }
    for (const f of matched) files.add(f);
  }
  if (files.size > MAX_SUBJECTS) {
    throw new VouchError(
      'ERR_PROVENANCE_SUBJECT',
      `${files.size} files match; one statement holds at most ${MAX_SUBJECTS} subjects (archive them, or split the run)`,
      { details: { count: files.size, limit: MAX_SUBJECTS } },
    );
  }
  const named = [...files].map((path) => ({ path, name: relativeName(cwd, path) }));
  named.sort((a, b) => byCodeUnit(a.name, b.name));
  const subjects: ResourceDescriptor[] = [];
  for (const { path, name } of named) {
    const { sha256 } = await digestFile(path, ['sha256']);
    subjects.push({ name, digest: { sha256: toHex(sha256) } });
  }
  return subjects;
}
