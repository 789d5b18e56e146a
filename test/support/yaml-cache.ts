/**
 * `parseAllDocuments(text).map(toJS)` for big YAML files several tests read (the committed dist/
 * tree, the pinned upstream schemas: 3 and 6 MB, ~1.5 and ~2.2 s of CPU a parse), kept on disk in
 * the validator's content-keyed cache (tools/validate/cache.ts: atomic writes, entries unused for
 * two weeks pruned), so the five workers, and the next run, read them as JSON instead. The key is
 * the hash of the text and the parser's version and options, so a changed file or parser is
 * parsed anew. Only a parse JSON keeps exactly is kept (plain objects, arrays, strings, finite
 * numbers, booleans, null: no Date of a YAML 1.1 timestamp, no Map with non-string keys).
 */
import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { version as YAML_VERSION } from 'yaml/package.json';
import { readCache, writeCache } from '../../tools/validate/cache';

function jsonExact(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(jsonExact);
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.entries(value).every(([key, v]) => key !== '__proto__' && jsonExact(v));
}

/** Every document of `text` as plain data (an empty document is null), as `yaml` parses it with `version`. */
export function parseAllCached(text: string, version: '1.1' | '1.2' = '1.2'): unknown[] {
  const name = `yaml-parse.${createHash('sha256').update(`yaml ${YAML_VERSION} version ${version}\0${text}`).digest('hex')}.json`;
  const kept = readCache(name);
  if (kept !== undefined) {
    try {
      return JSON.parse(kept) as unknown[];
    } catch {
      // Unreadable: parse again (and write it anew).
    }
  }
  const documents = parseAllDocuments(text, { version }).map((doc) => doc.toJS() as unknown);
  if (jsonExact(documents)) writeCache(name, JSON.stringify(documents));
  return documents;
}
