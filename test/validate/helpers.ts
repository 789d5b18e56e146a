import { expect } from 'vitest';
import { Finding, LoadedObject, validateObjects } from '../../tools/validate';
import { validObjects } from './fixtures/valid';

/**
 * Every layer, as synth and `npm run validate` run them: the committed upstream schemas first,
 * the in-repo schema layers only for an object they refuse (half the CPU of the in-repo layers on
 * every object, and the findings of every other rule are the same: test/validate/schema-layers.test.ts).
 */
export function check(objects: LoadedObject[]): Finding[] {
  return validateObjects(objects).findings;
}

/** The in-repo layers only (no upstream schemas): for the tests of the in-repo schema layers themselves. */
export function checkInRepo(objects: LoadedObject[]): Finding[] {
  return validateObjects(objects, { schemaDir: null }).findings;
}

/** Builds the valid set, lets the test break one thing, and returns the findings (every layer, or `judge`'s). */
export function breakOne(mutate: (objects: LoadedObject[]) => LoadedObject[] | void, judge: (objects: LoadedObject[]) => Finding[] = check): Finding[] {
  const objects = validObjects();
  return judge(mutate(objects) ?? objects);
}

/** breakOne with the in-repo layers only. */
export const breakOneInRepo = (mutate: (objects: LoadedObject[]) => LoadedObject[] | void): Finding[] => breakOne(mutate, checkInRepo);

/** Asserts that exactly these findings (rule + path) fired, nothing else. */
export function expectOnly(findings: Finding[], rule: string, paths: string[]): void {
  expect(findings.map((f) => `${f.rule} ${f.path}`).sort()).toEqual(paths.map((p) => `${rule} ${p}`).sort());
}
