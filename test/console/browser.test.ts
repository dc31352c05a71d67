import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { FlowProducer, type Queue } from '../../src/index.js';
import { CHROMIUM_ARGS as ARGS, CHROMIUM } from '../helpers/chromium.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';
import { ADMIN, startConsole, VIEWER } from './fixture.js';

/** UPDATE_SCREENSHOTS=1 saves the main pages under docs/console/ (shown in the README). */
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/console/', import.meta.url))
    : '';

const fx = new QueueFixture();
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `no ${CHROMIUM} (apt-get install chromium)` : false;

/** Serves `html` on a port of its own: another origin, as a page on another site would be. */
function serveHtml(html: string): Promise<Server> {
  const s = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

/** A reverse proxy showing `target` + /dashboard under /proxy/hopper, keeping the Host header (as nginx with proxy_set_header Host). */
function subPathProxy(target: string): Promise<Server> {
  const t = new URL(target);
  const s = createServer((req, res) => {
    if (!req.url!.startsWith('/proxy/hopper')) return res.writeHead(404).end();
    const up = request(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: `/dashboard${req.url!.slice('/proxy/hopper'.length)}`,
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

describe('console in Chromium', { skip }, () => {
  let browser: Browser;
  let app: FastifyInstance;
  let base: string;
  const servers: Server[] = [];
  /** Script errors on any page: none is expected. */
  const errors: string[] = [];

  before(async () => {
    ({ app, base } = await startConsole(fx.url, { HOPPER_DASHBOARD_INTERVAL: '300' }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    assert.deepEqual(errors, [], 'no script error on any page');
    await browser?.close();
    for (const s of servers) s.close();
    await app?.close();
  });

  async function logIn(page: Page, token: string, url: string): Promise<Page> {
    await page.goto(url);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('header .who');
    return page;
  }

  /** A new browser context (its own cookies) logged in with `token`. */
  async function loggedIn(token: string, url = `${base}/`): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
    const page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    page.on('pageerror', (e) => errors.push(e.message));
    return logIn(page, token, url);
  }

  let adminPage: Page | undefined;
  /** One admin context for the tests that act (a context costs seconds on a loaded machine). */
  async function admin(): Promise<Page> {
    adminPage ??= await loggedIn(ADMIN);
    return adminPage;
  }

  async function withFailed(label: string, n: number): Promise<{ q: Queue; ids: string[] }> {
    const q = fx.queue(label);
    const ids = await Promise.all(
      Array.from({ length: n }, (_, i) => q.add('charge', { order: i, customer: `c-${i}` }, { attempts: 1 })),
    );
    const w = fx.worker(q, () => {
      throw new Error('card declined by the bank');
    });
    await waitFor('jobs to fail', async () => (await q.getCounts()).failed === n);
    await w.close();
    return { q, ids };
  }

  const cell = (page: Page, queue: string, state: string) =>
    page.locator(`tr[data-queue="${queue}"] [data-count="${state}"]`);

  test('log in and see the counts Redis holds', async () => {
    const { q } = await withFailed('ui-counts', 3);
    for (let i = 0; i < 4; i++) await q.add('later', { i }, { delay: 3600_000 });
    await q.add('now', {});
    const page = await admin();
    await page.goto(`${base}/#/`);
    const counts = await q.getCounts();
    await waitFor('the queue row', () => cell(page, q.name, 'failed').isVisible());
    for (const state of ['waiting', 'delayed', 'completed', 'failed'] as const)
      assert.equal(await cell(page, q.name, state).textContent(), String(counts[state]), state);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}overview.png` });
  });

  test('open a failed job, read its stack, retry it and see it complete', async () => {
    const { q, ids } = await withFailed('ui-retry', 2);
    const page = await admin();
    await page.goto(`${base}/#/queue/${q.name}/failed`);
    await page.click(`tr[data-id="${ids[0]}"] a`);
    const stack = await page.locator('pre.stack').textContent();
    assert.match(stack!, /Error: card declined by the bank\n\s+at /);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}job.png`, fullPage: true });
    await page.click('button:has-text("Retry")');
    await waitFor('the job to wait again', async () => (await q.getJob(ids[0]!))?.state === 'waiting');
    fx.worker(q, () => 'charged');
    await page.waitForSelector('[data-state="completed"]', { timeout: 10_000 });
    assert.equal((await q.getJob(ids[0]!))?.state, 'completed');
  });

  test('a job page shows every failed attempt, and a flow child links to its parent', async () => {
    const q = fx.queue('ui-attempts');
    const flows = new FlowProducer({ connection: fx.connection });
    const tree = await flows.add({
      name: 'order',
      queue: q.name,
      opts: { jobId: 'order-1' },
      children: [
        { name: 'charge', queue: q.name, opts: { jobId: 'order-1/charge', attempts: 2, backoff: 0 } },
      ],
    });
    await flows.close();
    let n = 0;
    const w = fx.worker(q, () => {
      throw new Error(`declined ${++n}`);
    });
    await waitFor(
      'the child to fail twice',
      async () => (await q.getJob('order-1/charge'))?.state === 'failed',
    );
    await w.close();
    const page = await admin();
    await page.goto(`${base}/#/queue/${q.name}/job/${encodeURIComponent('order-1/charge')}`);
    await page.waitForSelector('details[data-attempt="1"]');
    assert.deepEqual(
      await page
        .locator('details[data-attempt]')
        .evaluateAll((d) => d.map((e) => e.getAttribute('data-attempt'))),
      ['2', '1'],
    );
    assert.match(
      (await page.locator('details[data-attempt="2"] pre.stack').textContent())!,
      /Error: declined 2\n\s+at /,
    );
    await page.click('details[data-attempt="1"] summary');
    assert.match(
      (await page.locator('details[data-attempt="1"] pre.stack').textContent())!,
      /Error: declined 1/,
    );
    await page.click('[data-flow="parent"] a');
    await page.waitForSelector(`tr[data-child="order-1/charge"]`);
    assert.match(page.url(), new RegExp(`/job/${tree.id}$`));
  });

  test('pause and resume a queue; search by name', async () => {
    const { q } = await withFailed('ui-pause', 2);
    await q.add('needle-job', { x: 1 });
    const page = await admin();
    await page.goto(`${base}/#/queue/${q.name}/failed`);
    await page.click('button:has-text("Pause queue")');
    await waitFor('the pause', () => q.isPaused());
    await page.waitForSelector('h2 .badge.paused');
    if (SHOTS) await page.screenshot({ path: `${SHOTS}queue.png` });
    await page.click('button:has-text("Resume queue")');
    await waitFor('the resume', async () => !(await q.isPaused()));

    await page.click('a[data-tab="waiting"]');
    await page.selectOption('form.search select', 'name');
    await page.fill('form.search input[name=text]', 'needle');
    await page.click('form.search button[type=submit]');
    const note = await page.locator('[data-search-note]').textContent();
    assert.match(note!, /Found 1 jobs, looked at 3 of 3 jobs/);
    assert.equal(await page.locator('table.jobs tbody tr').count(), 1);
  });

  test('a read-only login sees no action and the server refuses one', async () => {
    const { q, ids } = await withFailed('ui-readonly', 1);
    const page = await loggedIn(VIEWER);
    await page.goto(`${base}/#/queue/${q.name}/failed`);
    await page.waitForSelector('table.jobs');
    assert.equal(await page.locator('.toolbar button').count(), 0);
    assert.equal(await page.locator('table.jobs input[type=checkbox]').count(), 0);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}read-only.png` });
    const status = await page.evaluate(async (path) => {
      const s = await (await fetch('api/session')).json();
      const r = await fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hopper-csrf': s.csrf },
        body: JSON.stringify({ ids: [] }),
      });
      return r.status;
    }, `api/queues/${q.name}/actions/retry-all`);
    assert.equal(status, 403);
    assert.equal((await q.getJob(ids[0]!))?.state, 'failed');
    await page.context().close();
  });

  test('a forged action from another site is refused', async () => {
    const { q, ids } = await withFailed('ui-forgery', 1);
    const page = await admin();
    const target = `${base}/api/queues/${q.name}/actions/retry-all`;
    // Same host, another port: same site for cookies, so only the Origin and CSRF checks stand.
    const evil = await serveHtml(`<form method="POST" action="${target}" enctype="text/plain">
      <input name='{"ids":["${ids[0]}"],"x":"' value='"}'></form>
      <script>document.forms[0].submit()</script>`);
    servers.push(evil);
    const refused = page.waitForResponse((r) => r.url() === target);
    await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    assert.equal((await refused).status(), 403);
    assert.equal((await q.getJob(ids[0]!))?.state, 'failed', 'nothing retried');
  });

  test('behind a reverse proxy under a sub-path', async () => {
    const { q } = await withFailed('ui-proxy', 1);
    const proxy = await subPathProxy(base.replace(/\/dashboard$/, ''));
    servers.push(proxy);
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/proxy/hopper/`;
    const page = await logIn(await admin(), ADMIN, url);
    await waitFor('the queue row', () => cell(page, q.name, 'failed').isVisible());
    await page.goto(`${url}#/queue/${q.name}/failed`);
    await page.click('button:has-text("Pause queue")');
    await waitFor('the pause through the proxy', () => q.isPaused());
    if (SHOTS) {
      await page.goto(`${url}#/queue/${q.name}/charts`);
      await page.waitForSelector('figure.chart');
      await page.screenshot({ path: `${SHOTS}charts.png`, fullPage: true });
    }
  });
});
