import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pingRedis } from '../src/cli/redis-probe.js';
import { type RedisProcess, requireRedisServer, startRedis } from './helpers/redis-server.js';

requireRedisServer();

const started: RedisProcess[] = [];
after(async () => {
  for (const server of started) await server.stop();
});

async function start(opts?: Parameters<typeof startRedis>[0]): Promise<RedisProcess> {
  const server = await startRedis(opts);
  started.push(server);
  return server;
}

/** A client that fails fast instead of queueing commands through an outage. */
function client(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
}

test('startRedis serves PING on its own port and stop removes its dir', async () => {
  const server = await startRedis();
  assert.notEqual(server.port, 6379);
  const redis = client(server.url);
  try {
    assert.equal(await redis.ping(), 'PONG');
  } finally {
    redis.disconnect();
  }
  assert.ok(existsSync(server.dir));
  await server.stop();
  assert.equal(existsSync(server.dir), false);
  assert.equal(await pingRedis('127.0.0.1', server.port, 300), 'no-answer');
  await server.stop(); // idempotent
});

test('kill9 + restart with AOF keeps a key written before the crash', async () => {
  const server = await start({ aof: true, args: ['--appendfsync', 'always'] });
  const before = client(server.url);
  await before.set('survivor', 'still here');
  before.disconnect();

  await server.kill9();
  assert.equal(await pingRedis('127.0.0.1', server.port, 300), 'no-answer');

  await server.restart();
  const afterRestart = client(server.url);
  try {
    assert.equal(await afterRestart.get('survivor'), 'still here');
  } finally {
    afterRestart.disconnect();
  }
});

test('kill9 + restart with default everysec fsync keeps a key after 1.2 s', async () => {
  const server = await start({ aof: true });
  const before = client(server.url);
  await before.set('survivor', 'synced');
  before.disconnect();
  await sleep(1200); // appendfsync everysec: give the background fsync its second

  await server.kill9();
  await server.restart();
  const afterRestart = client(server.url);
  try {
    assert.equal(await afterRestart.get('survivor'), 'synced');
  } finally {
    afterRestart.disconnect();
  }
});

test('without AOF a restart after kill9 starts empty (the crash is real)', async () => {
  const server = await start();
  const before = client(server.url);
  await before.set('doomed', '1');
  before.disconnect();

  await server.kill9();
  await server.restart();
  const afterRestart = client(server.url);
  try {
    assert.equal(await afterRestart.get('doomed'), null);
  } finally {
    afterRestart.disconnect();
  }
});
