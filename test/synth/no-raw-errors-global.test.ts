/**
 * Issue 15 item 1, global.yaml: the second half of its boundary cases (no-raw-errors.test.ts runs
 * the first half and says why), in a file of its own so that vitest runs both halves at once.
 */
import { describe, expect, it } from 'vitest';
import { GlobalConfig } from '../../regions/model';
import { runBoundaryCases } from '../support/no-raw-errors';

describe('global.yaml at its boundaries', () => {
  it('every boundary value of every field either renders or fails with a located problem (second half)', () => {
    const outcome = runBoundaryCases([{ file: 'global.yaml', schema: GlobalConfig }], { index: 1, of: 2 });
    expect(outcome.raw).toEqual([]);
    expect(outcome.cases).toBeGreaterThan(150);
    expect(outcome.rendered).toBeGreaterThan(25);
    expect(outcome.located).toBeGreaterThan(25);
  }, 240_000);
});
