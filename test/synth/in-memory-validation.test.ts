/**
 * Synth validates the rendered documents in memory (tools/validate validateRendered) instead of
 * parsing its own YAML back (issue 16). That is only sound if the YAML it writes parses back
 * (YAML 1.1, as the validator and Argo CD read it) to exactly those documents, at the same
 * positions, and if both ways report the same findings. Both are proven here over a full render.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { yamlFile } from '../../tools/synth/normalise';
import { validateRendered, validateTree } from '../../tools/validate';
import { parseYamlFile, regionOfRelative } from '../../tools/validate/load';
import { tempDir } from '../support/regions';
import { renderShipped } from '../support/rendered';
import { writeTree } from '../support/tree';

const files = renderShipped();
const yamlFiles = files.filter((f) => f.path.endsWith('.yaml'));

describe('in-memory validation during synth', () => {
  it('every YAML file parses back to exactly the documents it was written from, in order', () => {
    expect(yamlFiles.length).toBeGreaterThan(80);
    for (const f of yamlFiles) {
      const parsed = parseYamlFile(f.path, f.content, regionOfRelative(f.path));
      expect(parsed.findings, f.path).toEqual([]);
      expect(parsed.objects.map((o) => o.index), f.path).toEqual((f.documents ?? []).map((_, i) => i));
      expect(parsed.objects.map((o) => o.object), f.path).toEqual(f.documents);
    }
  });

  it('reports what reading the files reports, also for a broken object', () => {
    // Break objects in memory and on disk the same way: PgBouncer Deployments without their labels.
    const broken = yamlFiles.map((f) => (f.path === 'us-east-1/pgbouncer.yaml'
      ? { ...f, documents: f.documents!.map((d: any) => (d.kind === 'Deployment' ? { ...d, metadata: { ...d.metadata, labels: {} } } : d)) }
      : f));
    const root = tempDir('bb-inmem-');
    writeTree(root, Object.fromEntries(broken.map((f) => [f.path, f.documents === undefined ? f.content : yamlFile(f.documents, ['test'])])));
    const fromMemory = validateRendered(root, broken, { connections: undefined });
    const fromDisk = validateTree(root, { connections: undefined });
    expect(fromMemory.findings.length).toBeGreaterThan(0);
    expect(fromMemory.findings).toEqual(fromDisk.findings);
    expect(fromMemory.objects).toBe(fromDisk.objects);
    expect(path.isAbsolute(fromMemory.findings[0]!.file) || fromMemory.findings[0]!.file.startsWith(root)).toBe(true);
  });
});
