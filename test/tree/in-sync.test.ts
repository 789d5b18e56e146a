/**
 * dist/ is committed and must always be what the source renders: Argo CD deploys dist/, not the
 * source. Fails when someone changed regions/ or charts/ without `npm run synth`, or edited
 * dist/ by hand. Guards issue #2 item 10.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/regions';
import { renderShipped } from '../support/rendered';
import { readTree } from '../support/tree';

describe('dist/ is in sync with the source', () => {
  it('holds exactly the files `npm run synth` renders, byte for byte (if not: run npm run synth and commit dist/)', () => {
    const rendered = Object.fromEntries(renderShipped().map((f) => [f.path, f.content]));
    const committed = readTree(path.join(REPO_ROOT, 'dist'));
    expect(Object.keys(committed).sort(), 'files in dist/').toEqual(Object.keys(rendered).sort());
    for (const [file, content] of Object.entries(rendered)) {
      expect(committed[file], `dist/${file} is stale: run npm run synth and commit dist/`).toBe(content);
    }
  });
});
