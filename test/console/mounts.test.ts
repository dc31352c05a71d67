import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { consoleHandler, hopperConsole } from '../../src/console/index.js';
import { createServer, loadConfig } from '../../src/server/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { quiet } from '../helpers/worker-process.js';
import { ADMIN, call, login, TOKENS } from './fixture.js';

const fx = new QueueFixture();

/** The overview through `base`, logged in as an admin: the queue's counts must be there. */
async function seesQueue(base: string, queue: string): Promise<void> {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<script type="module" src="assets\/app.js">/);
  const s = await login(base, ADMIN);
  const o = await call(base, s, 'GET', 'overview');
  assert.equal(o.status, 200);
  assert.ok(o.body.queues.some((q: { name: string }) => q.name === queue));
}

describe('console mounts', () => {
  let queue: string;
  before(async () => {
    const q = fx.queue('mounts');
    await q.add('x', {});
    queue = q.name;
  });

  test('hopper serve: the console at /dashboard with the same tokens; the HTTP API keeps its bearer check', async () => {
    const config = loadConfig({
      REDIS_URL: fx.url,
      HOPPER_TOKENS: TOKENS,
      HOPPER_PROCESSOR: 'off',
      HOST: '127.0.0.1',
      PORT: '0',
    });
    const s = createServer(config, { logger: quiet });
    try {
      await s.ready();
      const address = await s.app.listen({ host: '127.0.0.1', port: 0 });
      await seesQueue(`${address}/dashboard`, queue);
      const redirect = await fetch(`${address}/dashboard`, { redirect: 'manual' });
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.get('location'), 'dashboard/');
      assert.equal(
        (await fetch(`${address}/api/v1/metrics`)).status,
        401,
        'the API still wants a bearer token',
      );
      const csp = (await fetch(`${address}/dashboard/`)).headers.get('content-security-policy')!;
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
    } finally {
      await s.close();
    }
  });

  test('hopper serve: HOPPER_DASHBOARD_PATH moves it, HOPPER_DASHBOARD=off removes it', async () => {
    const env = { REDIS_URL: fx.url, HOPPER_TOKENS: TOKENS, HOPPER_PROCESSOR: 'off' };
    const moved = createServer(loadConfig({ ...env, HOPPER_DASHBOARD_PATH: '/ops/queues' }), {
      logger: quiet,
    });
    const off = createServer(loadConfig({ ...env, HOPPER_DASHBOARD: 'off' }), { logger: quiet });
    try {
      await moved.ready();
      await off.ready();
      assert.equal((await moved.app.inject({ url: '/ops/queues/' })).statusCode, 200);
      assert.equal(
        (await off.app.inject({ url: '/dashboard/' })).statusCode,
        401,
        'no console: a bearer route like any other',
      );
      assert.throws(() => loadConfig({ ...env, HOPPER_DASHBOARD_PATH: 'no-slash' }), /HOPPER_DASHBOARD_PATH/);
    } finally {
      await moved.close();
      await off.close();
    }
  });

  test('without tokens the plugin refuses to start unless auth is off', async () => {
    const app = Fastify();
    app.register(hopperConsole({ connection: fx.url, logger: quiet }), { prefix: '/c' });
    await assert.rejects(async () => app.ready(), /tokens: the console needs tokens/);
    await app.close().catch(() => {});
  });

  test('Express handler under a base path', async () => {
    const handler = consoleHandler({
      basePath: '/ops/hopper',
      connection: fx.url,
      tokens: loadConfig({ HOPPER_TOKENS: TOKENS }).tokens,
      logger: quiet,
    });
    const app = express();
    app.use('/ops/hopper', handler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      await seesQueue(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ops/hopper`, queue);
    } finally {
      server.close();
      await handler.close();
    }
  });

  test('Fastify plugin in the user’s own app', async () => {
    const app = Fastify();
    app.register(
      hopperConsole({
        connection: fx.url,
        tokens: loadConfig({ HOPPER_TOKENS: TOKENS }).tokens,
        logger: quiet,
      }),
      {
        prefix: '/admin/queues',
      },
    );
    app.get('/', async () => 'the user’s own route');
    try {
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      await seesQueue(`${address}/admin/queues`, queue);
      assert.equal(await (await fetch(`${address}/`)).text(), 'the user’s own route');
    } finally {
      await app.close();
    }
  });
});
