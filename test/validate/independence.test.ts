/**
 * Issue 9 item 3: the validator judges the rendered YAML with rules and schemas of its own, the
 * same on every clone. So it imports no chart code (it would then check the charts against
 * themselves), and nothing in tools/ but `npm run import`'s optional mirror reads the folder
 * next to the repository (../shared), which exists only on some machines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) tsFiles(p, out);
    else if (entry.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of static imports, re-exports, dynamic imports and requires. */
function specifiers(source: string): string[] {
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  return [...source.matchAll(re)].map((m) => m[1]);
}

describe('the validator stands on its own', () => {
  it('tools/validate imports nothing from charts/ or main.ts', () => {
    const offenders: string[] = [];
    for (const file of tsFiles(path.join(ROOT, 'tools', 'validate'))) {
      for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
        if (target === 'charts' || target.startsWith(`charts${path.sep}`) || target === 'main' || target === 'main.ts') {
          offenders.push(`${path.relative(ROOT, file)} → ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('no tool but the import mirror refers to ../shared', () => {
    const offenders = tsFiles(path.join(ROOT, 'tools'))
      .filter((file) => path.relative(ROOT, file) !== path.join('tools', 'import-crds.ts'))
      .filter((file) => /\.\.\/shared|['"]shared['"]|shared\/crds/.test(fs.readFileSync(file, 'utf8')))
      .map((file) => path.relative(ROOT, file));
    expect(offenders).toEqual([]);
  });
});
