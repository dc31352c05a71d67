import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Channel, type ChannelErrorContext } from '../../src/pubsub/index.js';
import { ValidationError } from '../../src/util/errors.js';
import { FixtureProcess, killFixtures } from '../helpers/fixture-process.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { uniqueName, waitFor } from '../helpers/worker-process.js';

requireRedisServer();

const quiet = pino({ level: 'silent' });
const SUBSCRIBER = fileURLToPath(new URL('./subscriber-process.ts', import.meta.url));

let redis: RedisProcess;
let admin: Redis;
const channels: Channel[] = [];

function channel(url = redis.url): Channel {
  const c = new Channel({ connection: url, logger: quiet });
  channels.push(c);
  return c;
}

async function numsub(client: Redis, name: string): Promise<number> {
  const reply = (await client.call('PUBSUB', 'NUMSUB', name)) as [string, number];
  return Number(reply[1]);
}

async function numpat(client: Redis): Promise<number> {
  return Number(await client.call('PUBSUB', 'NUMPAT'));
}

before(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

after(async () => {
  await killFixtures();
  for (const c of channels) await c.close();
  admin?.disconnect();
  await redis?.stop();
});

describe('Channel publish/subscribe', () => {
  test('exact and pattern subscribers get JSON-decoded messages with the channel name', async () => {
    const ch = channel();
    const base = uniqueName('orders');
    const exact: [unknown, string][] = [];
    const matched: [unknown, string][] = [];
    await ch.subscribe(`${base}.eu`, (m, c) => {
      exact.push([m, c]);
    });
    await ch.subscribe(`${base}.*`, (m, c) => matched.push([m, c]), { pattern: true });

    const receivers = await ch.publish(`${base}.eu`, { id: 1, items: ['a', 'b'], ok: true });
    assert.equal(receivers, 2, 'Redis counts one delivery per matching channel or pattern subscription');
    await ch.publish(`${base}.us`, 'plain string');
    await ch.publish(`${base}.eu`, null);

    await waitFor('messages', () => exact.length === 2 && matched.length === 3);
    assert.deepEqual(exact, [
      [{ id: 1, items: ['a', 'b'], ok: true }, `${base}.eu`],
      [null, `${base}.eu`],
    ]);
    assert.deepEqual(matched, [
      [{ id: 1, items: ['a', 'b'], ok: true }, `${base}.eu`],
      ['plain string', `${base}.us`],
      [null, `${base}.eu`],
    ]);
  });

  test('glob characters in the prefix are literal in patterns', async () => {
    const prefix = `p*${uniqueName('x')}`;
    const starred = new Channel({ connection: redis.url, prefix, logger: quiet });
    const other = new Channel({ connection: redis.url, prefix: prefix.replace('*', 'Q'), logger: quiet });
    channels.push(starred, other);
    const got: string[] = [];
    await starred.subscribe('a.*', (_m, c) => got.push(c), { pattern: true });
    await other.publish('a.1', 1); // would match if `*` in the prefix were a wildcard
    await starred.publish('a.2', 2);
    await waitFor('own message', () => got.length === 1);
    await sleep(50);
    assert.deepEqual(got, ['a.2']);
  });

  test('unsubscribe stops delivery and drops the Redis subscription with the last handler', async () => {
    const ch = channel();
    const name = uniqueName('unsub');
    const a: unknown[] = [];
    const b: unknown[] = [];
    const offA = await ch.subscribe(name, (m) => a.push(m));
    const offB = await ch.subscribe(name, (m) => b.push(m));
    const offP = await ch.subscribe(`${name}*`, () => {}, { pattern: true });
    const patternsBefore = await numpat(admin);
    await ch.publish(name, 1);
    await waitFor('first message', () => a.length === 1 && b.length === 1);

    await offA();
    await offA(); // twice is harmless
    assert.equal(await numsub(admin, `hopper:ch:${name}`), 1, 'B still needs the subscription');
    await ch.publish(name, 2);
    await waitFor('second message to B', () => b.length === 2);
    assert.deepEqual(a, [1]);

    await offB();
    await offP();
    assert.equal(await numsub(admin, `hopper:ch:${name}`), 0);
    assert.equal(await numpat(admin), patternsBefore - 1);
    assert.equal(await ch.publish(name, 3), 0, 'nobody receives it');
    await sleep(50);
    assert.deepEqual(b, [1, 2]);
    assert.equal(ch.handlerCount, 0);
  });

  test('a throwing handler is reported and does not stop delivery to the others', async () => {
    const ch = channel();
    const name = uniqueName('throw');
    const errors: [Error, ChannelErrorContext][] = [];
    ch.on('error', (err: Error, ctx: ChannelErrorContext) => errors.push([err, ctx]));
    const got: unknown[] = [];
    await ch.subscribe(name, () => {
      throw new Error('sync boom');
    });
    await ch.subscribe(name, async () => {
      throw new Error('async boom');
    });
    await ch.subscribe(name, (m) => got.push(m));
    await ch.publish(name, 'x');
    await ch.publish(name, 'y');
    await waitFor('both messages and four errors', () => got.length === 2 && errors.length === 4);
    assert.deepEqual(got, ['x', 'y']);
    assert.deepEqual(errors.map(([e]) => e.message).sort(), [
      'async boom',
      'async boom',
      'sync boom',
      'sync boom',
    ]);
    assert.ok(errors.every(([, ctx]) => ctx.source === 'handler' && ctx.channel === name));
  });

  test('a message that is not JSON is reported and dropped; later messages still arrive', async () => {
    const ch = channel();
    const name = uniqueName('raw');
    const errors: ChannelErrorContext[] = [];
    ch.on('error', (_err: Error, ctx: ChannelErrorContext) => errors.push(ctx));
    const got: unknown[] = [];
    await ch.subscribe(name, (m) => got.push(m));
    await admin.publish(`hopper:ch:${name}`, 'not json {');
    await ch.publish(name, { after: true });
    await waitFor('message after the bad one', () => got.length === 1);
    assert.deepEqual(got, [{ after: true }]);
    assert.deepEqual(errors, [{ channel: name, source: 'decode' }]);
  });

  test('bad input throws ValidationError naming the field, and publishes nothing', async () => {
    const ch = channel();
    const name = uniqueName('bad');
    const got: unknown[] = [];
    await ch.subscribe(name, (m) => got.push(m));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const message of [undefined, () => 1, Symbol('s'), 10n, cyclic]) {
      await assert.rejects(ch.publish(name, message), (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.equal(err.field, 'message');
        return true;
      });
    }
    for (const bad of ['', 'x'.repeat(1025), 42 as unknown as string]) {
      await assert.rejects(ch.publish(bad, 1), { name: 'ValidationError', field: 'channel' });
      await assert.rejects(
        ch.subscribe(bad, () => {}),
        { name: 'ValidationError', field: 'channel' },
      );
      await assert.rejects(
        ch.subscribe(bad, () => {}, { pattern: true }),
        { name: 'ValidationError', field: 'pattern' },
      );
    }
    await assert.rejects(ch.subscribe(name, 'nope' as never), { name: 'ValidationError', field: 'handler' });
    assert.throws(() => new Channel({ prefix: '' }), { name: 'ValidationError', field: 'prefix' });
    assert.throws(() => ch.sseHandler('x', { heartbeatMs: 0 }), {
      name: 'ValidationError',
      field: 'heartbeatMs',
    });
    await sleep(50);
    assert.deepEqual(got, []);
  });

  test('messages reach a subscriber in another process, exact and by pattern', async () => {
    const base = uniqueName('xproc');
    const child = new FixtureProcess(SUBSCRIBER, {
      REDIS_URL: redis.url,
      CHANNEL: `${base}.one`,
      PATTERN: `${base}.*`,
    });
    await child.waitForLine((l) => l === 'ready', 'ready');
    const ch = channel();
    const local: unknown[] = [];
    await ch.subscribe(`${base}.one`, (m) => local.push(m));
    assert.equal(await ch.publish(`${base}.one`, { n: 1 }), 3, 'child exact, child pattern, local exact');
    await ch.publish(`${base}.two`, { n: 2 });
    await child.waitForLine((l) => l === `exact ${base}.one {"n":1}`, 'exact message');
    await child.waitForLine((l) => l === `pattern ${base}.one {"n":1}`, 'pattern message 1');
    await child.waitForLine((l) => l === `pattern ${base}.two {"n":2}`, 'pattern message 2');
    await waitFor('local fan-out', () => local.length === 1);
    await child.kill9();
  });

  test('close() ends subscriptions; later calls throw', async () => {
    const ch = new Channel({ connection: redis.url, logger: quiet });
    const name = uniqueName('close');
    await ch.subscribe(name, () => {});
    await ch.close();
    await waitFor('subscription gone', async () => (await numsub(admin, `hopper:ch:${name}`)) === 0);
    await assert.rejects(ch.publish(name, 1), { name: 'ChannelClosedError' });
    await assert.rejects(
      ch.subscribe(name, () => {}),
      { name: 'ChannelClosedError' },
    );
  });
});

describe('Channel across a Redis crash', () => {
  test('after kill -9 and restart the same Channel resubscribes channels and patterns by itself', async () => {
    // Its own server: this test kills it.
    const server = await startRedis();
    const probe = new Redis(server.url, { retryStrategy: () => 50, maxRetriesPerRequest: null });
    probe.on('error', () => {});
    const ch = new Channel({ connection: server.url, logger: quiet });
    const errors: Error[] = [];
    ch.on('error', (err: Error) => errors.push(err));
    let resubscribed = 0;
    ch.on('resubscribed', (n: number) => {
      resubscribed = n;
    });
    try {
      const exact: unknown[] = [];
      const matched: unknown[] = [];
      await ch.subscribe('crash.exact', (m) => exact.push(m));
      await ch.subscribe('crash.*', (m) => matched.push(m), { pattern: true });
      await ch.publish('crash.exact', 'before');
      await waitFor('message before the crash', () => exact.length === 1 && matched.length === 1);

      await server.kill9();
      // A subscription asked for during the outage is applied once Redis is back.
      const during: unknown[] = [];
      const subscribing = ch.subscribe('crash.during', (m) => during.push(m));
      await sleep(300);
      await server.restart();
      await subscribing;

      await waitFor('resubscribed event', () => resubscribed === 3, 15_000);
      assert.equal(await numsub(probe, 'hopper:ch:crash.exact'), 1);
      assert.equal(await numsub(probe, 'hopper:ch:crash.during'), 1);
      assert.equal(await numpat(probe), 1);
      await probe.publish('hopper:ch:crash.exact', JSON.stringify('after'));
      await probe.publish('hopper:ch:crash.during', JSON.stringify('during'));
      await waitFor(
        'messages after the restart',
        () => exact.length === 2 && matched.length === 3 && during.length === 1,
      );
      assert.deepEqual(exact, ['before', 'after']);
      assert.deepEqual(matched, ['before', 'after', 'during']);
      // The outage is reported once, not once per reconnect attempt.
      assert.ok(errors.length <= 1, `errors: ${errors.map((e) => e.message).join('; ')}`);

      // And once more: a second crash is handled the same way.
      await server.restart();
      await waitFor('second resubscription', async () => (await numpat(probe)) === 1, 15_000);
      await waitFor(
        'message after the second restart',
        async () => {
          await probe.publish('hopper:ch:crash.exact', JSON.stringify('again'));
          return exact.includes('again');
        },
        15_000,
      );
    } finally {
      await ch.close();
      probe.disconnect();
      await server.stop();
    }
  });
});
