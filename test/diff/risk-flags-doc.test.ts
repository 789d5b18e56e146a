/**
 * docs/review.md lists the risk flags a reviewer reads first: every flag the diff can raise, in
 * its order, and none it cannot (the list had fallen three flags behind tools/diff/risks.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { RISK_RULES } from '../../tools/diff/risks';
import { REPO_ROOT } from '../support/regions';

it('docs/review.md lists every risk flag of tools/diff/risks.ts, in the report\'s order', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'review.md'), 'utf8');
  const listed = [...doc.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
  expect(listed).toEqual(Object.keys(RISK_RULES));
});
