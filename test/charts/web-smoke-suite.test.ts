/**
 * The web smoke-test suite (issue 13 item 1), run as the Job runs it: the shipped file
 * (charts/web/smoke-suite.mjs) with the plan rendered from the shipped config, against a small
 * local HTTP server that behaves like a healthy booking site. Every check passes on the healthy
 * fixture; each broken behaviour fails exactly the check(s) that name it, and the program
 * exits 1 so the Job, the analysis and the release fail.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { SMOKE_SUITE_FILE, smokeTestPlan, type SmokeTestPlan } from '../../charts/web/smoke-test';
import { regionPlan } from '../support/charts';
import { tempDir } from '../support/regions';

const run = promisify(execFile);
const plan = regionPlan('us-east-1');
const smoke = plan.global.delivery.web.smokeTest;
const budgetMs = plan.global.delivery.web.analysis.maxLatencyP95Ms;

/** What one fixture server does wrong (nothing: healthy). */
type Break =
  | 'liveness-500' | 'readiness-503' | 'metrics-exposed'
  | 'home-no-charset' | 'home-no-marker' | 'home-no-doctype' | 'home-no-lang' | 'home-heavy' | 'home-uncompressed'
  | 'no-linked-script' | 'script-as-text' | 'stylesheet-404' | 'assets-no-cache' | 'assets-uncompressed' | 'favicon-404'
  | 'availability-not-json' | 'book-500'
  | 'no-hsts' | 'short-hsts' | 'csp-unsafe-eval' | 'no-nosniff' | 'frameable' | 'referrer-unsafe-url' | 'no-permissions-policy'
  | 'powered-by' | 'cookie-not-secure'
  | 'redirect-wrong-target' | 'redirect-wrong-status' | 'open-redirect'
  | 'soft-404' | 'plain-404' | 'malformed-500' | 'trace-echoed' | 'stack-trace-404'
  | 'slow-home' | 'slow-availability' | 'slow-assets' | 'home-500';

const HOME_HTML = (b?: Break, v?: Variant) => [
  b === 'home-no-doctype' ? '' : '<!doctype html>',
  b === 'home-no-lang' ? '<html>' : '<html lang="en">',
  `<head><meta charset="utf-8"><title>${b === 'home-no-marker' ? 'Welcome' : 'BookedBarber — book your barber'}</title>`,
  '<link rel="preload" href="/static/font.woff2" as="font">',
  v === 'cdn-assets' ? '<link rel="stylesheet" href="https://cdn.example.com/app.css">' : '<link rel="stylesheet" href="/static/app.3f2a9c.css">',
  b === 'no-linked-script' ? '' : v === 'cdn-assets' ? '<script src="https://cdn.example.com/app.js" defer></script>'
    : v === 'public-host-assets' ? '<script src="https://book.bookedbarber.com/static/app.9c1b7e.js" defer></script>' : '<script src="/static/app.9c1b7e.js" defer></script>',
  // A CDN's script is not ours to check.
  b === 'no-linked-script' ? '' : '<script src="https://cdn.example.com/analytics.js" async></script>',
  '<script>window.__BB__ = {};</script>',
  '</head><body><h1>Find a barbershop</h1>',
  b === 'home-heavy' ? `<p>${'x'.repeat(smoke.maxPageKiB * 1024)}</p>` : '',
  '</body></html>',
].join('\n');

/** Healthy variants a real site may have, which must not fail any check. */
type Variant = 'cdn-assets' | 'public-host-assets' | 'inline-script-error-text';

const BOOKING: Record<string, { type: string; body: string }> = {
  '/locations': { type: 'text/html; charset=utf-8', body: '<!doctype html><html lang="en"><h1>Find a barbershop</h1></html>' },
  '/locations/search?q=new+york': { type: 'text/html; charset=utf-8', body: '<!doctype html><html lang="en"><h1>Barbershops near New York</h1></html>' },
  '/book': { type: 'text/html; charset=utf-8', body: '<!doctype html><html lang="en"><h1>Choose a service</h1></html>' },
  '/api/web/locations?near=10001&limit=5': { type: 'application/json', body: '{"locations":[{"id":1,"name":"Downtown"}]}' },
  '/api/web/services?location=1': { type: 'application/json', body: '{"services":[{"id":1,"name":"Haircut","minutes":30}]}' },
  '/api/web/availability?location=1&service=1': { type: 'application/json', body: '{"slots":["2026-12-07T10:00:00Z"]}' },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A booking site: healthy, or with one thing broken. */
function fixture(b?: Break, v?: Variant): http.Server {
  return http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    const gzip = /gzip/.test(String(req.headers['accept-encoding'] ?? ''));
    const send = (status: number, type: string, body: string, headers: Record<string, string | string[]> = {}, compress = true) => {
      let payload: Buffer = Buffer.from(body);
      const h: Record<string, string | string[]> = { 'content-type': type, server: 'istio-envoy', ...headers };
      if (compress && gzip) {
        payload = zlib.gzipSync(payload);
        h['content-encoding'] = 'gzip';
      }
      if (b === 'powered-by') h['x-powered-by'] = 'Express';
      res.writeHead(status, h);
      res.end(payload);
    };
    const page = (status: number, body: string) => send(status, 'text/html; charset=utf-8', body, securityHeaders());
    const securityHeaders = (): Record<string, string | string[]> => {
      const h: Record<string, string | string[]> = {
        'content-security-policy': `default-src 'self'; script-src 'self' https://cdn.example.com${b === 'csp-unsafe-eval' ? " 'unsafe-eval'" : ''}${b === 'frameable' ? '' : "; frame-ancestors 'none'"}`,
        'x-content-type-options': 'nosniff',
        'referrer-policy': b === 'referrer-unsafe-url' ? 'unsafe-url' : 'strict-origin-when-cross-origin',
        'permissions-policy': 'camera=(), microphone=(), geolocation=(self)',
        'set-cookie': [`bb_session=abc; Path=/; HttpOnly; SameSite=Lax${b === 'cookie-not-secure' ? '' : '; Secure'}`],
      };
      if (b !== 'frameable') h['x-frame-options'] = 'DENY';
      if (b === 'no-nosniff') delete h['x-content-type-options'];
      if (b === 'no-permissions-policy') delete h['permissions-policy'];
      if (b !== 'no-hsts') h['strict-transport-security'] = `max-age=${b === 'short-hsts' ? 86400 : 63072000}; includeSubDomains; preload`;
      return h;
    };
    const notFound = () => (b === 'plain-404'
      ? send(404, 'text/plain', 'Not Found')
      : page(b === 'soft-404' ? 200 : 404, `<!doctype html><html lang="en"><h1>Page not found</h1>${b === 'stack-trace-404' ? '<pre>Error: no route\n    at Router.handle (/app/node_modules/express/lib/router/index.js:284:7)</pre>' : ''}${v === 'inline-script-error-text' ? '<script>if (!window.fetch) throw new Error("TypeError: fetch missing");</script>' : ''}</html>`));

    if (req.method === 'TRACE') {
      if (b === 'trace-echoed') return send(200, 'message/http', `TRACE ${url} HTTP/1.1`, {}, false);
      return send(405, 'text/plain', 'Method Not Allowed', { allow: 'GET, HEAD' }, false);
    }
    if (url.includes('?')) {
      try {
        decodeURIComponent(url.split('?')[1]!);
      } catch {
        return b === 'malformed-500' ? send(500, 'text/plain', 'Internal Server Error', {}, false) : send(400, 'text/plain', 'Bad Request', {}, false);
      }
    }
    switch (url) {
      case '/healthz': return b === 'liveness-500' ? send(500, 'text/plain', 'dead', {}, false) : send(200, 'text/plain', 'ok', {}, false);
      case '/readyz': return b === 'readiness-503' ? send(503, 'text/plain', 'not ready', {}, false) : send(200, 'text/plain', 'ok', {}, false);
      case '/metrics': return b === 'metrics-exposed' ? send(200, 'text/plain; version=0.0.4', '# HELP up Up.\n# TYPE up gauge\nup 1\n', {}, false) : notFound();
      case '/': {
        if (b === 'slow-home') await sleep(budgetMs + 50);
        if (b === 'home-500') return page(500, '<!doctype html><html lang="en"><h1>Something went wrong</h1></html>');
        const type = b === 'home-no-charset' ? 'text/html' : 'text/html; charset=utf-8';
        return send(200, type, HOME_HTML(b, v), securityHeaders(), b !== 'home-uncompressed');
      }
      case '/static/app.3f2a9c.css':
        if (b === 'stylesheet-404') return notFound();
        if (b === 'slow-assets') await sleep(budgetMs + 50);
        return send(200, 'text/css', 'body{margin:0}', { 'cache-control': b === 'assets-no-cache' ? 'no-cache' : 'public, max-age=31536000, immutable' }, b !== 'assets-uncompressed');
      case '/static/app.9c1b7e.js':
        if (b === 'slow-assets') await sleep(budgetMs + 50);
        return send(200, b === 'script-as-text' ? 'text/plain' : 'application/javascript; charset=utf-8', 'console.log(1)', { 'cache-control': 'public, max-age=31536000, immutable' }, b !== 'assets-uncompressed');
      case '/favicon.ico': return b === 'favicon-404' ? notFound() : send(200, 'image/x-icon', 'icon', { 'cache-control': 'public, max-age=86400' }, false);
      case '/robots.txt': return send(200, 'text/plain; charset=utf-8', 'User-agent: *\nAllow: /\n', {}, false);
      case '/booking': return send(b === 'redirect-wrong-status' ? 302 : 301, 'text/plain', '', { location: b === 'redirect-wrong-target' ? '/' : '/book' }, false);
      case '/index.html': return send(301, 'text/plain', '', { location: 'https://book.bookedbarber.com/' }, false);
      case '/book/': return send(308, 'text/plain', '', { location: '/book' }, false);
      case smoke.openRedirectProbe: return send(302, 'text/plain', '', { location: b === 'open-redirect' ? 'https://smoke-test.invalid/' : '/login' }, false);
      default: {
        const read = BOOKING[url];
        if (!read) return notFound();
        if (b === 'book-500' && url === '/book') return page(500, '<!doctype html><html lang="en"><h1>Something went wrong</h1></html>');
        if (url.startsWith('/api/web/availability')) {
          if (b === 'slow-availability') await sleep(budgetMs + 50);
          if (b === 'availability-not-json') return send(200, read.type, '{"slots": [', securityHeaders());
        }
        return send(200, read.type, read.body, securityHeaders());
      }
    }
  });
}

/** Starts a fixture on a free loopback port and returns the suite's plan aimed at it. */
async function serve(b?: Break, v?: Variant): Promise<{ plan: SmokeTestPlan; close: () => Promise<void> }> {
  const server = fixture(b, v);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    plan: smokeTestPlan(plan, `http://127.0.0.1:${port}`),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface SuiteModule {
  runSuite(plan: SmokeTestPlan, log?: (line: string) => void): Promise<{ total: number; failed: string[] }>;
}
let suite: SuiteModule;
beforeAll(async () => {
  suite = (await import(SMOKE_SUITE_FILE)) as SuiteModule;
});

async function runAgainst(b?: Break, v?: Variant): Promise<{ total: number; failed: string[]; out: string }> {
  const { plan: p, close } = await serve(b, v);
  const lines: string[] = [];
  try {
    return { ...(await suite.runSuite(p, (l) => lines.push(l))), out: lines.join('\n') };
  } finally {
    await close();
  }
}

/** Each broken behaviour and the checks it must fail: exactly these. */
const BREAKS: Record<Break, string[]> = {
  'liveness-500': ['health.liveness'],
  'readiness-503': ['health.readiness', 'latency.readiness'],
  'metrics-exposed': ['health.no-metrics-on-service-port'],
  'home-no-charset': ['home.content-type'],
  'home-no-marker': ['home.marker'],
  'home-no-doctype': ['home.doctype'],
  'home-no-lang': ['home.language'],
  'home-heavy': ['home.size'],
  'home-uncompressed': ['home.compressed'],
  'no-linked-script': ['static.linked'],
  'script-as-text': ['static.scripts'],
  'stylesheet-404': ['static.stylesheets', 'static.cache', 'static.compressed'],
  'assets-no-cache': ['static.cache'],
  'assets-uncompressed': ['static.compressed'],
  'favicon-404': ['static.file:/favicon.ico'],
  'availability-not-json': ['booking:/api/web/availability?location=1&service=1'],
  'book-500': ['booking:/book', 'latency.booking'],
  'no-hsts': ['security.hsts'],
  'short-hsts': ['security.hsts'],
  'csp-unsafe-eval': ['security.csp'],
  'no-nosniff': ['security.nosniff'],
  frameable: ['security.framing'],
  'referrer-unsafe-url': ['security.referrer-policy'],
  'no-permissions-policy': ['security.permissions-policy'],
  'powered-by': ['security.no-powered-by'],
  'cookie-not-secure': ['security.cookies'],
  'redirect-wrong-target': ['redirect:/booking'],
  'redirect-wrong-status': ['redirect:/booking'],
  'open-redirect': ['redirect.no-open-redirect'],
  'soft-404': ['error.not-found-status'],
  'plain-404': ['error.not-found-page'],
  'malformed-500': ['error.malformed-request'],
  'trace-echoed': ['error.no-trace-method'],
  'stack-trace-404': ['error.no-leak'],
  'slow-home': ['latency.home'],
  'slow-availability': ['latency.booking'],
  'slow-assets': ['latency.static'],
  // Everything read from the home page fails with it; the cookie check reads any answer.
  'home-500': [
    'home.status', 'home.content-type', 'home.marker', 'home.doctype', 'home.language', 'home.size', 'home.compressed',
    'static.linked', 'static.scripts', 'static.stylesheets', 'static.cache', 'static.compressed',
    'security.hsts', 'security.csp', 'security.nosniff', 'security.framing', 'security.referrer-policy', 'security.permissions-policy',
    'security.no-powered-by', 'latency.home', 'latency.static',
  ],
};

describe('web smoke-test suite against a local booking site', () => {
  let healthy: { total: number; failed: string[]; out: string };
  beforeAll(async () => {
    healthy = await runAgainst();
  });

  it('passes every check on the healthy site, and has at least 30 of them', () => {
    expect(healthy.failed, healthy.out).toEqual([]);
    expect(healthy.total).toBeGreaterThanOrEqual(30);
    expect(healthy.out).toContain(`1..${healthy.total}`);
    expect(healthy.out.match(/^ok \d+ - /gm)).toHaveLength(healthy.total);
  });

  it('covers what a booking site needs: health, home page, static assets, booking reads, security headers, redirects, error pages, response times', () => {
    const ids = [...healthy.out.matchAll(/^ok \d+ - ([^:]+(?::[^ ]+)?):/gm)].map((m) => m[1]!);
    const groups = new Set(ids.map((id) => id.split(/[.:]/)[0]));
    expect([...groups].sort()).toEqual(['booking', 'error', 'health', 'home', 'latency', 'redirect', 'security', 'static']);
    for (const read of smoke.bookingReads) expect(ids).toContain(`booking:${read.path}`);
    for (const r of smoke.redirects) expect(ids).toContain(`redirect:${r.from}`);
  });

  it('every check can fail: each is failed by at least one broken behaviour below (one path of each per-path family)', () => {
    const family = (id: string) => id.replace(/:.*/, ':*');
    const ids = [...healthy.out.matchAll(/^ok \d+ - (\S+):/gm)].map((m) => family(m[1]!));
    const failable = new Set(Object.values(BREAKS).flat().map(family));
    expect(ids.filter((id) => !failable.has(id))).toEqual([]);
  });

  for (const v of ['cdn-assets', 'public-host-assets', 'inline-script-error-text'] as Variant[]) {
    it(`a healthy site with ${v} passes every check`, async () => {
      const { failed, out } = await runAgainst(undefined, v);
      expect(failed, out).toEqual([]);
    }, 30_000);
  }

  it('checks assets linked by their absolute public-host URL (they are the site\'s own)', async () => {
    const { failed } = await runAgainst('script-as-text', 'public-host-assets');
    expect(failed).toEqual(['static.scripts']);
  }, 30_000);

  for (const [b, expected] of Object.entries(BREAKS) as [Break, string[]][]) {
    // Concurrent: each case has its own server on its own port (the slow ones sleep).
    it.concurrent(`${b}: fails ${expected.join(', ')} and nothing else`, async ({ expect }) => {
      const { failed, out } = await runAgainst(b);
      expect(failed, out).toEqual(expected);
    }, 30_000);
  }
});

describe('the program the Job runs (node smoke-suite.mjs plan.json)', () => {
  const planFile = async (b?: Break) => {
    const served = await serve(b);
    const file = path.join(tempDir('bb-smoke-'), 'plan.json');
    fs.writeFileSync(file, JSON.stringify(served.plan));
    return { file, close: served.close };
  };

  it('exits 0 with TAP output when every check passes', async () => {
    const { file, close } = await planFile();
    try {
      const { stdout } = await run(process.execPath, [SMOKE_SUITE_FILE, file]);
      expect(stdout).toMatch(/^TAP version 13\n1\.\.\d+\n/);
      expect(stdout).toMatch(/# \d+ passed, 0 failed\n$/);
    } finally {
      await close();
    }
  }, 30_000);

  it('exits 1 and names the failed check and why when one fails (the Job fails, the promotion is aborted)', async () => {
    const { file, close } = await planFile('no-hsts');
    try {
      const err = await run(process.execPath, [SMOKE_SUITE_FILE, file]).then(() => undefined, (e: { code: number; stdout: string }) => e);
      expect(err?.code).toBe(1);
      expect(err?.stdout).toMatch(/^not ok \d+ - security\.hsts: .*\n {2}# \/: strict-transport-security "\(none\)"$/m);
      expect(err?.stdout).toMatch(/# \d+ passed, 1 failed: security\.hsts\n$/);
    } finally {
      await close();
    }
  }, 30_000);

  it('exits 2 on a plan it cannot read', async () => {
    const err = await run(process.execPath, [SMOKE_SUITE_FILE, '/nonexistent/plan.json']).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(err?.code).toBe(2);
    expect(err?.stderr).toContain('cannot read the plan /nonexistent/plan.json');
  });

  it('fails every check, naming the cause, when nothing answers', async () => {
    const { plan: p, close } = await serve();
    await close();
    const lines: string[] = [];
    const { total, failed } = await suite.runSuite({ ...p, latencySamples: 1 }, (l) => lines.push(l));
    expect(failed).toHaveLength(total);
    expect(lines.join('\n')).toContain('ECONNREFUSED');
  });
});
