/**
 * Issue 15 item 1, the region files: every field of RegionConfig at its boundaries in a serving
 * region (us-east-1, the primary) and a standby-only region (eu-central-1). See
 * no-raw-errors.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { RegionConfig } from '../../regions/model';
import { runBoundaryCases } from '../support/no-raw-errors';

describe('region files at their boundaries', () => {
  it('every boundary value of every field either renders or fails with a located problem', () => {
    const outcome = runBoundaryCases([
      { file: 'us-east-1.yaml', schema: RegionConfig },
      { file: 'eu-central-1.yaml', schema: RegionConfig },
    ]);
    expect(outcome.raw).toEqual([]);
    expect(outcome.cases).toBeGreaterThan(100);
    expect(outcome.rendered).toBeGreaterThan(20);
    expect(outcome.located).toBeGreaterThan(20);
  }, 120_000);
});
