import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createRestGateway, type RestGateway } from '../../src/gateway/index.js';
import { type ClientRole, type ConnectionOptions, createClient } from '../../src/redis/connection.js';
import { callScript, defineScripts } from '../../src/redis/scripts.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

/**
 * One suite, every driver: the calls Hopper makes on a client (commands, reply shapes,
 * pipelines, transactions, scripts with NOSCRIPT recovery, errors, blocking pops, status
 * and close) behave the same over ioredis (TCP) and over the REST transport.
 */
requireRedisServer();
const TOKEN = 'driver-conformance-token-0123';
let redis: RedisProcess;
let gateway: RestGateway;
let raw: Redis;
const drivers: Record<string, () => ConnectionOptions> = {};

before(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
  gateway = createRestGateway(redis.url, { tokens: [TOKEN] });
  const url = await gateway.listen();
  drivers.tcp = () => redis.url;
  drivers.rest = () => ({ url, token: TOKEN });
});
after(async () => {
  raw.disconnect();
  await gateway.close();
  await redis.stop();
});

const SCRIPTS = new Map([
  [
    'sum-into',
    "local t = 0 for _, v in ipairs(ARGV) do t = t + tonumber(v) end redis.call('SET', KEYS[1], t) return {t, KEYS[1]}",
  ],
  ['fail-with', 'return redis.error_reply(ARGV[1])'],
]);

for (const name of ['tcp', 'rest']) {
  describe(`driver: ${name}`, () => {
    const open: Redis[] = [];
    const client = (role: ClientRole = 'command') => {
      const c = createClient(drivers[name]!(), role);
      c.on('error', () => {});
      open.push(c);
      return c;
    };
    const k = (s: string) => `${name}:${s}`;
    after(() => {
      for (const c of open) c.disconnect();
    });

    test('plain commands and reply shapes', async () => {
      const c = client();
      assert.equal(await c.set(k('s'), 'héllo ✓'), 'OK');
      assert.equal(await c.get(k('s')), 'héllo ✓');
      assert.equal(await c.get(k('none')), null);
      assert.equal(await c.incrby(k('n'), 5), 5);
      assert.equal(await c.hset(k('h'), { a: '1', b: '2' }), 2);
      assert.deepEqual(await c.hgetall(k('h')), { a: '1', b: '2' });
      assert.deepEqual(await c.hmget(k('h'), 'a', 'zz'), ['1', null]);
      assert.equal(await c.rpush(k('l'), ...['x', 'y']), 2);
      assert.deepEqual(await c.lrange(k('l'), 0, -1), ['x', 'y']);
      assert.equal(await c.zadd(k('z'), 1, 'a', 2, 'b'), 2);
      assert.deepEqual(await c.zrange(k('z'), '0', '-1', 'WITHSCORES'), ['a', '1', 'b', '2']);
      assert.equal(await c.xadd(k('x'), '1-1', 'f', 'v'), '1-1');
      assert.deepEqual(await c.xrange(k('x'), '-', '+'), [['1-1', ['f', 'v']]]);
      assert.equal(await c.call('XLEN', k('x')), 1);
      assert.equal(await c.del([k('s'), k('n')]), 2);
      assert.equal(await c.ping(), 'PONG');
      assert.match(await c.info('server'), /redis_version/);
    });

    test('a command Redis refuses rejects with a ReplyError and its message', async () => {
      const c = client();
      await c.set(k('str'), 'x');
      await assert.rejects(
        c.lpush(k('str'), 'a'),
        (e: Error) => e.name === 'ReplyError' && /^WRONGTYPE/.test(e.message),
      );
    });

    test('multi: atomic, [error, result] per command, shapes as plain calls', async () => {
      const c = client();
      const r = await c
        .multi()
        .set(k('m'), '1')
        .incr(k('m'))
        .hset(k('mh'), 'f', 'v')
        .hgetall(k('mh'))
        .lpush(k('m'), 'x')
        .exec();
      assert.equal(r!.length, 5);
      assert.deepEqual(r!.slice(0, 4), [
        [null, 'OK'],
        [null, 2],
        [null, 1],
        [null, { f: 'v' }],
      ]);
      assert.equal(r![4]![0]!.name, 'ReplyError');
      assert.match(r![4]![0]!.message, /WRONGTYPE/);
    });

    test('pipeline: in order, errors per entry; empty pipeline', async () => {
      const c = client();
      const r = await c.pipeline().set(k('p'), 'a').get(k('p')).incr(k('p')).exec();
      assert.deepEqual(r!.slice(0, 2), [
        [null, 'OK'],
        [null, 'a'],
      ]);
      assert.match(r![2]![0]!.message, /not an integer/);
      assert.deepEqual(await c.pipeline().exec(), []);
    });

    test('scripts: defined, called, in pipelines, and reloaded after the script cache is flushed', async () => {
      const c = client();
      defineScripts(c, SCRIPTS);
      assert.deepEqual(await callScript(c, 'sum-into', [k('sum')], [1, 2, 3]), [6, k('sum')]);
      await assert.rejects(callScript(c, 'fail-with', [], ['MYERR boom']), /MYERR boom/);
      const p = c.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & {
        exec(): Promise<[Error | null, unknown][]>;
      };
      p['sum-into']!(1, k('sum2'), 4);
      p['sum-into']!(1, k('sum3'), 5);
      assert.deepEqual(await p.exec(), [
        [null, [4, k('sum2')]],
        [null, [5, k('sum3')]],
      ]);
      await raw.script('FLUSH');
      assert.deepEqual(await callScript(c, 'sum-into', [k('sum')], [7]), [7, k('sum')]);
      await raw.script('FLUSH');
      const q = c.pipeline() as unknown as typeof p;
      q['sum-into']!(1, k('sum4'), 8);
      assert.deepEqual(await q.exec(), [[null, [8, k('sum4')]]]);
    });

    test('blocking pop: times out with null, returns an element pushed meanwhile', async () => {
      const c = client('blocking');
      const start = Date.now();
      assert.equal(await c.brpop(k('sig'), 0.3), null);
      assert.ok(Date.now() - start >= 250);
      setTimeout(() => void raw.lpush(k('sig'), 'go'), 100);
      assert.deepEqual(await c.brpop(k('sig'), 5), [k('sig'), 'go']);
    });

    test('status ready, a ready event, and a closed client', async () => {
      const c = client('producer');
      await new Promise<void>((resolve) =>
        c.status === 'ready' ? resolve() : c.once('ready', () => resolve()),
      );
      assert.equal(c.status, 'ready');
      assert.equal(await c.quit(), 'OK');
      await assert.rejects(c.get(k('after')));
    });
  });
}
