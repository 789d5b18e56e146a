/**
 * One style for every rendered file: stable object order, fixed key order, YAML 1.1 quoting.
 * Guards issue #2 item 4 (stable order, byte-identical output).
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { canonical, sortObjects, toYamlFile, type KubeObject } from '../../tools/synth/normalise';

const obj = (kind: string, name: string, namespace?: string, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, ...extra }) as KubeObject;

describe('normalise', () => {
  it('orders objects by install order (Namespace first), then namespace and name, whatever the input order', () => {
    const input = [obj('Service', 'b', 'x'), obj('Deployment', 'a', 'x'), obj('Service', 'a', 'x'), obj('Namespace', 'x'), obj('ConfigMap', 'z', 'x')];
    const order = (list: KubeObject[]) => sortObjects(list).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(order(input)).toEqual(['Namespace/x', 'ConfigMap/z', 'Service/a', 'Service/b', 'Deployment/a']);
    expect(order([...input].reverse())).toEqual(order(input));
  });

  it('puts apiVersion, kind, metadata first and sorts the rest by code point, never by locale', () => {
    const out = canonical({ spec: { b: 1, a: 2, İ: 3, i: 4 }, metadata: { labels: {}, name: 'n' }, kind: 'K', apiVersion: 'v1' }) as Record<string, any>;
    expect(Object.keys(out)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(Object.keys(out.metadata)).toEqual(['name', 'labels']);
    expect(Object.keys(out.spec)).toEqual(['a', 'b', 'i', 'İ']);
  });

  it('puts name first in list items (containers, ports, env) and drops undefined values', () => {
    const out = canonical({ items: [{ value: 'v', name: 'n', gone: undefined }] }, 'inner') as { items: object[] };
    expect(Object.keys(out.items[0])).toEqual(['name', 'value']);
  });

  it('never changes its input, and hands back what is already in form instead of a copy (only the changed path is new)', () => {
    const input = {
      apiVersion: 'v1', kind: 'K', metadata: { name: 'n', labels: { a: '1' } },
      spec: { settled: { a: [1, { b: 2 }], c: 'x' }, items: [{ value: 'v', name: 'n', gone: undefined }, { name: 'm' }] },
    };
    const before = structuredClone(input);
    const out = canonical(input) as any;
    expect(input).toEqual(before);
    expect(Object.keys(input.spec.items[0]!)).toEqual(['value', 'name', 'gone']);
    expect(out).not.toBe(input);
    expect(out.metadata).toBe(input.metadata);
    expect(out.spec.settled).toBe(input.spec.settled);
    expect(out.spec.items).not.toBe(input.spec.items);
    expect(Object.keys(out.spec.items[0])).toEqual(['name', 'value']);
    expect(out.spec.items[1]).toBe(input.spec.items[1]);
    const settled = { apiVersion: 'v1', kind: 'K', metadata: { name: 'n', namespace: 's', labels: {} }, data: { a: 1, b: [] } };
    expect(canonical(settled)).toBe(settled);
    // The metadata order: name, namespace, labels, annotations first; a misplaced one is reordered.
    const reordered = canonical({ apiVersion: 'v1', kind: 'K', metadata: { namespace: 's', name: 'n' } }) as any;
    expect(Object.keys(reordered.metadata)).toEqual(['name', 'namespace']);
  });

  it('quotes strings that YAML 1.1 (Kubernetes) would read as booleans or numbers', () => {
    const text = toYamlFile([obj('ConfigMap', 'c', 'x', { data: { a: 'on', b: 'yes', c: '1.28', d: '0755', e: 'plain' } })], ['header']);
    expect(text).toContain('a: "on"');
    expect(text).toContain('b: "yes"');
    expect(text).toContain('c: "1.28"');
    expect(text).toContain('d: "0755"');
    expect(text).toContain('e: plain');
    const [, doc] = text.split('---\n');
    expect(parse(doc, { version: '1.1' }).data).toEqual({ a: 'on', b: 'yes', c: '1.28', d: '0755', e: 'plain' });
  });

  it('starts every file with its header comment and separates documents', () => {
    const text = toYamlFile([obj('Namespace', 'a'), obj('Namespace', 'b')], ['Generated. Do not edit.']);
    expect(text.startsWith('# Generated. Do not edit.\n---\napiVersion: v1\n')).toBe(true);
    expect(text.match(/^---$/gm)).toHaveLength(2);
  });
});
