import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis as Upstash } from '@upstash/redis';
import { Redis } from 'ioredis';
import { createRestGateway, type RestGateway } from '../../src/gateway/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { CASES, type Cmd } from './cases.js';

/**
 * The real @upstash/redis client against `hopper rest-gateway` gets the same answers
 * as ioredis over TCP from the same Redis: every case runs both ways on its own keys.
 */
requireRedisServer();
const TOKEN = 'conformance-token-0123456789';
let redis: RedisProcess;
let gateway: RestGateway;
let url: string;
let tcp: Redis;

before(async () => {
  redis = await startRedis();
  gateway = createRestGateway(redis.url, { tokens: [TOKEN] });
  url = await gateway.listen();
  // RESP2: the raw replies as Redis sends them (ioredis's RESP3 default turns some into pairs and maps).
  tcp = new Redis(redis.url, { protocol: 2 });
});
after(async () => {
  tcp.disconnect();
  await gateway.close();
  await redis.stop();
});

type Outcome = { ok: unknown } | { err: string };
const outcome = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    (ok) => ({ ok }),
    (e: Error) => ({ err: e.message.replace(/, command was: .*$/s, '') }),
  );

async function runBoth(label: string, commands: (k: (n: string) => string) => Cmd[], client: Upstash) {
  const viaRest = commands((n) => `rest:${label}:${n}`);
  const viaTcp = commands((n) => `tcp:${label}:${n}`);
  for (let i = 0; i < viaRest.length; i++) {
    const [restCmd, tcpCmd] = [viaRest[i]!, viaTcp[i]!];
    const a = await outcome(client.exec(restCmd as [string, ...string[]]));
    const b = await outcome(tcp.call(String(tcpCmd[0]), ...tcpCmd.slice(1)));
    // Replies that name keys (XREAD) name each side's own.
    const normal = (o: Outcome) =>
      JSON.parse(JSON.stringify(o).replaceAll(`tcp:${label}:`, `rest:${label}:`));
    assert.deepEqual(normal(a), normal(b), `${label}: ${String(restCmd[0])} (command ${i})`);
  }
}

for (const encoding of ['base64', false] as const) {
  describe(`@upstash/redis through the gateway, responseEncoding ${encoding}`, () => {
    const client = () =>
      new Upstash({
        url,
        token: TOKEN,
        responseEncoding: encoding,
        automaticDeserialization: false,
        enableTelemetry: false,
      });

    for (const c of CASES) test(c.name, () => runBoth(`${encoding}:${c.name}`, c.commands, client()));

    test('typed commands: hset/hgetall, zadd/zrange withScores, xadd/xrange, eval/evalsha/scriptLoad', async () => {
      // As applications use it: values JSON-encoded and decoded by the client.
      const r = new Upstash({ url, token: TOKEN, responseEncoding: encoding, enableTelemetry: false });
      const k = (n: string) => `typed:${encoding}:${n}`;
      assert.equal(await r.hset(k('h'), { a: 1, b: 'two', c: { nested: [1, 'x'] } }), 3);
      assert.deepEqual(await tcp.hgetall(k('h')), { a: '1', b: 'two', c: '{"nested":[1,"x"]}' });
      assert.deepEqual(await r.hgetall(k('h')), { a: 1, b: 'two', c: { nested: [1, 'x'] } });
      await r.set(k('obj'), { hello: 'wörld' });
      assert.deepEqual(await r.get(k('obj')), { hello: 'wörld' });
      assert.equal(await tcp.get(k('obj')), '{"hello":"wörld"}');
      await r.zadd(k('z'), { score: 2, member: 'b' }, { score: 1, member: 'a' });
      assert.deepEqual(await r.zrange(k('z'), 0, -1, { withScores: true }), ['a', 1, 'b', 2]);
      assert.deepEqual(await tcp.zrange(k('z'), '0', '-1', 'WITHSCORES'), ['a', '1', 'b', '2']);
      const id = await r.xadd(k('x'), '5-1', { f: 'v' });
      assert.equal(id, '5-1');
      assert.deepEqual(await r.xrange(k('x'), '-', '+'), { '5-1': { f: 'v' } });
      const sha = await r.scriptLoad('return ARGV[1] .. KEYS[1]');
      assert.equal(sha, await tcp.script('LOAD', 'return ARGV[1] .. KEYS[1]'));
      assert.equal(await r.evalsha(sha, ['k'], ['v']), 'vk');
      assert.equal(await r.eval('return #KEYS + #ARGV', ['a', 'b'], ['c']), 3);
      await assert.rejects(r.evalsha('0'.repeat(40), [], []), /NOSCRIPT/);
    });

    test('pipeline: results in order, an error kept in its own entry', async () => {
      const r = client();
      const k = (n: string) => `pipe:${encoding}:${n}`;
      const p = r.pipeline();
      p.set(k('a'), 'x').incr(k('n')).incr(k('a')).get(k('a')).hset(k('h'), { f: 'v' }).hget(k('h'), 'f');
      const got = await p.exec({ keepErrors: true });
      const t = await tcp
        .pipeline()
        .set(k('b'), 'x')
        .incr(k('m'))
        .incr(k('b'))
        .get(k('b'))
        .hset(k('h2'), 'f', 'v')
        .hget(k('h2'), 'f')
        .exec();
      assert.deepEqual(
        got.map((o) => (o.error ? { err: o.error } : { ok: o.result })),
        t!.map(([e, v]) => (e ? { err: e.message } : { ok: v })),
      );
    });

    test('multi-exec: atomic, runtime errors per entry, a queueing error aborts everything', async () => {
      const r = client();
      const k = (n: string) => `tx:${encoding}:${n}`;
      const res = await r
        .multi()
        .set(k('a'), 'x')
        .incr(k('n'))
        .lpush(k('a'), 'y')
        .get(k('a'))
        .exec({ keepErrors: true });
      const t = await tcp.multi().set(k('b'), 'x').incr(k('m')).lpush(k('b'), 'y').get(k('b')).exec();
      assert.deepEqual(
        res.map((o) => (o.error ? { err: o.error } : { ok: o.result })),
        t!.map(([e, v]) => (e ? { err: e.message } : { ok: v })),
      );
      // Wrong arity is refused while queueing: EXECABORT, and nothing ran.
      const aborted = await fetch(`${url}/multi-exec`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify([['SET', k('c'), 'v'], ['GET']]),
      });
      assert.equal(aborted.status, 400);
      assert.match(((await aborted.json()) as { error: string }).error, /EXECABORT/);
      assert.equal(await tcp.exists(k('c')), 0);
    });
  });
}
