/**
 * Writing dist/: all or nothing, removed files disappear, a region filter touches only its
 * folder, no staging folders are left behind. Guards issue #2 item 4. A tree that already holds
 * exactly the rendered files is left alone (no timestamp moves).
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

  describe('when dist already holds the rendered files', () => {
    const files = { 'us-east-1/namespaces.yaml': 'ns\n', 'argocd/argocd.yaml': 'argo\n' };
    const PAST = new Date('2020-01-01T00:00:00Z');
    function inPlace(): string {
      const dist = path.join(tempDir(), 'dist');
      writeTree(dist, files);
      for (const rel of Object.keys(files)) fs.utimesSync(path.join(dist, rel), PAST, PAST);
      return dist;
    }
    const mtimeOf = (dist: string, rel: string) => fs.statSync(path.join(dist, rel)).mtime.getTime();

    it('writes nothing: same folder, no file touched, the check still runs', () => {
      const dist = inPlace();
      const inode = fs.statSync(dist).ino;
      let checked = '';
      writeDist(rendered(files), { distDir: dist, replace: 'all', check: (dir) => { checked = dir; } });
      expect(checked).toBe(dist);
      expect(fs.statSync(dist).ino).toBe(inode);
      for (const rel of Object.keys(files)) expect(mtimeOf(dist, rel)).toBe(PAST.getTime());
      expect(fs.readdirSync(path.dirname(dist))).toEqual(['dist']);
    });

    it('with a region filter, looks only at that folder', () => {
      const dist = inPlace();
      fs.writeFileSync(path.join(dist, 'argocd/argocd.yaml'), 'edited by hand\n');
      writeDist(rendered({ 'us-east-1/namespaces.yaml': 'ns\n' }), { distDir: dist, replace: ['us-east-1'] });
      expect(mtimeOf(dist, 'us-east-1/namespaces.yaml')).toBe(PAST.getTime());
      expect(readTree(dist)['argocd/argocd.yaml']).toBe('edited by hand\n');
    });

    it.each([
      ['a file differs by a byte', (dist: string) => fs.writeFileSync(path.join(dist, 'argocd/argocd.yaml'), 'argo \n')],
      ['an extra file', (dist: string) => fs.writeFileSync(path.join(dist, 'us-east-1/stale.yaml'), 'x\n')],
      ['an extra empty folder', (dist: string) => fs.mkdirSync(path.join(dist, 'eu-west-1'))],
      ['a missing file', (dist: string) => fs.rmSync(path.join(dist, 'argocd/argocd.yaml'))],
      ['an execute bit', (dist: string) => fs.chmodSync(path.join(dist, 'argocd/argocd.yaml'), 0o755)],
      ['a folder in place of a file', (dist: string) => {
        fs.rmSync(path.join(dist, 'argocd/argocd.yaml'));
        fs.mkdirSync(path.join(dist, 'argocd/argocd.yaml'));
        fs.writeFileSync(path.join(dist, 'argocd/argocd.yaml/x'), 'argo\n');
      }],
    ])('rewrites the tree when there is %s', (_what, change) => {
      const dist = inPlace();
      change(dist);
      writeDist(rendered(files), { distDir: dist, replace: 'all' });
      expect(readTree(dist)).toEqual(files);
      expect(fs.statSync(path.join(dist, 'argocd/argocd.yaml')).mode & 0o111).toBe(0);
      expect(mtimeOf(dist, 'us-east-1/namespaces.yaml')).not.toBe(PAST.getTime());
    });
  });
});
