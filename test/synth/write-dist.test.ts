/**
 * Writing dist/: all or nothing, removed files disappear, a region filter touches only its
 * folder, no staging folders are left behind. Guards issue #2 item 4.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDist } from '../../tools/synth/write-dist';
import { tempDir } from '../support/regions';
import { readTree, writeTree } from '../support/tree';

const rendered = (files: Record<string, string>) => Object.entries(files).map(([p, content]) => ({ path: p, content, objects: 1 }));

function existingDist(): string {
  const dist = path.join(tempDir(), 'dist');
  writeTree(dist, { 'us-east-1/namespaces.yaml': 'old ns\n', 'us-east-1/removed.yaml': 'gone soon\n', 'eu-west-1/namespaces.yaml': 'eu\n', 'argocd/argocd.yaml': 'argo\n' });
  return dist;
}

describe('writeDist', () => {
  it('replaces the whole tree: files of removed components and regions disappear', () => {
    const dist = existingDist();
    writeDist(rendered({ 'us-east-1/namespaces.yaml': 'new ns\n', 'argocd/argocd.yaml': 'argo 2\n' }), { distDir: dist, replace: 'all' });
    expect(readTree(dist)).toEqual({ 'argocd/argocd.yaml': 'argo 2\n', 'us-east-1/namespaces.yaml': 'new ns\n' });
  });

  it('leaves dist byte-for-byte as it was when the check of the staged tree fails', () => {
    const dist = existingDist();
    const before = readTree(dist);
    expect(() =>
      writeDist(rendered({ 'us-east-1/namespaces.yaml': 'broken\n' }), {
        distDir: dist,
        replace: 'all',
        check: (staging) => {
          expect(readTree(staging)).toEqual({ 'us-east-1/namespaces.yaml': 'broken\n' });
          throw new Error('validation failed');
        },
      }),
    ).toThrow('validation failed');
    expect(readTree(dist)).toEqual(before);
    expect(fs.readdirSync(path.dirname(dist))).toEqual(['dist']);
  });

  it('with a region filter replaces only that region and leaves every other file untouched', () => {
    const dist = existingDist();
    writeDist(rendered({ 'us-east-1/namespaces.yaml': 'new ns\n' }), { distDir: dist, replace: ['us-east-1'] });
    expect(readTree(dist)).toEqual({ 'argocd/argocd.yaml': 'argo\n', 'eu-west-1/namespaces.yaml': 'eu\n', 'us-east-1/namespaces.yaml': 'new ns\n' });
    expect(fs.readdirSync(path.dirname(dist))).toEqual(['dist']);
  });

  it('refuses files outside the folders a filtered run replaces', () => {
    const dist = existingDist();
    const before = readTree(dist);
    expect(() => writeDist(rendered({ 'argocd/argocd.yaml': 'x\n' }), { distDir: dist, replace: ['us-east-1'] })).toThrow(/outside the folders/);
    expect(readTree(dist)).toEqual(before);
  });

  it('creates dist when there is none yet', () => {
    const dist = path.join(tempDir(), 'dist');
    writeDist(rendered({ 'us-east-1/namespaces.yaml': 'ns\n' }), { distDir: dist, replace: 'all' });
    expect(readTree(dist)).toEqual({ 'us-east-1/namespaces.yaml': 'ns\n' });
  });
});
