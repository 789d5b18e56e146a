/**
 * Synthetic region folders for the benchmark: N regions made from the shipped region files
 * (round robin), each with its own name, zones, rollout wave, cluster, east-west gateway,
 * backup bucket and health check, exactly one primary, and one shard each whose franchise ranges tile the
 * global franchise ID space. Residency follows the template, so every invariant still holds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { GLOBAL_FILE, regionFiles, VERSIONS_FILE } from '../../regions/load';

/** a, b, ..., z, aa, ab, ... */
function letters(index: number): string {
  let out = '';
  let n = index;
  do {
    out = String.fromCharCode(97 + (n % 26)) + out;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return out;
}

/**
 * Writes `count` regions into `outDir` (plus copies of global.yaml and versions.yaml). Region names keep the
 * `xx-word-N` form of a cloud region id: the template's word gets a letter suffix.
 */
export function writeSyntheticRegions(sourceDir: string, outDir: string, count: number): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const globalText = fs.readFileSync(path.join(sourceDir, GLOBAL_FILE), 'utf8');
  fs.writeFileSync(path.join(outDir, GLOBAL_FILE), globalText);
  fs.copyFileSync(path.join(sourceDir, VERSIONS_FILE), path.join(outDir, VERSIONS_FILE));
  const ids = parseDocument(globalText).toJS().franchiseIds as { first: number; last: number };
  const templates = regionFiles(sourceDir).map((file) => ({
    name: path.basename(file, '.yaml'),
    text: fs.readFileSync(file, 'utf8'),
  }));
  // The primary template first, so region 0 is the one primary.
  templates.sort((a, b) => Number(/\nrole: primary/.test(b.text)) - Number(/\nrole: primary/.test(a.text)));
  const span = ids.last - ids.first + 1;
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const template = templates[i % templates.length];
    const [geo, word, digit] = template.name.split('-');
    const name = `${geo}-${word}${letters(i)}-${digit}`;
    // The template's own name appears in zones, cluster, gateway and bucket: rename them all.
    const doc = parseDocument(template.text.split(template.name).join(name));
    const first = ids.first + Math.floor((span * i) / count);
    const last = ids.first + Math.floor((span * (i + 1)) / count) - 1;
    doc.set('role', i === 0 ? 'primary' : 'secondary');
    doc.set('rolloutWave', i + 1);
    const shards = doc.get('shards') as { items: unknown[] };
    if (shards.items.length !== 1) throw new Error(`template ${template.name} has ${shards.items.length} shards; the bench expects 1`);
    doc.setIn(['shards', 0, 'id'], i + 1);
    doc.setIn(['shards', 0, 'franchises', 'first'], first);
    doc.setIn(['shards', 0, 'franchises', 'last'], last);
    // Route 53 health checks are one per region: give each synthetic region its own ID.
    if (doc.hasIn(['dns', 'healthCheckId'])) doc.setIn(['dns', 'healthCheckId'], `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`);
    fs.writeFileSync(path.join(outDir, `${name}.yaml`), doc.toString());
    names.push(name);
  }
  return names;
}
