import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SEARCH_BUDGET } from '../../src/console/data/search.js';
import type { Queue } from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { waitFor } from '../helpers/worker-process.js';
import { ADMIN, call, type Login, login, SUBMITTER, startConsole, VIEWER } from './fixture.js';

const fx = new QueueFixture();
let app: FastifyInstance;
let base: string;
let admin: Login;
let viewer: Login;

describe('console API', () => {
  before(async () => {
    ({ app, base } = await startConsole(fx.url, { HOPPER_DASHBOARD_INTERVAL: '250' }));
    admin = await login(base, ADMIN);
    viewer = await login(base, VIEWER);
  });
  after(() => app.close());

  /** A queue with `n` jobs failed for good (one attempt, the handler throws). */
  async function withFailed(label: string, n: number): Promise<{ q: Queue; ids: string[] }> {
    const q = fx.queue(label);
    const ids = await Promise.all(
      Array.from({ length: n }, (_, i) => q.add('charge', { order: i, card: 'x' })),
    );
    const w = fx.worker(q, () => {
      throw new Error('card declined');
    });
    await waitFor('jobs to fail', async () => (await q.getCounts()).failed === n);
    await w.close();
    return { q, ids };
  }

  test('login: a session cookie (HttpOnly, SameSite=Strict) for read and admin tokens only; no session, no data', async () => {
    const res = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: new URL(base).origin },
      body: JSON.stringify({ token: ADMIN }),
    });
    assert.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie')!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.ok(!cookie.includes(ADMIN), 'the token itself is never in the cookie');
    assert.equal((await call(base, null, 'POST', 'login', { token: 'wrong-token-0123456789' })).status, 401);
    const submitOnly = await call(base, null, 'POST', 'login', { token: SUBMITTER });
    assert.equal(submitOnly.status, 403);
    assert.match(submitOnly.body.error, /neither the read nor the admin scope/);
    assert.equal((await call(base, null, 'GET', 'overview')).status, 401);
    const forged = { ...admin, cookie: admin.cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) };
    assert.equal((await call(base, forged, 'GET', 'overview')).status, 401, 'a tampered cookie');
    assert.equal((await call(base, viewer, 'GET', 'session')).body.role, 'read');
  });

  test('overview holds the counts Redis holds, per queue', async () => {
    const { q } = await withFailed('api-overview', 2);
    await q.add('later', {}, { delay: 60_000 });
    await q.add('now', {});
    const o = await call(base, viewer, 'GET', 'overview');
    assert.equal(o.status, 200);
    const row = o.body.queues.find((x: { name: string }) => x.name === q.name);
    const counts = await q.getCounts();
    assert.deepEqual(row.counts, counts);
    assert.equal(row.noWorker, true, 'jobs wait and no worker holds a lease');
    assert.ok(row.oldestWaitMs >= 0);
    assert.ok(Array.isArray(o.body.redis.warnings));
  });

  test('read-only: sees jobs without data or stacks, and every action is refused server-side', async () => {
    const { q, ids } = await withFailed('api-readonly', 1);
    const detail = await call(base, viewer, 'GET', `queues/${q.name}/jobs/${ids[0]}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.body.data, undefined);
    assert.equal(detail.body.errorDetail.stack, undefined);
    assert.equal(detail.body.errorDetail.message, 'card declined');
    assert.equal((await call(base, viewer, 'GET', `queues/${q.name}/jobs/${ids[0]}/full`)).status, 403);
    for (const action of ['retry-all', 'pause', 'drain']) {
      const r = await call(base, viewer, 'POST', `queues/${q.name}/actions/${action}`, { ids });
      assert.equal(r.status, 403, action);
      assert.match(r.body.error, /read-only/);
    }
    assert.equal((await q.getCounts()).failed, 1);
    assert.equal(await q.isPaused(), false);
  });

  test('CSRF: an action without the token, from another origin or another site is refused before anything changes', async () => {
    const { q, ids } = await withFailed('api-csrf', 1);
    const path = `queues/${q.name}/actions/retry`;
    const forgeries: [string, Record<string, string>][] = [
      ['no CSRF header', { 'x-hopper-csrf': '' }],
      ['wrong CSRF token', { 'x-hopper-csrf': viewer.csrf }],
      ['another origin', { origin: 'http://evil.example' }],
      ['another port on the same host', { origin: base.replace(/:(\d+)/, ':1') }],
      ['Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
      ['Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }],
    ];
    for (const [what, headers] of forgeries) {
      const r = await call(base, admin, 'POST', path, { ids }, headers);
      assert.equal(r.status, 403, what);
    }
    assert.equal((await q.getJob(ids[0]!))?.state, 'failed', 'nothing retried');
    const ok = await call(base, admin, 'POST', path, { ids });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { done: 1 });
    assert.equal((await q.getJob(ids[0]!))?.state, 'waiting');
  });

  test('actions change Redis: bulk retry, remove, promote, pause/resume, groups, clean, drain, add', async () => {
    const { q, ids } = await withFailed('api-actions', 3);
    const act = (action: string, body: unknown = {}) =>
      call(base, admin, 'POST', `queues/${q.name}/actions/${action}`, body);
    assert.deepEqual((await act('retry', { ids: ids.slice(0, 2) })).body, { done: 2 });
    assert.equal((await q.getCounts()).failed, 1);
    assert.equal((await act('remove', { ids: [ids[2]] })).body.done, 1);
    assert.equal(await q.getJob(ids[2]!), null);
    const partly = await act('retry', { ids: [ids[0], 'no-such'] });
    assert.equal(partly.body.done, 0);
    assert.equal(partly.body.failed.length, 2, 'each refused id reported');

    const later = await q.add('later', {}, { delay: 3600_000 });
    assert.equal((await act('promote', { ids: [later] })).body.done, 1);
    assert.equal((await q.getJob(later))?.state, 'waiting');
    await q.add('later', {}, { delay: 3600_000 });
    assert.equal((await act('promote-all')).body.done, 1);

    await act('pause');
    assert.equal(await q.isPaused(), true);
    await act('resume');
    assert.equal(await q.isPaused(), false);
    await act('pause-group', { group: 'tenant-a' });
    assert.equal((await q.getGroup('tenant-a')).paused, true);
    await act('resume-group', { group: 'tenant-a' });
    assert.equal((await q.getGroup('tenant-a')).paused, false);

    const added = await act('add', { name: 'from-form', data: { a: 1 }, opts: { priority: 5 } });
    assert.equal(added.status, 200);
    assert.deepEqual((await q.getJob(added.body.id))?.data, { a: 1 });
    const bad = await act('add', { name: 'x', data: {}, opts: { delay: -1 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'opts.delay');
    const badIds = await act('retry', { ids: 'all' });
    assert.equal(badIds.status, 400);
    assert.equal(badIds.body.field, 'ids');

    const waiting = (await q.getCounts()).waiting;
    assert.equal((await act('drain')).body.done, waiting);
    assert.equal((await q.getCounts()).waiting, 0);

    const w = fx.worker(q, () => 'ok');
    await q.add('quick', {});
    await waitFor('a completed job', async () => (await q.getCounts()).completed >= 1);
    await w.close();
    assert.equal(
      (await act('clean', { state: 'completed', age: 3600_000 })).body.done,
      0,
      'none an hour old',
    );
    assert.equal((await act('clean', { state: 'completed', age: 0 })).body.done, 1);
    assert.equal((await q.getCounts()).completed, 0);
  });

  test('job detail cuts big data; the full value comes on demand; unknown queues are 404', async () => {
    const q = fx.queue('api-big');
    const id = await q.add('big', { blob: 'y'.repeat(200_000) });
    const d = await call(base, admin, 'GET', `queues/${q.name}/jobs/${id}`);
    assert.equal(d.body.data.truncated, true);
    assert.ok(d.body.data.text.length <= 20_000);
    assert.ok(d.body.data.size > 200_000);
    const full = await call(base, admin, 'GET', `queues/${q.name}/jobs/${id}/full`);
    assert.equal(full.status, 200);
    assert.equal(full.body.blob.length, 200_000, 'the whole value');
    const list = await call(base, admin, 'GET', `queues/${q.name}/jobs?state=waiting`);
    assert.ok(list.body.jobs[0].data.length <= 160, 'rows carry a short preview only');
    assert.equal((await call(base, admin, 'GET', 'queues/nope/jobs')).status, 404);
    assert.equal((await call(base, admin, 'POST', 'queues/nope/actions/pause', {})).status, 404);
  });

  test('search is bounded: it says how many jobs it looked at, and goes on from a cursor', async () => {
    const q = fx.queue('api-search');
    const jobs = Array.from({ length: 12_000 }, (_, i) => ({
      name: i % 1000 === 7 ? 'special' : 'plain',
      data: { n: i },
    }));
    await q.addBulk(jobs);
    const byName = await call(base, admin, 'POST', `queues/${q.name}/search`, {
      by: 'name',
      text: 'special',
    });
    assert.equal(byName.status, 200);
    assert.ok(byName.body.scanned <= SEARCH_BUDGET + 100, `looked at ${byName.body.scanned}`);
    assert.equal(byName.body.total, 12_000);
    let found = byName.body.jobs.length;
    let cursor = byName.body.cursor;
    let scanned = byName.body.scanned;
    while (cursor) {
      const more = await call(base, admin, 'POST', `queues/${q.name}/search`, {
        by: 'name',
        text: 'special',
        cursor,
      });
      found += more.body.jobs.length;
      scanned += more.body.scanned;
      cursor = more.body.cursor;
    }
    assert.equal(found, 12);
    assert.ok(scanned >= 12_000);
    const byData = await call(base, admin, 'POST', `queues/${q.name}/search`, {
      by: 'data',
      text: '"n":11999}',
    });
    assert.ok(byData.body.jobs.length <= 1);
    const byId = await call(base, admin, 'POST', `queues/${q.name}/search`, { by: 'id', text: '5' });
    assert.equal(byId.body.jobs.length, 1);
    const viewerData = await call(base, viewer, 'POST', `queues/${q.name}/search`, { by: 'data', text: 'n' });
    assert.equal(viewerData.status, 400, 'data search needs admin');
  });

  test('live: one shared snapshot per interval whatever the number of viewers', async () => {
    const reads = async () => {
      const info = await fx.raw.info('commandstats');
      return Number(/cmdstat_smembers:calls=(\d+)/.exec(info)?.[1] ?? 0);
    };
    const watch = async (viewers: number) => {
      const aborts = Array.from({ length: viewers }, () => new AbortController());
      const streams = await Promise.all(
        aborts.map((a) =>
          fetch(`${base}/api/events`, { headers: { cookie: admin.cookie }, signal: a.signal }),
        ),
      );
      let events = 0;
      const readers = streams.map(async (s) => {
        const dec = new TextDecoder();
        try {
          for await (const chunk of s.body!)
            if (dec.decode(chunk as Uint8Array).includes('event: overview')) events++;
        } catch {}
      });
      // The window starts once every viewer is connected and served: on a loaded machine 20
      // connections take a while to open, and reads during that time are not per viewer.
      await waitFor('every viewer to get a snapshot', () => events >= viewers);
      const before = await reads();
      const seen = events;
      await new Promise((r) => setTimeout(r, 1300));
      const n = (await reads()) - before;
      for (const a of aborts) a.abort();
      await Promise.all(readers);
      return { n, events: events - seen };
    };
    const one = await watch(1);
    const twenty = await watch(20);
    assert.ok(one.n >= 3 && one.n <= 8, `1 viewer: ${one.n} snapshots`);
    assert.ok(twenty.n <= one.n + 2, `20 viewers: ${twenty.n} snapshots vs ${one.n}`);
    assert.ok(twenty.events >= 20 * 3, `every viewer got the updates (${twenty.events})`);
    await new Promise((r) => setTimeout(r, 300));
    const idle = await reads();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await reads(), idle, 'nothing is read while nobody watches');
  });
});
