/**
 * Connection declarations (`--wiring <module>`) put in by a launcher instead of required at run
 * time, by absolute module path: `npm run validate` runs as a bundle under plain node, which cannot
 * require TypeScript (tools/validate-bundle.ts puts in the one `npm run validate` passes). The
 * validator still imports no chart itself (test/validate/independence.test.ts).
 */
import type { RegionPlan } from '../../regions/plan';
import type { Connection } from '../../regions/wiring';

export type Declaration = (plan: RegionPlan) => readonly Connection[];

export const bundledDeclarations = new Map<string, Declaration>();
