import { expect } from 'vitest';
import { Finding, LoadedObject, validateObjects } from '../../tools/validate';
import { validObjects } from './fixtures/valid';

/** In-repo layers only (schema, policy, references): fast and independent of ../shared. */
export function check(objects: LoadedObject[]): Finding[] {
  return validateObjects(objects, { schemaDir: null }).findings;
}

/** Builds the valid set, lets the test break one thing, and returns the findings. */
export function breakOne(mutate: (objects: LoadedObject[]) => LoadedObject[] | void): Finding[] {
  const objects = validObjects();
  return check(mutate(objects) ?? objects);
}

/** Asserts that exactly these findings (rule + path) fired, nothing else. */
export function expectOnly(findings: Finding[], rule: string, paths: string[]): void {
  expect(findings.map((f) => `${f.rule} ${f.path}`).sort()).toEqual(paths.map((p) => `${rule} ${p}`).sort());
}
