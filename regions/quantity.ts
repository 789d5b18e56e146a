/**
 * Kubernetes quantities as numbers (CPU in cores, memory and storage in bytes), so capacity
 * invariants can compare `1200Gi` with `900Gi` before anything is rendered.
 */
/** The suffixes parseQuantity reads, and their factors (regions/formats.ts explains the others). */
export const QUANTITY_SUFFIXES: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

export function parseQuantity(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match) throw new Error(`"${quantity}" is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 10Gi)`);
  return Number(match[1]) * QUANTITY_SUFFIXES[match[2] ?? ''];
}
