// Opens every page of the built book in headless Chromium, offline, and reports what a reader would see.
//
//   node tests/book/browser_check.mjs <config.json> <report.json>
//
// config: {"root": "_build/html", "pages": [{"doc": "notebooks/01_kafka101", "screenshot": true}],
//          "artifacts": "tests/book/artifacts", "nodeModules": "node_modules"}
//
// The book is served from 127.0.0.1. Every request to another host is blocked, except the CDN URLs listed in
// CDN_MAPS, which are answered from the npm package of the SAME version in node_modules (a version mismatch is
// reported, not papered over). Requests that match no map are reported as unmapped, so a new CDN dependency
// fails the test until someone maps it. tests/book/test_browser.py runs this script and asserts on the report.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const [configPath, reportPath] = process.argv.slice(2);
if (!configPath || !reportPath) {
  console.error('usage: node browser_check.mjs <config.json> <report.json>');
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
const ROOT = path.resolve(config.root);
const NODE_MODULES = path.resolve(config.nodeModules);
const ARTIFACTS = path.resolve(config.artifacts);
const CHROMIUM = config.chromium || '/usr/bin/chromium';
const SETTLE_MS = config.settleMs ?? 15000;

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'application/javascript; charset=utf-8', '.mjs': 'application/javascript',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.gif': 'image/gif', '.ico': 'image/x-icon', '.json': 'application/json', '.woff': 'font/woff',
  '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.eot': 'application/vnd.ms-fontobject', '.txt': 'text/plain',
  '.map': 'application/json', '.inv': 'application/octet-stream',
};
const typeOf = (file) => TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';

// ---- CDN URL -> npm file of the same version -------------------------------------------------------------------

function installedVersion(pkg) {
  const file = path.join(NODE_MODULES, pkg, 'package.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).version : null;
}

// A URL's version must equal the installed one. A bare major or major.minor ("mathjax@3", as Sphinx writes it) is
// accepted only when the installed version is in that line: jsDelivr serves the newest release of the line.
function sameVersion(wanted, installed) {
  if (!installed) return false;
  if (wanted === installed) return true;
  return /^\d+(\.\d+)?$/.test(wanted) && installed.startsWith(`${wanted}.`);
}

function npmFile(pkg, version, rel, { minToPlain = false } = {}) {
  const installed = installedVersion(pkg);
  if (!sameVersion(version, installed)) {
    return { error: `needs ${pkg}@${version} but node_modules has ${installed || 'nothing'} (pin it in package.json)` };
  }
  const base = path.join(NODE_MODULES, pkg);
  let file = path.join(base, rel);
  if (!fs.existsSync(file) && minToPlain) file = file.replace(/\.min\.js$/, '.js');
  if (!file.startsWith(base + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    return { error: `${pkg}@${version} has no file ${rel}` };
  }
  return { file };
}

const CDN_MAPS = [
  {
    // plotly.py's include_plotlyjs="cdn" (renderer plotly_mimetype+notebook_connected): a classic script with an
    // integrity hash, which the npm bundle matches byte for byte
    name: 'plotly.js', re: /^https:\/\/cdn\.plot\.ly\/plotly-(\d+\.\d+\.\d+)\.min\.js$/,
    resolve: (m) => npmFile('plotly.js-dist-min', m[1], 'plotly.min.js'),
  },
  {
    // plotly's figures load MathJax 3 from cdnjs (no integrity hash); cdnjs's .min.js is npm's es5 build
    name: 'MathJax (cdnjs)', re: /^https:\/\/cdnjs\.cloudflare\.com\/ajax\/libs\/mathjax\/([^/]+)\/(.+)$/,
    resolve: (m) => npmFile('mathjax', m[1], m[2], { minToPlain: true }),
  },
  {
    // npm packages by URL: RequireJS and the ipywidgets HTML manager (_config.yml nb_ipywidgets_js), widget
    // packages the manager fetches, and Sphinx's MathJax
    name: 'jsDelivr npm', re: /^https:\/\/cdn\.jsdelivr\.net\/npm\/((?:@[^/@]+\/)?[^/@]+)@([^/]+)\/(.+)$/,
    resolve: (m) => npmFile(m[1], m[2], m[3]),
  },
  {
    name: 'unpkg', re: /^https:\/\/unpkg\.com\/((?:@[^/@]+\/)?[^/@]+)@([^/]+)\/(.+)$/,
    resolve: (m) => npmFile(m[1], m[2], m[3]),
  },
];

function mapCdn(url) {
  const clean = url.split('#')[0].split('?')[0];
  for (const map of CDN_MAPS) {
    const m = clean.match(map.re);
    if (m) return { map: map.name, ...map.resolve(m) };
  }
  return null;
}

// ---- a static server for _build/html that counts the bytes it sends -------------------------------------------

// bytes as sent (no compression) and as gzip would send them (what GitHub Pages serves), per page load
let served = { bytes: 0, gzip: 0, files: 0 };
const gzipSizes = new Map();
const gzipSize = (file, body) => {
  if (!gzipSizes.has(file)) gzipSizes.set(file, zlib.gzipSync(body, { level: 6 }).length);
  return gzipSizes.get(file);
};
const server = http.createServer((req, res) => {
  let rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (rel.endsWith('/')) rel += 'index.html';
  const file = path.join(ROOT, rel);
  if (!file.startsWith(ROOT) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  const body = fs.readFileSync(file);
  served.bytes += body.length;
  served.gzip += gzipSize(file, body);
  served.files += 1;
  res.writeHead(200, { 'content-type': typeOf(file), 'content-length': body.length, 'cache-control': 'no-store' });
  res.end(body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const ORIGIN = `http://127.0.0.1:${server.address().port}`;

// ---- checks that run inside the page --------------------------------------------------------------------------

// Everything the page should show once its scripts have run; returns {ready, ...details}.
function inspectPage() {
  const out = { mermaid: [], plotly: [], widgets: [], leftovers: 0 };
  // mermaid: rendered at build time to an SVG file shown through <object> or <img>
  for (const el of document.querySelectorAll('object[data*="mermaid-"], img[src*="mermaid-"]')) {
    let svg = false;
    if (el.tagName === 'OBJECT') {
      const root = el.contentDocument && el.contentDocument.documentElement;
      svg = !!root && root.tagName.toLowerCase() === 'svg' && el.getBoundingClientRect().height > 0;
    } else {
      svg = el.complete && el.naturalWidth > 0 && /\.svg($|\?)/.test(el.getAttribute('src'));
    }
    out.mermaid.push({ src: el.getAttribute('data') || el.getAttribute('src'), svg });
  }
  // a diagram left for client-side mermaid (which breaks on pages with require.js)
  out.leftovers = document.querySelectorAll('div.mermaid, pre.mermaid').length;
  // plotly: every figure div has drawn its SVG layer
  for (const div of document.querySelectorAll('.plotly-graph-div')) {
    out.plotly.push({ id: div.id, drawn: !!div.querySelector('.main-svg'), inWidget: !!div.closest('.widget-subarea') });
  }
  // widgets: the HTML manager puts a .widget-subarea before each view's script tag
  const stateTag = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  const state = stateTag ? JSON.parse(stateTag.textContent).state : {};
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
  const norm = (s) => String(s).replace(/\s+/g, ' ').trim();
  const textOf = (html) => { const d = document.createElement('div'); d.innerHTML = html; return norm(d.textContent); };
  // compare text without whitespace: textContent runs table cells together, the rendered innerText puts tabs
  const squash = (s) => String(s).replace(/\s+/g, '');
  for (const tag of views) {
    const modelId = JSON.parse(tag.textContent).model_id;
    const area = tag.previousElementSibling;
    const rendered = !!area && area.classList.contains('widget-subarea') && area.children.length > 0;
    const view = { modelId, hasState: modelId in state, rendered, height: 0, problems: [] };
    if (rendered) {
      view.height = Math.round(area.getBoundingClientRect().height);
      const shown = norm(area.innerText);
      if (/Error (displaying|creating) widget/.test(shown)) view.problems.push(shown.slice(0, 200));
      // walk the saved models under this view and look for their values on the page
      const inputs = Array.from(area.querySelectorAll('input, textarea, select')).map((i) => i.value);
      const seen = new Set();
      const walk = (id) => {
        if (seen.has(id) || !(id in state)) return;
        seen.add(id);
        const { model_name: name, state: s } = state[id];
        for (const v of Object.values(s)) {
          for (const ref of [].concat(v)) if (typeof ref === 'string' && ref.startsWith('IPY_MODEL_')) walk(ref.slice(10));
        }
        if (/^(HTML|Label|HTMLMath)Model$/.test(name) && s.value && !squash(shown).includes(squash(textOf(s.value)))) {
          view.problems.push(`${name} ${id}: saved text "${textOf(s.value).slice(0, 80)}" is not shown`);
        } else if (/Text(area)?Model$/.test(name) && s.value !== undefined && s.value !== null) {
          const ok = inputs.some((v) => v === String(s.value) || (v !== '' && Number(v) === Number(s.value)));
          if (!ok) view.problems.push(`${name} ${id}: saved value ${JSON.stringify(s.value)} is not in any input`);
        } else if (/SliderModel$/.test(name) && s.readout !== false && typeof s.value === 'number') {
          const readouts = Array.from(area.querySelectorAll('.widget-readout')).map((r) => norm(r.textContent));
          if (!readouts.some((r) => Number(r.replace(/,/g, '')) === s.value || r === String(s.value))) {
            view.problems.push(`${name} ${id}: saved value ${s.value} is not in a readout (${readouts.join(', ')})`);
          }
        } else if (name === 'ButtonModel' && s.description && !shown.includes(norm(s.description))) {
          view.problems.push(`ButtonModel ${id}: label "${s.description}" is not shown`);
        }
      };
      walk(modelId);
    }
    out.widgets.push(view);
  }
  const settled = out.plotly.every((p) => p.drawn) && out.widgets.every((w) => w.rendered)
    && out.mermaid.every((m) => m.svg);
  return { ...out, settled };
}

// ---- main loop ---------------------------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,  // playwright also gives the browser a fresh temporary --user-data-dir
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
fs.mkdirSync(ARTIFACTS, { recursive: true });
const report = { origin: ORIGIN, chromium: browser.version(), pages: [] };

try {
  for (const { doc, screenshot } of config.pages) {
    // a new context per page: empty storage and cache, as in a reader's fresh browser
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
    const page = await context.newPage();
    const result = { doc, consoleErrors: [], pageErrors: [], unmapped: [], mapped: [], cdnBytes: 0, cdnGzip: 0,
      localBytes: 0, localGzip: 0, localFiles: 0, htmlBytes: 0 };
    const cdnSeen = new Set();
    page.on('console', (msg) => {
      if (msg.type() === 'error') {
        const loc = msg.location();
        result.consoleErrors.push(`${msg.text()}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
      }
    });
    page.on('pageerror', (err) => result.pageErrors.push(String(err && err.stack || err).split('\n').slice(0, 2).join(' ')));
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(ORIGIN + '/')) return route.continue();
      const hit = mapCdn(url);
      if (!hit || hit.error) {
        result.unmapped.push(hit ? `${url}: ${hit.error}` : url);
        return route.abort('blockedbyclient');
      }
      const body = fs.readFileSync(hit.file);
      if (!cdnSeen.has(hit.file)) {  // a browser cache would fetch a CDN file once per page
        cdnSeen.add(hit.file);
        result.cdnBytes += body.length;
        result.cdnGzip += gzipSize(hit.file, body);
      }
      result.mapped.push({ url, map: hit.map, file: path.relative(NODE_MODULES, hit.file), bytes: body.length });
      return route.fulfill({
        status: 200, body,
        headers: { 'content-type': typeOf(hit.file), 'access-control-allow-origin': '*', 'cache-control': 'no-store' },
      });
    });

    const file = path.join(ROOT, `${doc}.html`);
    result.htmlBytes = fs.existsSync(file) ? fs.statSync(file).size : 0;
    served = { bytes: 0, gzip: 0, files: 0 };
    const t0 = Date.now();
    try {
      await page.goto(`${ORIGIN}/${doc}.html`, { waitUntil: 'load', timeout: 60000 });
      await page.waitForLoadState('networkidle', { timeout: 30000 }).catch(() => {});
      // figures and widgets draw after load; give them a bounded time to settle
      await page.waitForFunction(`(${inspectPage.toString()})().settled`, null, { timeout: SETTLE_MS, polling: 250 })
        .catch(() => {});
      Object.assign(result, await page.evaluate(`(${inspectPage.toString()})()`));
      if (screenshot) {
        const shot = path.join(ARTIFACTS, `${doc.replace(/[\\/]/g, '__')}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        result.screenshot = path.relative(process.cwd(), shot);
      }
    } catch (err) {
      result.pageErrors.push(`could not load the page: ${err.message.split('\n')[0]}`);
    }
    result.loadMs = Date.now() - t0;
    result.localBytes = served.bytes;
    result.localGzip = served.gzip;
    result.localFiles = served.files;
    report.pages.push(result);
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
}
fs.writeFileSync(reportPath, JSON.stringify(report, null, 2));
console.log(`checked ${report.pages.length} page(s) in Chromium ${report.chromium}`);
