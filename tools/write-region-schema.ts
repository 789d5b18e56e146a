/**
 * `npm run schema`: writes the JSON Schemas of the region model to regions/schema/ for editors
 * (the `yaml-language-server` modeline at the top of each region file points at them). The
 * TypeBox model in regions/model.ts is the source; a test fails when these files are stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SCHEMA_FILES } from '../regions/model';

export const SCHEMA_DIR = path.resolve(__dirname, '..', 'regions', 'schema');

/** File name → exact file content, as committed. */
export function renderRegionSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, schema] of Object.entries(SCHEMA_FILES)) {
    const document = { $schema: 'http://json-schema.org/draft-07/schema#', $comment: 'Generated from regions/model.ts by `npm run schema`; do not edit.', ...schema };
    out[file] = `${JSON.stringify(document, null, 2)}\n`;
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
