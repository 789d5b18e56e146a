/**
 * Boundary values for every field of a config file, from its JSON Schema (TypeBox): numbers at
 * their minimum and maximum (or a very large value when there is none), strings at their
 * shortest and longest valid form, arrays at their fewest and most items, each enum value,
 * and each optional field removed. One case = one change to one shipped file.
 */
import type { TSchema } from '@sinclair/typebox';
import { type Document, parseDocument } from 'yaml';

export type CasePath = ReadonlyArray<string | number>;

export interface BoundaryCase {
  readonly file: string;
  readonly path: CasePath;
  readonly label: string;
  /** The new value; `undefined` removes the field. */
  readonly value: unknown;
}

/** Length used for "longest" when a string has no maxLength, and the count of a large number. */
const LONG_STRING = 300;
const LARGE_NUMBER = 1_000_000_000;
const LARGE_ARRAY = 40;

type Schema = TSchema & Record<string, any>;

function matches(schema: Schema, s: string): boolean {
  if (schema.minLength !== undefined && s.length < schema.minLength) return false;
  if (schema.maxLength !== undefined && s.length > schema.maxLength) return false;
  return schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(s);
}

/** The shortest valid string reachable by deleting characters from `s` one at a time. */
export function shortestValid(schema: Schema, s: string): string | undefined {
  if (!matches(schema, s)) return undefined;
  let current = s;
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < current.length; i++) {
      const shorter = current.slice(0, i) + current.slice(i + 1);
      if (matches(schema, shorter)) {
        current = shorter;
        changed = true;
        break;
      }
    }
  }
  return current;
}

/** The longest valid string (up to maxLength, else LONG_STRING) made by inserting a run of one character into `s`. */
export function longestValid(schema: Schema, s: string): string | undefined {
  const target = schema.maxLength ?? LONG_STRING;
  if (s.length >= target) return undefined;
  const chars = [...new Set(['a', '0', '9', ...s])];
  for (let i = s.length; i >= 0; i--) {
    for (const ch of chars) {
      const longer = s.slice(0, i) + ch.repeat(target - s.length) + s.slice(i);
      if (matches(schema, longer)) return longer;
    }
  }
  return undefined;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function branchFor(schema: Schema, value: unknown): Schema | undefined {
  const t = typeOf(value);
  return (schema.anyOf as Schema[]).find((b) => b.type === t || (b.type === 'number' && t === 'integer'));
}

/** Every boundary case for `data` (the parsed file) under `schema`. */
export function boundaryCases(file: string, schema: TSchema, data: unknown): BoundaryCase[] {
  const cases: BoundaryCase[] = [];
  const add = (path: CasePath, label: string, value: unknown) => cases.push({ file, path, label, value });
  const walk = (s: Schema, value: unknown, path: CasePath): void => {
    if (s.anyOf) {
      const consts = (s.anyOf as Schema[]).map((b) => b.const);
      if (consts.every((c) => c !== undefined)) {
        for (const c of consts) if (c !== value) add(path, `= ${JSON.stringify(c)}`, c);
        return;
      }
      const branch = branchFor(s, value);
      if (branch) walk(branch, value, path);
      return;
    }
    switch (s.type) {
      case 'object': {
        const obj = value as Record<string, unknown>;
        const props = (s.properties ?? {}) as Record<string, Schema>;
        const required = new Set<string>(s.required ?? []);
        for (const [key, child] of Object.entries(props)) {
          if (!(key in obj)) continue;
          walk(child, obj[key], [...path, key]);
          if (!required.has(key)) add([...path, key], 'removed (optional)', undefined);
        }
        const extra = (s.patternProperties ? Object.values(s.patternProperties)[0] : typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined) as Schema | undefined;
        // Entries of a record share one schema: the first one stands for all.
        const first = Object.keys(obj).find((k) => !(k in props));
        if (extra && first !== undefined) walk(extra, obj[first], [...path, first]);
        return;
      }
      case 'array': {
        const arr = value as unknown[];
        // Items share one schema: the first one stands for all.
        if (arr.length > 0) walk(s.items as Schema, arr[0], [...path, 0]);
        const min = s.minItems ?? 0;
        if (arr.length > min) add(path, `${min} items (minItems)`, arr.slice(0, min));
        const max = s.maxItems ?? LARGE_ARRAY;
        if (arr.length > 0 && arr.length < max) {
          const padded = [...arr];
          while (padded.length < max) padded.push(structuredClone(arr[padded.length % arr.length]));
          add(path, `${max} items (${s.maxItems === undefined ? 'no maxItems: many' : 'maxItems'})`, padded);
        }
        return;
      }
      case 'integer':
      case 'number': {
        const integer = s.type === 'integer';
        const step = integer ? 1 : 1e-6;
        const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + step : undefined);
        const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - step : undefined);
        if (min !== undefined && min !== value) add(path, `minimum ${min}`, min);
        if (min === undefined && value !== 0) add(path, `no minimum: 0`, 0);
        if (max !== undefined && max !== value) add(path, `maximum ${max}`, max);
        if (max === undefined) add(path, `no maximum: ${LARGE_NUMBER}`, LARGE_NUMBER);
        return;
      }
      case 'string': {
        if (typeof value !== 'string') return;
        const short = shortestValid(s, value);
        if (short !== undefined && short !== value) add(path, `shortest valid ${JSON.stringify(short)}`, short);
        const long = longestValid(s, value);
        if (long !== undefined && long !== value) add(path, `longest valid (${long.length} chars)`, long);
        return;
      }
      case 'boolean':
        add(path, `= ${!value}`, !value);
        return;
      default:
        return;
    }
  };
  walk(schema as Schema, data, []);
  return cases;
}

/**
 * Each file text parsed once and cloned for each case: a case set applies hundreds of cases to
 * the same shipped text, and parsing global.yaml again for each costs more than the clone. The
 * parsed document itself is never changed. Keyed by the whole text, so a changed file is parsed anew.
 */
const parsedTexts = new Map<string, Document.Parsed>();

/** `text` (a YAML file) with one case applied; comments and the rest of the layout are kept. */
export function applyCase(text: string, c: Pick<BoundaryCase, 'path' | 'value'>): string {
  let parsed = parsedTexts.get(text);
  if (!parsed) {
    if (parsedTexts.size >= 16) parsedTexts.clear();
    parsed = parseDocument(text);
    parsedTexts.set(text, parsed);
  }
  const doc = parsed.clone();
  if (c.value === undefined) doc.deleteIn([...c.path]);
  else doc.setIn([...c.path], doc.createNode(c.value));
  return doc.toString({ lineWidth: 0 });
}
