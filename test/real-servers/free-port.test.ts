/**
 * Ports for the loopback servers: workers running in parallel must never be handed the same port
 * (a port is reserved seconds before its server binds it; see freePort in test/support/real-servers.ts).
 */
import { describe, expect, it } from 'vitest';
import { freePort, portSlice } from '../support/real-servers';

describe('freePort', () => {
  it('gives every vitest worker its own slice of 20000-32767, below the ephemeral range', () => {
    const slices = Array.from({ length: 16 }, (_, i) => portSlice(String(i + 1)));
    const sorted = [...slices].sort((a, b) => a.first - b.first);
    sorted.forEach((s, i) => {
      expect(s.size).toBeGreaterThanOrEqual(500);
      expect(s.first).toBeGreaterThanOrEqual(20000);
      expect(s.first + s.size - 1).toBeLessThanOrEqual(32767);
      if (i > 0) expect(s.first).toBeGreaterThanOrEqual(sorted[i - 1].first + sorted[i - 1].size);
    });
    // Outside vitest (no pool ID): the whole range.
    expect(portSlice(undefined)).toEqual({ first: 20000, size: 12768 });
  });

  it('hands out ports of this worker\'s slice only, each once', async () => {
    const { first, size } = portSlice(process.env.VITEST_POOL_ID);
    const ports = await Promise.all(Array.from({ length: 40 }, () => freePort()));
    expect(new Set(ports).size).toBe(40);
    for (const p of ports) expect(p >= first && p < first + size).toBe(true);
  });
});
