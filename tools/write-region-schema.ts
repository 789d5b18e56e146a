/**
 * `npm run schema`: writes the JSON Schemas of the region model to regions/schema/ for editors
 * (the `yaml-language-server` modeline at the top of each region file points at them). The
 * TypeBox models in regions/model.ts and regions/versions-model.ts are the source; a test fails
 * when these files are stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SCHEMA_FILES } from '../regions/model';
import { VERSIONS_SCHEMA_FILES } from '../regions/versions-model';

export const SCHEMA_DIR = path.resolve(__dirname, '..', 'regions', 'schema');

/** File name → exact file content, as committed. */
export function renderRegionSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  const sources: Array<[string, Readonly<Record<string, unknown>>]> = [
    ['regions/model.ts', SCHEMA_FILES],
    ['regions/versions-model.ts', VERSIONS_SCHEMA_FILES],
  ];
  for (const [source, files] of sources) {
    for (const [file, schema] of Object.entries(files)) {
      const document = { $schema: 'http://json-schema.org/draft-07/schema#', $comment: `Generated from ${source} by \`npm run schema\`; do not edit.`, ...(schema as object) };
      out[file] = `${JSON.stringify(document, null, 2)}\n`;
    }
  }
  return out;
}

if (require.main === module) {
  fs.mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const [file, text] of Object.entries(renderRegionSchemas())) {
    fs.writeFileSync(path.join(SCHEMA_DIR, file), text);
    process.stdout.write(`wrote regions/schema/${file}\n`);
  }
}
