/**
 * regions/versions.yaml is the one place third-party versions are pinned (issue 9 item 2): the
 * CRD commits agree with cdk8s.yaml's URLs, every third-party image in dist/ comes from it, and it
 * is loaded as strictly as the other region files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatPath } from '../../regions/config-error';
import { loadPlan } from '../../regions/load';
import type { CrdPin, VersionsConfig } from '../../regions/versions-model';
import { imageReference } from '../../charts/lib/image';
import { DIST } from '../support/dist';
import { configError, regionsWith, regionsWithText, REGIONS_DIR, REPO_ROOT, tempDir } from '../support/regions';

const plan = loadPlan(REGIONS_DIR);


/** Every pinned upstream URL of cdk8s.yaml: `imports` (CRDs) and `validatorSchemas` (validator only). */
function cdk8sUrls(file = path.join(REPO_ROOT, 'cdk8s.yaml')): string[] {
  const doc = parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  return (['imports', 'validatorSchemas'] as const)
    .flatMap((key) => (Array.isArray(doc[key]) ? (doc[key] as string[]) : []))
    .map((entry) => entry.slice(entry.indexOf(':=') + (entry.includes(':=') ? 2 : 0)));
}

/** Disagreements between pinned URLs and the `crds` section, each naming both sides. */
function crdPinProblems(urls: readonly string[], crds: Readonly<Record<string, CrdPin>>): string[] {
  const problems: string[] = [];
  const used = new Set<string>();
  for (const url of urls) {
    const match = /^https:\/\/raw\.githubusercontent\.com\/([^/]+\/[^/]+)\/([0-9a-f]{40})\//.exec(url);
    if (!match) {
      problems.push(`cdk8s.yaml: ${url} is not a raw.githubusercontent.com URL pinned by a full commit SHA`);
      continue;
    }
    const [, project, commit] = match;
    const entries = Object.entries(crds).filter(([, pin]) => pin.project === project);
    const pinned = entries.find(([, pin]) => pin.commit === commit);
    if (pinned) {
      used.add(pinned[0]);
    } else if (entries.length === 0) {
      problems.push(`cdk8s.yaml: ${url} is from ${project}, which has no entry in regions/versions.yaml crds`);
    } else {
      const listed = entries.map(([key, pin]) => `crds.${key} (${pin.version}, commit ${pin.commit})`).join(', ');
      problems.push(`cdk8s.yaml: ${url} is at commit ${commit}, but regions/versions.yaml pins ${project} at ${listed}`);
    }
  }
  for (const [key, pin] of Object.entries(crds)) {
    if (used.has(key)) continue;
    const sameProject = urls.filter((u) => u.includes(`/${pin.project}/`));
    problems.push(
      `regions/versions.yaml: crds.${key} (${pin.project} ${pin.version}, commit ${pin.commit}) is used by no cdk8s.yaml URL` +
        (sameProject.length > 0 ? `; cdk8s.yaml has ${sameProject.join(', ')}` : ''),
    );
  }
  return problems;
}

/** `image:` values in the rendered YAML, with the files they appear in. */
function distImages(): Map<string, string[]> {
  const images = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.yaml')) {
        for (const m of fs.readFileSync(file, 'utf8').matchAll(/^\s*(?:-\s+)?image:\s*["']?([^\s"']+)["']?\s*$/gm)) {
          images.set(m[1]!, [...(images.get(m[1]!) ?? []), path.relative(DIST, file)]);
        }
      }
    }
  };
  walk(DIST);
  return images;
}

describe('regions/versions.yaml and cdk8s.yaml', () => {
  it('every pinned URL in cdk8s.yaml is at the commit of its project in versions.yaml crds, and every crds pin is used', () => {
    const urls = cdk8sUrls();
    expect(urls.length).toBeGreaterThan(0);
    expect(crdPinProblems(urls, plan.versions.crds)).toEqual([]);
  });

  it('a disagreement names the URL and the versions.yaml entry, in both directions', () => {
    const crds = plan.versions.crds;
    const url = `https://raw.githubusercontent.com/argoproj/argo-rollouts/${'a'.repeat(40)}/manifests/crds/rollout-crd.yaml`;
    const problems = crdPinProblems([url], { argoRollouts: crds.argoRollouts });
    expect(problems).toEqual([
      `cdk8s.yaml: ${url} is at commit ${'a'.repeat(40)}, but regions/versions.yaml pins argoproj/argo-rollouts at crds.argoRollouts (v1.8.4, commit ${crds.argoRollouts.commit})`,
      `regions/versions.yaml: crds.argoRollouts (argoproj/argo-rollouts v1.8.4, commit ${crds.argoRollouts.commit}) is used by no cdk8s.yaml URL; cdk8s.yaml has ${url}`,
    ]);
    expect(crdPinProblems([url.replace('argoproj/argo-rollouts', 'example/unknown')], {})[0]).toContain('example/unknown, which has no entry');
  });
});

describe('third-party images come from regions/versions.yaml', () => {
  const ours = [plan.global.releases.api, plan.global.releases.web].map(imageReference);
  const pinned = new Map(Object.entries(plan.versions.images).map(([key, image]) => [imageReference(image), key]));
  const rendered = distImages();

  it('every image in dist/ is a versions.yaml image or one of our own releases (global.yaml releases)', () => {
    expect(rendered.size).toBeGreaterThan(5);
    const stray = [...rendered].filter(([image]) => !pinned.has(image) && !ours.includes(image)).map(([image, files]) => `${image} in ${files.join(', ')}`);
    expect(stray).toEqual([]);
  });

  it('every versions.yaml image is rendered (the index cleaner only with elasticsearch span storage)', () => {
    const conditional: Partial<Record<keyof VersionsConfig['images'], boolean>> = {
      jaegerEsIndexCleaner: plan.global.tracing.jaeger.storage.type === 'elasticsearch',
    };
    const unused = [...pinned].filter(([image, key]) => !rendered.has(image) && conditional[key as keyof VersionsConfig['images']] !== false);
    expect(unused.map(([image, key]) => `images.${key} (${image})`)).toEqual([]);
  });
});

describe('loading regions/versions.yaml', () => {
  it('an unknown field is rejected with its file, line and the field it was probably meant to be', () => {
    const commit = plan.versions.crds.istio.commit;
    const error = configError(regionsWithText('versions.yaml', `    commit: ${commit}`, `    comit: ${commit}`));
    expect(error.issues).toHaveLength(1);
    const [issue] = error.issues;
    const lines = fs.readFileSync(path.join(REGIONS_DIR, 'versions.yaml'), 'utf8').split('\n');
    expect(path.basename(issue!.file)).toBe('versions.yaml');
    expect(issue!.line).toBe(lines.indexOf(`    commit: ${commit}`) + 1);
    expect(formatPath(issue!.path)).toBe('crds.istio.comit');
    expect(issue!.fix).toBe('rename "comit" to "commit"');
  });

  it('a folder without versions.yaml says what is missing', () => {
    const dir = tempDir();
    fs.copyFileSync(path.join(REGIONS_DIR, 'global.yaml'), path.join(dir, 'global.yaml'));
    const [issue] = configError(dir).issues;
    expect(path.basename(issue!.file)).toBe('versions.yaml');
    expect(issue!.found).toBe('no such file');
    expect(issue!.fix).toMatch(/^restore it from git \(git checkout -- \S*versions\.yaml\), or point --regions at the folder that holds it$/);
  });

  it('a chart that installs CRDs must install the release imports/ is generated from', () => {
    const error = configError(regionsWith((f) => (f['versions.yaml'].helmCharts.argoRollouts.appVersion = 'v1.9.0')));
    expect(error.issues).toHaveLength(1);
    const [issue] = error.issues;
    expect(formatPath(issue!.path)).toBe('helmCharts.argoRollouts.appVersion');
    expect(issue!.expected).toContain('v1.8.4, the release of crds.argoRollouts');
  });

  it('pins released together keep one version', () => {
    const error = configError(regionsWith((f) => (f['versions.yaml'].helmCharts.istiod.version = '1.24.7')));
    expect(error.issues.map((i) => [formatPath(i.path), i.found])).toEqual([['helmCharts.istiod.version', '1.24.7']]);
  });
});
