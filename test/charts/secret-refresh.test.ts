/**
 * Secrets rotate (issue #14 item 4): every ExternalSecret the platform renders, in every region
 * and in dist/argocd (Grafana's admin credentials inside the add-on's Helm values), refreshes on
 * the one interval from global.secretStore.refreshIntervalSeconds.
 */
import { describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { secretRefreshInterval } from '../../charts/lib/external-secret';
import { loadPlan } from '../../regions/load';
import { renderAll } from '../../tools/synth/run';
import { regionsWith } from '../support/regions';

function refreshIntervals(seconds: number): { externalSecrets: number; intervals: Set<string> } {
  const plan = loadPlan(regionsWith((f) => (f['global.yaml'].secretStore.refreshIntervalSeconds = seconds)));
  const files = renderAll(definition, plan, {}).filter((f) => f.path.endsWith('.yaml'));
  const text = files.map((f) => f.content).join('\n');
  return {
    externalSecrets: (text.match(/kind: ExternalSecret$/gm) ?? []).length,
    intervals: new Set([...text.matchAll(/refreshInterval: (\S+)/g)].map((m) => m[1].replace(/^"|"$/g, ''))),
  };
}

describe('ExternalSecret refresh interval', () => {
  it('is a Go duration in the largest whole unit', () => {
    const at = (s: number) => secretRefreshInterval({ secretStore: { refreshIntervalSeconds: s } } as never);
    expect([at(3600), at(300), at(90), at(60)]).toEqual(['1h', '5m', '90s', '1m']);
  });

  it('every ExternalSecret, regional and global, uses the configured interval', () => {
    const shipped = refreshIntervals(3600);
    expect(shipped.externalSecrets).toBeGreaterThan(50);
    expect(shipped.intervals).toEqual(new Set(['1h']));
    expect(refreshIntervals(300).intervals).toEqual(new Set(['5m']));
  });
});
