/**
 * The data of region files that parsed cleanly before, by their exact text (issue 16: parsing the
 * eight shipped files with positions was half of the config phase, which every synth waits for).
 *
 * Only a clean parse is kept: no syntax problem, no duplicate key, no foreign tag, aliases within
 * bounds. A file with any problem is parsed on every read and reports it. The entry holds the
 * value `toJS()` returned, serialised with V8's structured clone (NaN, -0 and Infinity survive,
 * which JSON would change), under a key of the text, the yaml and V8 versions, the cache version
 * (tools/validate/cache.ts: same folder, same pruning) and the source of the rules themselves: a
 * changed check or parse option starts over. Any cache failure only costs the parse; a cached
 * value is never shared: each read deserialises its own copy.
 */
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { REPO_ROOT } from '../tools/repo-root';
import { cacheKey, fileSha1, readCacheBytes, writeCache } from '../tools/validate/cache';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const YAML_VERSION: string = require('yaml/package.json').version;

/** The code that decides what a clean parse is and what it gives: its limits, checks and parse options. */
const RULE_SOURCES = ['regions/source-file.ts', 'regions/yaml-surprises.ts', 'regions/parse-cache.ts'];

let rules: string | null | undefined;

/** The rule sources' hashes, once per process; null (no caching) when they cannot be read. */
function rulesFingerprint(): string | null {
  if (rules === undefined) {
    try {
      rules = RULE_SOURCES.map((file) => fileSha1(path.join(REPO_ROOT, file)).sha).join(',');
    } catch {
      rules = null;
    }
  }
  return rules;
}

function entryName(text: string): string | undefined {
  const fingerprint = rulesFingerprint();
  if (fingerprint === null) return undefined;
  return `region-parse-${cacheKey('region-parse', YAML_VERSION, process.versions.v8, fingerprint, text)}.v8`;
}

/** The value a clean parse of `text` gave before, if kept. */
export function cachedParse(text: string): { readonly data: unknown } | undefined {
  const name = entryName(text);
  const bytes = name === undefined ? undefined : readCacheBytes(name);
  if (bytes === undefined) return undefined;
  try {
    return { data: v8.deserialize(bytes) };
  } catch {
    return undefined; // a damaged entry: parsed again, and overwritten
  }
}

/** Keeps the value of a clean parse of `text`. */
export function keepParse(text: string, data: unknown): void {
  const name = entryName(text);
  if (name === undefined) return;
  let bytes: Buffer;
  try {
    bytes = v8.serialize(data);
  } catch {
    return; // not a plain value: parsed on every read
  }
  writeCache(name, bytes);
}
