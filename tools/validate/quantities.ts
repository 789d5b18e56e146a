/**
 * A Kubernetes quantity's value for the validator's comparisons (bytes, or cores for CPU), read by
 * the parser the quota pages use (tools/docs/region-doc.ts `quantity`); NaN for a form that parser
 * does not read (1e3, Ei), which every comparison then leaves alone.
 */
import { quantity } from '../docs/region-doc';

export function quantityOrNaN(value: unknown): number {
  try {
    return quantity(value);
  } catch {
    return Number.NaN;
  }
}
