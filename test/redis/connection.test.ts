import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { Queue, ValidationError, Worker } from '../../src/index.js';
import { describeConnection, parseConnection } from '../../src/redis/connection.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

describe('connection strings', () => {
  test('one host is one server, with user, password, db and TLS', () => {
    assert.deepEqual(parseConnection('rediss://u:p%40ss@example.com:6380/3'), {
      kind: 'single',
      options: { username: 'u', password: 'p@ss', tls: {}, host: 'example.com', port: 6380, db: 3 },
    });
    assert.deepEqual(parseConnection('redis://[::1]'), {
      kind: 'single',
      options: { host: '::1', port: 6379, db: 0 },
    });
  });

  test('a host list is Redis Cluster (seed 004 form), database 0 only', () => {
    const r = parseConnection('redis://:pw@node1:7000,node2:7001,node3/0');
    assert.deepEqual(r, {
      kind: 'cluster',
      nodes: [
        { host: 'node1', port: 7000 },
        { host: 'node2', port: 7001 },
        { host: 'node3', port: 6379 },
      ],
      options: { password: 'pw' },
      clusterOptions: {},
    });
    assert.equal(describeConnection(r), 'cluster node1:7000,node2:7001,node3:6379');
    assert.throws(() => parseConnection('redis://a:1,b:2/1'), /only database 0/);
  });

  test('redis+sentinel:// names the sentinels, the master and the db', () => {
    const r = parseConnection('rediss+sentinel://app:secret@s1:26379,s2/mymaster/2');
    assert.deepEqual(r, {
      kind: 'single',
      options: {
        username: 'app',
        password: 'secret',
        tls: {},
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
        ],
        name: 'mymaster',
        db: 2,
      },
    });
    assert.equal(describeConnection(r), 'sentinel app@mymaster@s1:26379,s2:26379/2');
    assert.throws(() => parseConnection('redis+sentinel://s1:26379'), /master-name/);
  });

  test('object forms: cluster nodes with options, sentinels with a name', () => {
    const r = parseConnection({ cluster: [{ host: 'a', port: 1 }], redisOptions: { password: 'x' } });
    assert.equal(r.kind, 'cluster');
    assert.equal(parseConnection({ sentinels: [{ host: 's', port: 1 }], name: 'm' }).kind, 'single');
  });

  test('anything else is a typed error naming the field, never quoting the password', () => {
    for (const bad of ['http://h:1', 'redis://h:99999', 'redis://h/x', 'nonsense', 'redis://a:1,b:2/0/1']) {
      assert.throws(() => parseConnection(bad), ValidationError, bad);
    }
    assert.throws(() => parseConnection({ cluster: [] }), /connection\.cluster/);
    assert.throws(() => parseConnection({ cluster: [{ host: 'a' }] } as never), /connection\.cluster\[0\]/);
    assert.throws(() => parseConnection(42 as never), ValidationError);
    try {
      parseConnection('http://u:hunter2@h');
    } catch (err) {
      assert.doesNotMatch((err as Error).message, /hunter2/);
    }
  });
});

describe('an ioredis instance as connection', () => {
  requireRedisServer();
  let redis: RedisProcess;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  test('Queue and Worker connect where the instance points, not to 127.0.0.1:6379', async () => {
    const instance = new Redis(redis.url);
    const q = new Queue('instance', { connection: instance });
    const done: string[] = [];
    const w = new Worker('instance', async (job) => void done.push(job.id), { connection: instance });
    try {
      const id = await q.add('x', { a: 1 });
      // The job is on the test server: the instance's host and port were used.
      assert.equal(await instance.hexists('{hopper:instance}:jobs', id), 1);
      const deadline = Date.now() + 5000;
      while (done.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(done, [id]);
    } finally {
      await w.close();
      await q.close();
    }
    // The instance stays the caller's: Hopper closed only its own duplicates.
    assert.equal(await instance.ping(), 'PONG');
    instance.disconnect();
  });
});
