// The web front end's smoke-test suite: what a booking site must do before a release of it may
// take traffic. Run by the web Rollout's pre-promotion analysis (a Job metric, charts/web/smoke-test.ts)
// against the preview Service, and by test/charts/web-smoke-suite.test.ts against a local server.
//
//   node smoke-suite.mjs <plan.json>
//
// The plan (rendered from delivery.web.smokeTest) names the target, paths and budgets; the checks
// are below, in the order they run. Output is TAP: `ok N - <id>: <what>` or `not ok N - ...` with
// the reason on `#` lines. Exit 0 when every check passed, 1 when any failed (the Job fails and
// Argo Rollouts aborts the promotion), 2 when the plan cannot be read.
//
// Node.js 20 built-ins only (the Job runs the official node image, nothing installed). Requests
// are GET or TRACE: a smoke test never books. They go to the preview Service by its name (the
// mesh routes by Host); the tester's sidecar rewrites the Host to the public one (a VirtualService
// in mesh.yaml), and every request says it arrived over HTTPS (X-Forwarded-Proto), as the ingress
// gateway's do, so the app answers as it would a user.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { pathToFileURL } from 'node:url';
import * as zlib from 'node:zlib';

const USER_AGENT = 'bookedbarber-smoke-test/1';
/** HSTS max-age the HSTS preload list requires (one year). */
const MIN_HSTS_MAX_AGE_SECONDS = 31536000;
/** Referrer-Policy values that never send a full URL to another origin. */
const SAFE_REFERRER_POLICIES = ['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin'];
/** What a leaked stack trace or framework debug page looks like (Node, Python, Java, Ruby, PHP, Go). */
const LEAK_PATTERNS = [
  /\bat [\w$.<>]+ \([^)]*:\d+:\d+\)/, /node_modules\//, /Traceback \(most recent call last\)/, /\bat [\w$.]+\([\w]+\.java:\d+\)/,
  /\.rb:\d+:in `/, /\bon line \d+\b.*\.php|Fatal error: /, /goroutine \d+ \[/, /\b(?:ReferenceError|TypeError|SyntaxError): /,
];
const JS_TYPES = ['application/javascript', 'text/javascript', 'application/x-javascript'];

// ------------------------------------------------------------------ requests

/** One request; the body is decoded (gzip, br, deflate) so checks read text; `ms` is time to the full body. */
function request(plan, path, { method = 'GET', headers = {} } = {}) {
  const target = new URL(plan.target);
  const url = new URL(path, target);
  const client = url.protocol === 'https:' ? https : http;
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = client.request(url, {
      method,
      headers: {
        'user-agent': USER_AGENT,
        accept: 'text/html,application/json;q=0.9,*/*;q=0.8',
        'accept-encoding': 'identity',
        'x-forwarded-proto': 'https',
        ...headers,
      },
      timeout: plan.requestTimeoutSeconds * 1000,
    }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        size += c.length;
        // Past twice the page budget the size check has failed anyway: stop reading.
        if (size <= plan.maxPageBytes * 2) chunks.push(c);
      });
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const raw = Buffer.concat(chunks);
        let body = raw;
        const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
        try {
          if (encoding === 'gzip') body = zlib.gunzipSync(raw);
          else if (encoding === 'br') body = zlib.brotliDecompressSync(raw);
          else if (encoding === 'deflate') body = zlib.inflateSync(raw);
        } catch (err) {
          resolve({ error: `${method} ${path}: body is not valid ${encoding} (${err.message})`, ms });
          return;
        }
        resolve({ status: res.statusCode, headers: res.headers, text: body.toString('utf8'), wireBytes: size, ms });
      });
      res.on('error', (err) => resolve({ error: `${method} ${path}: ${err.message}`, ms: 0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${plan.requestTimeoutSeconds}s`)));
    req.on('error', (err) => resolve({ error: `${method} ${path}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '), ms: 0 }));
    req.end();
  });
}

class CheckFailed extends Error {}
const fail = (message) => {
  throw new CheckFailed(message);
};

/** GETs a path once per variant and keeps the answer: several checks read the same page. */
function pages(plan) {
  const cache = new Map();
  return (path, options = {}) => {
    const key = `${options.method ?? 'GET'} ${path} ${JSON.stringify(options.headers ?? {})}`;
    if (!cache.has(key)) cache.set(key, request(plan, path, options));
    return cache.get(key);
  };
}

/** The answer, or the check fails naming the transport error. */
function answered(res) {
  if (res.error) fail(res.error);
  return res;
}

function expectStatus(res, path, ...wanted) {
  answered(res);
  if (!wanted.includes(res.status)) fail(`${path}: status ${res.status}, expected ${wanted.join(' or ')}`);
  return res;
}

const header = (res, name) => {
  const v = res.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

const mediaType = (res) => String(header(res, 'content-type') ?? '').split(';')[0].trim().toLowerCase();

function expectType(res, path, ...types) {
  const found = mediaType(res);
  if (!types.some((t) => (t.endsWith('/') ? found.startsWith(t) : found === t))) {
    fail(`${path}: content-type ${found || '(none)'}, expected ${types.join(' or ')}`);
  }
}

/** max-age of a Cache-Control value, or undefined. */
function maxAge(value) {
  const m = /(?:^|[,\s])max-age=(\d+)/i.exec(value ?? '');
  return m ? Number(m[1]) : undefined;
}

function p95(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)];
}

/** Same-origin scripts and stylesheets a page links (absolute URLs to other hosts are a CDN's, not ours). */
function linkedAssets(html, base, publicHost) {
  const attr = (tag, name) => new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  const value = (m) => (m ? m[1] ?? m[2] ?? m[3] : undefined);
  const local = (ref) => {
    const url = new URL(ref, base);
    return url.origin === new URL(base).origin || url.host === publicHost ? url.pathname + url.search : undefined;
  };
  const scriptRefs = [...html.matchAll(/<script\b[^>]*>/gi)].map((m) => value(attr(m[0], 'src'))).filter(Boolean);
  const styleRefs = [...html.matchAll(/<link\b[^>]*>/gi)]
    .filter((m) => /\brel\s*=\s*["']?stylesheet\b/i.test(m[0]))
    .map((m) => value(attr(m[0], 'href')))
    .filter(Boolean);
  const served = (refs) => [...new Set(refs.map(local).filter(Boolean))];
  // linked: every script and stylesheet the page loads, wherever it is served from; scripts and
  // styles: those the site itself serves (relative, or absolute on the public host), which the
  // suite can fetch (a CDN's are outside the mesh, and not this release's to judge).
  return { linked: { scripts: scriptRefs.length, styles: styleRefs.length }, scripts: served(scriptRefs), styles: served(styleRefs) };
}

// ------------------------------------------------------------------ checks

/** The checks, in the order they run: [id, what it proves, async (ctx) => void (throws CheckFailed)]. */
export function checks(plan) {
  const out = [];
  const add = (id, what, run) => out.push({ id, what, run });
  const home = plan.home.path;
  const readiness = plan.health.readiness;
  const homeAssets = async (ctx) => {
    const res = expectStatus(await ctx.get(home), home, 200);
    return linkedAssets(res.text, `${plan.target.replace(/\/$/, '')}${home}`, plan.publicHost);
  };

  // Health and readiness.
  add('health.liveness', `${plan.health.liveness} answers 200`, async (ctx) => {
    expectStatus(await ctx.get(plan.health.liveness), plan.health.liveness, 200);
  });
  add('health.readiness', `${readiness} answers 200`, async (ctx) => {
    expectStatus(await ctx.get(readiness), readiness, 200);
  });
  add('health.no-metrics-on-service-port', '/metrics is not served on the public port (the gateway forwards every path there)', async (ctx) => {
    const res = answered(await ctx.get('/metrics'));
    if (res.status < 300 && /^# (HELP|TYPE) /m.test(res.text)) fail(`/metrics: status ${res.status} with Prometheus metrics; serve them on the metrics port only`);
  });

  // The home page.
  add('home.status', `${home} answers 200`, async (ctx) => {
    expectStatus(await ctx.get(home), home, 200);
  });
  add('home.content-type', `${home} is HTML in UTF-8`, async (ctx) => {
    const res = expectStatus(await ctx.get(home), home, 200);
    expectType(res, home, 'text/html');
    if (!/charset\s*=\s*"?utf-8/i.test(header(res, 'content-type') ?? '')) fail(`${home}: content-type "${header(res, 'content-type')}" names no charset=utf-8`);
  });
  add('home.marker', `${home} contains ${JSON.stringify(plan.home.marker)} (the real page rendered)`, async (ctx) => {
    const res = expectStatus(await ctx.get(home), home, 200);
    if (!res.text.includes(plan.home.marker)) fail(`${home}: ${JSON.stringify(plan.home.marker)} not found in ${res.text.length} characters`);
  });
  add('home.doctype', `${home} starts with <!doctype html> (standards mode)`, async (ctx) => {
    const res = expectStatus(await ctx.get(home), home, 200);
    if (!/^\uFEFF?\s*<!doctype html>/i.test(res.text)) fail(`${home}: starts with ${JSON.stringify(res.text.slice(0, 40))}`);
  });
  add('home.language', `${home} declares its language (<html lang>)`, async (ctx) => {
    const res = expectStatus(await ctx.get(home), home, 200);
    if (!/<html\b[^>]*\blang\s*=\s*["']?[a-z]{2}/i.test(res.text)) fail(`${home}: <html> has no lang attribute`);
  });
  add('home.size', `${home} weighs at most ${plan.maxPageBytes} bytes`, async (ctx) => {
    const res = expectStatus(await ctx.get(home), home, 200);
    if (res.wireBytes > plan.maxPageBytes) fail(`${home}: ${res.wireBytes} bytes, budget ${plan.maxPageBytes}`);
  });
  add('home.compressed', `${home} is compressed for a client that accepts gzip or br`, async (ctx) => {
    const res = expectStatus(await ctx.get(home, { headers: { 'accept-encoding': 'gzip, br' } }), home, 200);
    const encoding = String(header(res, 'content-encoding') ?? '').toLowerCase();
    if (!['gzip', 'br'].includes(encoding)) fail(`${home}: content-encoding ${encoding || '(none)'} for accept-encoding "gzip, br"`);
  });

  // Static assets: those the home page links (their names change every build) and fixed ones.
  add('static.linked', `${home} links at least one script and one stylesheet`, async (ctx) => {
    const { linked } = await homeAssets(ctx);
    if (linked.scripts === 0 || linked.styles === 0) fail(`${home}: ${linked.scripts} scripts and ${linked.styles} stylesheets linked`);
  });
  add('static.scripts', 'every script the home page links loads as JavaScript', async (ctx) => {
    for (const path of (await homeAssets(ctx)).scripts) expectType(expectStatus(await ctx.get(path), path, 200), path, ...JS_TYPES);
  });
  add('static.stylesheets', 'every stylesheet the home page links loads as CSS', async (ctx) => {
    for (const path of (await homeAssets(ctx)).styles) expectType(expectStatus(await ctx.get(path), path, 200), path, 'text/css');
  });
  add('static.cache', `linked assets are cacheable for at least ${plan.minAssetMaxAgeSeconds} s`, async (ctx) => {
    const { scripts, styles } = await homeAssets(ctx);
    for (const path of [...scripts, ...styles]) {
      const res = expectStatus(await ctx.get(path), path, 200);
      const cc = header(res, 'cache-control');
      const age = maxAge(cc);
      if (/no-store|no-cache|private/i.test(cc ?? '') || age === undefined || age < plan.minAssetMaxAgeSeconds) {
        fail(`${path}: cache-control ${JSON.stringify(cc ?? '(none)')}, expected public max-age >= ${plan.minAssetMaxAgeSeconds}`);
      }
    }
  });
  add('static.compressed', 'linked scripts and stylesheets are compressed for a client that accepts gzip or br', async (ctx) => {
    const { scripts, styles } = await homeAssets(ctx);
    for (const path of [...scripts, ...styles]) {
      const res = expectStatus(await ctx.get(path, { headers: { 'accept-encoding': 'gzip, br' } }), path, 200);
      const encoding = String(header(res, 'content-encoding') ?? '').toLowerCase();
      if (!['gzip', 'br'].includes(encoding)) fail(`${path}: content-encoding ${encoding || '(none)'} for accept-encoding "gzip, br"`);
    }
  });
  for (const asset of plan.assets) {
    add(`static.file:${asset.path}`, `${asset.path} answers 200 as ${asset.contentType}`, async (ctx) => {
      expectType(expectStatus(await ctx.get(asset.path), asset.path, 200), asset.path, asset.contentType);
    });
  }

  // The booking flow's read endpoints (never a write).
  for (const read of plan.bookingReads) {
    add(`booking:${read.path}`, `${read.path} answers 200 as ${read.contentType} containing ${JSON.stringify(read.contains)}`, async (ctx) => {
      const res = expectStatus(await ctx.get(read.path), read.path, 200);
      expectType(res, read.path, read.contentType);
      if (read.contentType === 'application/json') {
        try {
          JSON.parse(res.text);
        } catch (err) {
          fail(`${read.path}: body is not JSON (${err.message})`);
        }
      }
      if (!res.text.includes(read.contains)) fail(`${read.path}: ${JSON.stringify(read.contains)} not found in ${res.text.length} characters`);
    });
  }

  // Security headers, read on the home page.
  const onHome = async (ctx) => expectStatus(await ctx.get(home), home, 200);
  add('security.hsts', `Strict-Transport-Security: max-age >= ${MIN_HSTS_MAX_AGE_SECONDS}; includeSubDomains`, async (ctx) => {
    const v = header(await onHome(ctx), 'strict-transport-security');
    const age = maxAge(v);
    if (age === undefined || age < MIN_HSTS_MAX_AGE_SECONDS || !/includesubdomains/i.test(v)) fail(`${home}: strict-transport-security ${JSON.stringify(v ?? '(none)')}`);
  });
  add('security.csp', 'Content-Security-Policy sets default-src and allows no eval', async (ctx) => {
    const v = header(await onHome(ctx), 'content-security-policy');
    if (!v || !/(^|;)\s*default-src\s/i.test(v)) fail(`${home}: content-security-policy ${JSON.stringify(v ?? '(none)')} has no default-src`);
    if (/'unsafe-eval'/i.test(v)) fail(`${home}: content-security-policy allows 'unsafe-eval'`);
  });
  add('security.nosniff', 'X-Content-Type-Options: nosniff', async (ctx) => {
    const v = header(await onHome(ctx), 'x-content-type-options');
    if (String(v ?? '').toLowerCase() !== 'nosniff') fail(`${home}: x-content-type-options ${JSON.stringify(v ?? '(none)')}`);
  });
  add('security.framing', 'no other site may frame the pages (X-Frame-Options or CSP frame-ancestors)', async (ctx) => {
    const res = await onHome(ctx);
    const xfo = String(header(res, 'x-frame-options') ?? '').toUpperCase();
    const ancestors = /(?:^|;)\s*frame-ancestors\s+([^;]*)/i.exec(header(res, 'content-security-policy') ?? '');
    const cspOk = ancestors && !/\*|https?:(?!\/\/)/.test(ancestors[1].replace(/'self'|'none'/g, ''));
    if (!['DENY', 'SAMEORIGIN'].includes(xfo) && !cspOk) fail(`${home}: x-frame-options ${JSON.stringify(xfo || '(none)')} and no restrictive frame-ancestors`);
  });
  add('security.referrer-policy', `Referrer-Policy is one of ${SAFE_REFERRER_POLICIES.join(', ')}`, async (ctx) => {
    const v = String(header(await onHome(ctx), 'referrer-policy') ?? '');
    // Browsers use the last value they understand.
    const last = v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean).pop();
    if (!SAFE_REFERRER_POLICIES.includes(last)) fail(`${home}: referrer-policy ${JSON.stringify(v || '(none)')}`);
  });
  add('security.permissions-policy', 'Permissions-Policy is set (camera, microphone, geolocation decided, not defaulted)', async (ctx) => {
    const v = header(await onHome(ctx), 'permissions-policy');
    if (!v) fail(`${home}: no permissions-policy header`);
  });
  add('security.no-powered-by', 'no X-Powered-By header (names the framework to attackers)', async (ctx) => {
    const v = header(await onHome(ctx), 'x-powered-by');
    if (v !== undefined) fail(`${home}: x-powered-by ${JSON.stringify(v)}`);
  });
  add('security.cookies', 'every cookie set by the home page and booking pages is Secure and SameSite', async (ctx) => {
    for (const path of [home, ...plan.bookingReads.map((r) => r.path)]) {
      const res = answered(await ctx.get(path));
      for (const cookie of [res.headers['set-cookie'] ?? []].flat()) {
        const name = cookie.split('=')[0];
        if (!/;\s*secure\b/i.test(cookie)) fail(`${path}: cookie ${name} is not Secure`);
        if (!/;\s*samesite=(strict|lax|none)\b/i.test(cookie)) fail(`${path}: cookie ${name} has no SameSite`);
      }
    }
  });

  // Redirects: old addresses still land, and never on another site.
  for (const r of plan.redirects) {
    add(`redirect:${r.from}`, `${r.from} redirects (${r.status}) to ${r.to}`, async (ctx) => {
      const res = expectStatus(await ctx.get(r.from), r.from, r.status);
      const location = header(res, 'location');
      if (!location) fail(`${r.from}: status ${res.status} without a location`);
      const to = new URL(location, `https://${plan.publicHost}${r.from}`);
      if (to.host !== plan.publicHost || `${to.pathname}${to.search}` !== r.to) fail(`${r.from}: location ${JSON.stringify(location)}, expected ${r.to} on ${plan.publicHost}`);
    });
  }
  add('redirect.no-open-redirect', `${plan.openRedirectProbe} does not send the browser to another site`, async (ctx) => {
    const res = answered(await ctx.get(plan.openRedirectProbe));
    const location = header(res, 'location');
    if (res.status >= 300 && res.status < 400 && location) {
      const to = new URL(location, `https://${plan.publicHost}/`);
      if (to.host !== plan.publicHost) fail(`${plan.openRedirectProbe}: status ${res.status} to ${location}`);
    }
    if (res.status >= 500) fail(`${plan.openRedirectProbe}: status ${res.status}`);
  });

  // Error pages: the site's own, with the right status, and nothing leaked.
  const missing = plan.notFound.path;
  add('error.not-found-status', `${missing} answers 404`, async (ctx) => {
    expectStatus(await ctx.get(missing), missing, 404);
  });
  add('error.not-found-page', `the 404 page is the site's HTML page containing ${JSON.stringify(plan.notFound.marker)}`, async (ctx) => {
    const res = answered(await ctx.get(missing));
    expectType(res, missing, 'text/html');
    if (!res.text.includes(plan.notFound.marker)) fail(`${missing}: ${JSON.stringify(plan.notFound.marker)} not found`);
  });
  const malformed = `${home}?q=%E0%A4%A`;
  add('error.malformed-request', `a malformed query (${malformed}) is the client's error (400, or 200 when ignored), not a server error`, async (ctx) => {
    const res = answered(await ctx.get(malformed));
    if (res.status !== 400 && res.status !== 200) fail(`${malformed}: status ${res.status}, expected 400 (or 200 when the parameter is ignored)`);
  });
  add('error.no-trace-method', 'TRACE is refused (4xx or 501), never echoed', async (ctx) => {
    const res = answered(await ctx.get(home, { method: 'TRACE' }));
    if ((res.status < 400 || res.status >= 500) && res.status !== 501) fail(`TRACE ${home}: status ${res.status}`);
  });
  add('error.no-leak', 'error answers show no stack trace or framework debug output', async (ctx) => {
    for (const [path, options] of [[missing, {}], [malformed, {}], [home, { method: 'TRACE' }]]) {
      const res = answered(await ctx.get(path, options));
      // What the page shows, not its scripts (a bundle may well contain "TypeError: " strings).
      const shown = res.text.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '');
      const leak = LEAK_PATTERNS.find((p) => p.test(shown));
      if (leak) fail(`${options.method ?? 'GET'} ${path}: body matches ${leak} (${JSON.stringify(leak.exec(shown)[0])})`);
    }
  });

  // Response times against the p95 budget, measured over fresh requests (not the cached ones).
  // The preview's pods are new: each check first sends as many unmeasured requests as it
  // measures, so the sample sees pods as warm as a minute of real traffic leaves them.
  const latency = (id, what, paths) => add(id, `${what}: p95 of ${plan.latencySamples} requests after as many warm-up ones <= ${plan.latencyBudgetMs} ms`, async (ctx) => {
    const list = await paths(ctx);
    // Nothing this release serves to measure (e.g. every asset on a CDN): nothing to hold to the budget.
    if (list.length === 0) return;
    for (let i = 0; i < plan.latencySamples; i++) {
      const res = answered(await request(plan, list[i % list.length]));
      if (res.status >= 500) fail(`${list[i % list.length]}: status ${res.status}`);
    }
    const samples = [];
    for (let i = 0; i < plan.latencySamples; i++) {
      const path = list[i % list.length];
      const res = answered(await request(plan, path));
      if (res.status >= 500) fail(`${path}: status ${res.status}`);
      samples.push(res.ms);
    }
    const value = p95(samples);
    if (value > plan.latencyBudgetMs) fail(`p95 ${value.toFixed(1)} ms over ${list.join(', ')}, budget ${plan.latencyBudgetMs} ms`);
  });
  latency('latency.home', home, async () => [home]);
  latency('latency.readiness', readiness, async () => [readiness]);
  latency('latency.booking', 'booking reads', async () => plan.bookingReads.map((r) => r.path));
  latency('latency.static', 'linked assets', async (ctx) => {
    const { scripts, styles } = await homeAssets(ctx);
    return [...scripts, ...styles];
  });
  return out;
}

// ------------------------------------------------------------------ runner

/** Runs every check in order; returns { passed, failed, lines } (TAP). Stops starting checks at the deadline. */
export async function runSuite(plan, log = (line) => process.stdout.write(`${line}\n`)) {
  const list = checks(plan);
  const ctx = { get: pages(plan) };
  const deadline = Date.now() + plan.deadlineSeconds * 1000;
  const failed = [];
  log('TAP version 13');
  log(`1..${list.length}`);
  for (const [i, check] of list.entries()) {
    let reason;
    if (Date.now() > deadline) reason = `not run: the suite's ${plan.deadlineSeconds}s deadline passed`;
    else {
      try {
        await check.run(ctx);
      } catch (err) {
        reason = err instanceof CheckFailed ? err.message : `the check itself failed: ${err.stack ?? err}`;
      }
    }
    if (reason === undefined) log(`ok ${i + 1} - ${check.id}: ${check.what}`);
    else {
      failed.push(check.id);
      log(`not ok ${i + 1} - ${check.id}: ${check.what}`);
      for (const line of reason.split('\n')) log(`  # ${line}`);
    }
  }
  log(`# ${list.length - failed.length} passed, ${failed.length} failed${failed.length ? `: ${failed.join(', ')}` : ''}`);
  return { total: list.length, failed };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
if (isMain) {
  let plan;
  try {
    plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  } catch (err) {
    process.stderr.write(`smoke test: cannot read the plan ${process.argv[2] ?? '(no argument)'}: ${err.message}\n`);
    process.exit(2);
  }
  const { failed } = await runSuite(plan);
  process.exitCode = failed.length === 0 ? 0 : 1;
}
