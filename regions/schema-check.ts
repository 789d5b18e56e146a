/**
 * Checks one parsed file against its JSON Schema and turns ajv's errors into ConfigIssues a
 * person can act on (found / expected / fix, with the line).
 */
import Ajv, { _, type AnySchemaObject, type ErrorObject, type KeywordCxt, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { cachedValidator, cacheKey, flushCodeCaches, sha1 } from '../tools/validate/cache';
import { formatPath, show, type ConfigIssue, type FieldPath } from './config-error';
import { editDistance } from './edit-distance';
import { explainLookAlikes, explainString, FORMATS, isValidFormat, plainText, withinFormatBound, type StringSchema } from './formats';
import type { SourceFile } from './source-file';

/**
 * What the compiled validators call at run time: the format checks of regions/formats.ts. The
 * cached (standalone) code reaches them as `require("bookedbarber:region-formats")`.
 */
const RUNTIME_ID = 'bookedbarber:region-formats';
const runtime = {
  formats: Object.fromEntries(Object.keys(FORMATS).map((name) => [name, { type: 'string' as const, validate: (text: string) => isValidFormat(name, text) }])),
  withinFormatBound,
};

/** An Ajv for one schema (the cached code of a schema then reads the same whoever compiles it). */
function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, code: { source: true, formats: _`require(${RUNTIME_ID}).formats` } });
  // Structured strings (regions/formats.ts): `format` parses, `formatMinimum`/`formatMaximum`
  // bound the parsed value (a duration in seconds, a quantity in cores or bytes).
  for (const [name, format] of Object.entries(runtime.formats)) ajv.addFormat(name, format);
  for (const [keyword, side] of [['formatMinimum', 'min'], ['formatMaximum', 'max']] as const) {
    ajv.addKeyword({
      keyword,
      type: 'string',
      schemaType: 'string',
      code(cxt: KeywordCxt) {
        const bound = cxt.gen.scopeValue('func', { ref: withinFormatBound, code: _`require(${RUNTIME_ID}).withinFormatBound` });
        const format = String((cxt.parentSchema as AnySchemaObject).format ?? '');
        cxt.fail(_`!${bound}(${format}, ${cxt.data}, ${cxt.schema as string}, ${side})`);
      },
    });
  }
  return ajv;
}

function runtimeRequire(id: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return id === RUNTIME_ID ? runtime : require(id);
}

/**
 * The validator of one schema: from the disk cache of compiled validators (cachedValidator, keyed
 * by the schema's content), else compiled (ajv: ~0.4 s for the three region schemas) and cached.
 */
function compile(schema: TSchema): ValidateFunction {
  const name = `region-validator-${cacheKey(sha1(JSON.stringify(schema)))}.js`;
  return cachedValidator(name, () => {
    const ajv = newAjv();
    return [ajv, ajv.compile(schema)];
  }, runtimeRequire as NodeRequire);
}

/** Keywords about a string's text: one issue per field for all of them, explained by formats.ts. */
const STRING_KEYWORDS = new Set(['pattern', 'format', 'formatMinimum', 'formatMaximum', 'maxLength', 'minLength']);
const compiled = new Map<TSchema, ValidateFunction>();

export function checkSchema(source: SourceFile, schema: TSchema): ConfigIssue[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = compile(schema);
    compiled.set(schema, validate);
  }
  const valid = validate(source.data);
  // Its V8 code cache now holds the functions this check compiled (a failing config never reaches the validator's flush).
  flushCodeCaches();
  if (valid) return [];
  return onePerStringField(withoutRenamedRequired(collapse(validate.errors ?? []))).map((error) => toIssue(source, error));
}

/** A string failing its pattern, format and bound is one problem, explained once. */
function onePerStringField(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (!STRING_KEYWORDS.has(e.keyword)) return true;
    if (seen.has(e.instancePath)) return false;
    seen.add(e.instancePath);
    return true;
  });
}

/**
 * A misspelt required field shows up twice: unknown `readReplica` and missing `readReplicas`.
 * The unknown-field issue already says "rename readReplica to readReplicas"; drop the other.
 */
function withoutRenamedRequired(errors: ErrorObject[]): ErrorObject[] {
  const renamed = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'additionalProperties') continue;
    const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const guess = closest((e.params as { additionalProperty: string }).additionalProperty, known);
    if (guess) renamed.add(`${e.instancePath}/${guess}`);
  }
  return errors.filter(
    (e) => e.keyword !== 'required' || !renamed.has(`${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`),
  );
}

/** ajv reports every branch of a union; keep one message per path (the union's own). */
function collapse(errors: ErrorObject[]): ErrorObject[] {
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  return errors.filter((e) => e.keyword === 'anyOf' || !unionPaths.has(e.instancePath));
}

function pathOf(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^[0-9]+$/.test(part) ? Number(part) : part));
}

function toIssue(source: SourceFile, error: ErrorObject): ConfigIssue {
  const path: FieldPath = pathOf(error.instancePath);
  const field = formatPath(path);
  const schema = error.parentSchema as { description?: string; anyOf?: { const?: unknown }[] } | undefined;
  const about = schema?.description ? ` (${schema.description})` : '';
  const limit = (error.params as { limit?: number }).limit;
  if (STRING_KEYWORDS.has(error.keyword) && typeof error.data === 'string') {
    const { found, expected, fix } = explainString(error.data, (error.parentSchema ?? {}) as StringSchema, field);
    return source.issue(path, found, expected, fix);
  }
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((schema as { properties?: object } | undefined)?.properties ?? {});
      const guess = closest(key, known);
      const lookAlike = explainLookAlikes(key);
      return source.issue(
        [...path, key],
        lookAlike ? `unknown field ${lookAlike.found}` : `unknown field "${key}"`,
        `one of the fields ${known.map((k) => `"${k}"`).join(', ')}`,
        lookAlike && guess ? `${lookAlike.fix.split(':')[0]}: "${guess}"` : guess ? `rename "${key}" to "${guess}"` : `remove "${key}"`,
      );
    }
    case 'required': {
      const key = (error.params as { missingProperty: string }).missingProperty;
      return source.issue(path, `no field "${key}"`, `required field "${key}"${about}`, `add "${key}"`);
    }
    case 'anyOf': {
      const options = (schema?.anyOf ?? []).map((s) => s.const).filter((c) => c !== undefined);
      const expected = options.length > 0 ? `one of ${options.map((o) => JSON.stringify(o)).join(', ')}${about}` : `a valid value${about}`;
      if (typeof error.data === 'string') {
        const lookAlike = explainLookAlikes(error.data);
        if (lookAlike) return source.issue(path, lookAlike.found, expected, lookAlike.fix);
        const guess = closest(error.data, options.filter((o): o is string => typeof o === 'string'));
        if (guess) return source.issue(path, show(error.data), expected, `write "${guess}"`);
      }
      return source.issue(path, show(error.data), expected, options.length > 0 ? `set ${field} to one of ${options.map((o) => JSON.stringify(o)).join(', ')}` : `set ${field} to a value of the shape described (see regions/schema/*.json)`);
    }
    case 'maximum':
      return source.issue(path, show(error.data), `at most ${limit}${about}`, `lower ${field} to ${limit} or less`);
    case 'exclusiveMaximum':
      return source.issue(path, show(error.data), `less than ${limit}${about}`, `lower ${field} below ${limit}`);
    case 'minimum':
      return source.issue(path, show(error.data), `at least ${limit}${about}`, `raise ${field} to ${limit} or more`);
    case 'exclusiveMinimum':
      return source.issue(path, show(error.data), `more than ${limit}${about}`, `raise ${field} above ${limit}`);
    case 'uniqueItems': {
      // ajv names the two equal items (in either order). Point at the repeat, not at the list.
      const { i, j } = error.params as { i: number; j: number };
      const [first, repeat] = [Math.min(i, j), Math.max(i, j)];
      const items = Array.isArray(error.data) ? error.data : [];
      return source.issue(
        [...path, repeat],
        `${show(items[repeat])}, the same as ${field}[${first}]`,
        `each entry once${about}`,
        `remove ${field}[${repeat}] or change it to the entry you meant`,
      );
    }
    case 'maxItems': {
      const n = Array.isArray(error.data) ? error.data.length : 0;
      return source.issue(path, `${n} entries`, `at most ${limit} entries${about}`, `remove ${n - (limit ?? 0)} of the entries of ${field}`);
    }
    case 'minItems': {
      const n = Array.isArray(error.data) ? error.data.length : 0;
      return source.issue(path, `${n} entries`, `at least ${limit} entries${about}`, `add ${(limit ?? 0) - n} entries to ${field}`);
    }
    case 'maxProperties': {
      const n = error.data && typeof error.data === 'object' ? Object.keys(error.data).length : 0;
      return source.issue(path, `${n} entries`, `at most ${limit} entries${about}`, `remove ${n - (limit ?? 0)} of the entries of ${field}`);
    }
    case 'type': {
      const type = (error.params as { type: string }).type;
      if (typeof error.data === 'string') {
        const lookAlike = explainLookAlikes(error.data);
        if (lookAlike) {
          const number = type === 'integer' || type === 'number' ? numberFromText(field, type, plainText(error.data)) : undefined;
          const fix = number === undefined ? lookAlike.fix : 'fix' in number ? number.fix : `write ${number.digits}: a plain number, no spaces or quotes`;
          return source.issue(path, lookAlike.found, `${error.message}${about}`, fix);
        }
      }
      return source.issue(path, show(error.data), `${error.message ?? 'a valid value'}${about}`, typeFix(field, type, error.data));
    }
    default:
      return source.issue(path, show(error.data), `${error.message ?? 'a valid value'}${about}`, `correct ${field}: ${error.message ?? 'see the expected value'}`);
  }
}

/**
 * A number typed as text (quoted, grouped with "_", "," or spaces): the plain digits to write, a
 * fix of its own (a decimal comma, a fraction where a whole number belongs), or undefined when
 * the text is no number.
 */
function numberFromText(field: string, type: 'integer' | 'number', raw: string): { digits: string } | { fix: string } | undefined {
  const text = raw.trim();
  // A decimal comma (0,999; 1,5): a point is YAML's decimal separator. Not a thousands
  // separator, which groups three digits after a first group that is not 0.
  const decimal = /^-?[0-9]+,[0-9]+$/.test(text) && !/^-?[1-9][0-9]{0,2}(,[0-9]{3})+$/.test(text);
  if (decimal) return { fix: type === 'integer' ? `write a whole number for ${field}` : `write ${text.replace(',', '.')}: a decimal point, not a comma` };
  const digits = text.replace(/[\s_,]/g, '');
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(digits)) return undefined;
  if (type === 'integer' && digits.includes('.')) return { fix: `write a whole number for ${field}` };
  return { digits };
}

/** What to write when a value has the wrong YAML type. */
function typeFix(field: string, type: string, data: unknown): string {
  if (field === '(document)') return 'write the file\'s fields as "key: value" lines (copy an existing region file to start from)';
  switch (type) {
    case 'integer':
    case 'number': {
      if (typeof data === 'number') return type === 'integer' ? `write a whole number for ${field}` : `write ${field} as a plain number`;
      if (typeof data === 'string') {
        const number = numberFromText(field, type, data);
        if (number !== undefined) {
          if ('fix' in number) return number.fix;
          return number.digits === data.trim() ? `write ${number.digits}: a plain number, without quotes` : `write ${number.digits}: a plain number, without "_", "," or spaces`;
        }
      }
      return `write a ${type === 'integer' ? 'whole number' : 'number'} for ${field}`;
    }
    case 'string':
      return `write ${field} as text; quote it if YAML reads it as something else: "${String(data)}"`;
    case 'array':
      return typeof data === 'string' || typeof data === 'number'
        ? `write ${field} as a list: [${JSON.stringify(data)}], or one "- item" per line`
        : `write ${field} as a list: [a, b] or one "- item" per line`;
    case 'object':
      return `write ${field} as a mapping: "key: value" lines indented under ${field.split('.').pop()}`;
    case 'boolean':
      return `write ${field} as true or false`;
    default:
      return `write ${field} as a ${type}`;
  }
}

/** The known key nearest to a typo (edit distance <= 2), for "did you mean". */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
