/**
 * Checks one parsed file against its JSON Schema and turns ajv's errors into ConfigIssues a
 * person can act on (found / expected / fix, with the line).
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { show, type ConfigIssue, type FieldPath } from './config-error';
import { editDistance } from './edit-distance';
import type { SourceFile } from './source-file';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
const compiled = new Map<TSchema, ValidateFunction>();

export function checkSchema(source: SourceFile, schema: TSchema): ConfigIssue[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(source.data)) return [];
  return withoutRenamedRequired(collapse(validate.errors ?? [])).map((error) => toIssue(source, error));
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
  const schema = error.parentSchema as { description?: string; anyOf?: { const?: unknown }[] } | undefined;
  const about = schema?.description ? ` (${schema.description})` : '';
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((schema as { properties?: object } | undefined)?.properties ?? {});
      const guess = closest(key, known);
      return source.issue(
        [...path, key],
        `unknown field "${key}"`,
        `one of the fields ${known.map((k) => `"${k}"`).join(', ')}`,
        guess ? `rename "${key}" to "${guess}"` : `remove "${key}"`,
      );
    }
    case 'required': {
      const key = (error.params as { missingProperty: string }).missingProperty;
      return source.issue(path, `no field "${key}"`, `required field "${key}"${about}`, `add "${key}"`);
    }
    case 'anyOf': {
      const options = (schema?.anyOf ?? []).map((s) => s.const).filter((c) => c !== undefined);
      const expected = options.length > 0 ? `one of ${options.map((o) => JSON.stringify(o)).join(', ')}` : 'a valid value';
      return source.issue(path, show(error.data), `${expected}${about}`);
    }
    case 'pattern':
      return source.issue(path, show(error.data), `a value matching ${(error.params as { pattern: string }).pattern}${about}`);
    default:
      return source.issue(path, show(error.data), `${error.message ?? 'a valid value'}${about}`);
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
