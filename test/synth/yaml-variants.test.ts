/**
 * Valid spellings of the same config render the same tree, byte for byte (issue #15 item 3):
 * CRLF line endings, a UTF-8 byte-order mark, JSON syntax (YAML is a superset of it) and YAML
 * anchors and aliases (within the expansion bound) are read exactly like the plain files.
 * The plain copy goes through the synth command (a child process, writing files); each variant
 * is loaded and rendered in process (what the command runs: loadPlan and renderAll), with
 * anything written to stderr captured, and compared with the command's files byte for byte.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Document, parse } from 'yaml';
import { definition } from '../../main';
import { loadPlan } from '../../regions/load';
import { renderAll } from '../../tools/synth/run';
import { REGIONS_DIR, tempDir } from '../support/regions';
import { runSynth } from '../support/run';
import { readTree } from '../support/tree';

const yamlFiles = fs.readdirSync(REGIONS_DIR).filter((n) => n.endsWith('.yaml'));

/** Every equal mapping or list (of at least two entries) becomes one object: written as &anchor and *alias. */
function shareRepeats(data: unknown): unknown {
  const seen = new Map<string, unknown>();
  const walk = (node: unknown): unknown => {
    if (node === null || typeof node !== 'object') return node;
    const copy = Array.isArray(node) ? node.map(walk) : Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    if ((Array.isArray(copy) ? copy.length : Object.keys(copy).length) < 2) return copy;
    const key = JSON.stringify(copy);
    if (!seen.has(key)) seen.set(key, copy);
    return seen.get(key);
  };
  return walk(data);
}

const variants: Record<string, (text: string) => string> = {
  crlf: (text) => text.replace(/\n/g, '\r\n'),
  bom: (text) => `\uFEFF${text}`,
  json: (text) => `${JSON.stringify(parse(text), null, 2)}\n`,
  anchors: (text) => new Document(shareRepeats(parse(text)), { aliasDuplicateObjects: true }).toString(),
};

function copyOfRegions(transform?: (text: string) => string): string {
  const regions = tempDir('bb-regions-');
  for (const name of yamlFiles) {
    const text = fs.readFileSync(path.join(REGIONS_DIR, name), 'utf8');
    fs.writeFileSync(path.join(regions, name), transform ? transform(text) : text);
  }
  return regions;
}

/** The plain copy through the command, as a user runs it. */
function renderWithCli(): { status: number | null; stderr: string; tree: Record<string, string> } {
  const out = path.join(tempDir('bb-out-'), 'dist');
  const result = runSynth(['--regions', copyOfRegions(), '--out', out]);
  return { status: result.status, stderr: result.stderr, tree: result.status === 0 ? readTree(out) : {} };
}

/** A variant in process: the files the command would write, and whatever went to stderr. */
function renderInProcess(transform: (text: string) => string): { stderr: string; tree: Record<string, string> } {
  const regions = copyOfRegions(transform);
  let stderr = '';
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const files = renderAll(definition, loadPlan(regions), {});
    return { stderr, tree: Object.fromEntries(files.map((f) => [f.path, f.content]).sort(([a], [b]) => (a! < b! ? -1 : 1))) };
  } finally {
    process.stderr.write = write;
  }
}

describe('valid YAML variants render exactly like the plain config', () => {
  const plain = renderWithCli();

  it('the plain copy renders', () => {
    expect(plain.stderr).toBe('');
    expect(plain.status).toBe(0);
    expect(Object.keys(plain.tree).length).toBeGreaterThan(50);
  });

  it('the anchors variant really uses anchors and aliases', () => {
    const text = variants.anchors(fs.readFileSync(path.join(REGIONS_DIR, 'global.yaml'), 'utf8'));
    expect(text).toMatch(/&\w+/);
    expect(text).toMatch(/\*\w+/);
  });

  it.each(Object.keys(variants))('%s', (name) => {
    const variant = renderInProcess(variants[name]!);
    expect(variant.stderr).toBe('');
    expect(Object.keys(variant.tree)).toEqual(Object.keys(plain.tree));
    for (const [file, text] of Object.entries(plain.tree)) expect(variant.tree[file], file).toBe(text);
  });
});
