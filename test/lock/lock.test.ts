import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import {
  type LockHandle,
  LockLostError,
  LockManager,
  LockTimeoutError,
  lockKeys,
} from '../../src/lock/index.js';
import { lockScriptName, lockScripts } from '../../src/lock/scripts.js';
import { callScript, defineScripts } from '../../src/redis/scripts.js';
import { ValidationError } from '../../src/util/errors.js';
import { FixtureProcess, killFixtures } from '../helpers/fixture-process.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { uniqueName, waitFor } from '../helpers/worker-process.js';

requireRedisServer();

const CONTENDER = fileURLToPath(new URL('./contender-process.ts', import.meta.url));

let redis: RedisProcess;
let admin: Redis;
let locks: LockManager;
let other: LockManager;

before(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  locks = new LockManager({ connection: redis.url, ttl: 5_000 });
  // A second manager on its own connection, standing for another process.
  other = new LockManager({ connection: redis.url, ttl: 5_000 });
});

after(async () => {
  await killFixtures();
  await locks?.close();
  await other?.close();
  admin?.disconnect();
  await redis?.stop();
});

async function holderToken(resource: string): Promise<string | undefined> {
  const value = await admin.get(lockKeys('hopper:lock', resource).lock);
  return value?.split(':')[0];
}

describe('Lock', () => {
  test('exclusive under contention: 4 processes, no lost update, fences increase in lock order', async () => {
    const resource = uniqueName('counter-lock');
    const counter = uniqueName('counter');
    const start = uniqueName('start');
    const rounds = 25;
    const children = Array.from(
      { length: 4 },
      () =>
        new FixtureProcess(CONTENDER, {
          REDIS_URL: redis.url,
          RESOURCE: resource,
          COUNTER: counter,
          START: start,
          ROUNDS: String(rounds),
          HOLD_MS: '2',
        }),
    );
    await Promise.all(children.map((c) => c.waitForLine((l) => l === 'ready', 'ready')));
    await admin.set(start, '1');
    await Promise.all(children.map((c) => c.waitForLine((l) => l === 'done', 'done', 45_000)));

    assert.equal(Number(await admin.get(counter)), 4 * rounds, 'no lost updates');
    const sections = children.flatMap((c) =>
      c.lines.filter((l) => /^\d+ \d+$/.test(l)).map((l) => l.split(' ').map(Number) as [number, number]),
    );
    assert.equal(sections.length, 4 * rounds);
    assert.ok(
      children.every((c) => !c.lines.some((l) => l.startsWith('unreleased'))),
      'every release succeeded',
    );
    // Each critical section read a distinct counter value: that value orders them.
    sections.sort((a, b) => a[1] - b[1]);
    assert.deepEqual(
      sections.map(([, read]) => read),
      Array.from({ length: 4 * rounds }, (_, i) => i),
    );
    for (let i = 1; i < sections.length; i++) {
      assert.ok(
        sections[i]![0] > sections[i - 1]![0],
        `fence ${sections[i]![0]} after ${sections[i - 1]![0]}`,
      );
    }
  });

  test('a non-holder cannot release or renew; the holder keeps the lock', async () => {
    const resource = uniqueName('nonholder');
    const a = await locks.acquire(resource);
    await assert.rejects(other.acquire(resource, { waitMs: 0 }), (err: unknown) => {
      assert.ok(err instanceof LockTimeoutError);
      assert.equal(err.resource, resource);
      return true;
    });
    const t0 = Date.now();
    await assert.rejects(other.acquire(resource, { waitMs: 150, retryDelayMs: 20 }), LockTimeoutError);
    assert.ok(Date.now() - t0 >= 140, 'waited about waitMs before giving up');

    assert.equal(await a.release(), true);
    const b = await other.acquire(resource, { waitMs: 0 });
    assert.ok(b.fence > a.fence);
    // A's handle is stale now: a second release and a renew must not touch B's lock.
    assert.equal(await a.release(), false);
    await assert.rejects(a.renew(), LockLostError);
    assert.equal(await holderToken(resource), b.token);
    assert.ok((await admin.pttl(lockKeys('hopper:lock', resource).lock)) > 4_000, 'B keeps its expiry');
    await b.renew(8_000);
    assert.ok((await admin.pttl(lockKeys('hopper:lock', resource).lock)) > 7_000);
    assert.equal(await b.release(), true);
    assert.equal(await holderToken(resource), undefined);

    // The `await using` hook releases too, and only its own lock.
    const c = await locks.acquire(resource);
    await c[Symbol.asyncDispose]();
    assert.equal(await holderToken(resource), undefined);
  });

  test('an expired lock can be taken by another; the old holder’s release and renew are refused', async () => {
    const resource = uniqueName('expired');
    const a = await locks.acquire(resource, { ttl: 150 });
    // A waiter gets it once the TTL lapses, without A ever releasing.
    const b = await other.acquire(resource, { waitMs: 5_000, retryDelayMs: 20 });
    assert.ok(b.fence > a.fence, 'the new holder has a higher fence');
    assert.equal(await a.release(), false);
    await assert.rejects(a.renew(), LockLostError);
    assert.equal(await holderToken(resource), b.token, 'B still holds it');
    assert.equal(await b.release(), true);
  });

  test('withLock renews while fn outlives the ttl, then releases', async () => {
    const resource = uniqueName('with');
    let seen: LockHandle | undefined;
    const result = await locks.withLock(
      resource,
      async (signal, lock) => {
        seen = lock;
        // Over two TTLs long: without renewal the lock would have lapsed.
        for (let i = 0; i < 6; i++) {
          await sleep(200);
          assert.equal(signal.aborted, false);
          await assert.rejects(other.acquire(resource, { waitMs: 0 }), LockTimeoutError);
        }
        return 'done';
      },
      { ttl: 500 },
    );
    assert.equal(result, 'done');
    assert.equal(await holderToken(resource), undefined, 'released afterwards');
    assert.ok(seen && seen.fence > 0);

    // Released when fn throws too, and fn's error comes through.
    await assert.rejects(
      locks.withLock(resource, () => {
        throw new Error('fn failed');
      }),
      /fn failed/,
    );
    assert.equal(await holderToken(resource), undefined);
  });

  test('withLock aborts the signal and rejects with LockLostError when the lock is taken away', async () => {
    const resource = uniqueName('lost');
    let abortedWith: unknown;
    await assert.rejects(
      locks.withLock(
        resource,
        async (signal) => {
          // Someone deletes the lock behind our back (an operator, a flush, a failover).
          await admin.del(lockKeys('hopper:lock', resource).lock);
          await new Promise<void>((resolve) =>
            signal.addEventListener('abort', () => resolve(), { once: true }),
          );
          abortedWith = signal.reason;
          return 'finished anyway';
        },
        { ttl: 300 },
      ),
      LockLostError,
    );
    assert.ok(abortedWith instanceof LockLostError);
  });

  test('keys: one hash tag per resource; the fence counter never expires; acquire is idempotent per token', async () => {
    const resource = uniqueName('keys');
    const keys = lockKeys('hopper:lock', resource);
    assert.equal(keys.lock, `{hopper:lock:${resource}}`);
    assert.equal(keys.fence, `{hopper:lock:${resource}}:fence`);
    const a = await locks.acquire(resource, { ttl: 1_000 });
    assert.equal(await admin.get(keys.lock), `${a.token}:${a.fence}`);
    assert.equal(await admin.ttl(keys.fence), -1);
    await a.release();

    // A resent acquire (reply lost on a dropped connection) must find its own lock, same fence.
    const raw = new Redis(redis.url);
    try {
      defineScripts(raw, lockScripts);
      const call = () =>
        callScript<[number, number, number]>(
          raw,
          lockScriptName.acquire,
          [keys.lock, keys.fence],
          ['tok', 1000],
        );
      const first = await call();
      const again = await call();
      assert.equal(first[0], 1);
      assert.deepEqual(again.slice(0, 2), first.slice(0, 2));
      assert.equal(Number(await admin.get(keys.fence)), first[1], 'no fence burnt by the resend');
    } finally {
      raw.disconnect();
    }
  });

  test('bad input throws ValidationError naming the field', async () => {
    for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      assert.throws(() => new LockManager({ connection: redis.url, ttl }), {
        name: 'ValidationError',
        field: 'ttl',
      });
      await assert.rejects(locks.acquire('r', { ttl }), { name: 'ValidationError', field: 'ttl' });
      await assert.rejects(
        locks.withLock('r', () => 1, { ttl }),
        { name: 'ValidationError', field: 'ttl' },
      );
    }
    for (const resource of ['', 'x'.repeat(513), undefined as unknown as string]) {
      await assert.rejects(locks.acquire(resource), { name: 'ValidationError', field: 'resource' });
      await assert.rejects(
        locks.withLock(resource, () => 1),
        { name: 'ValidationError', field: 'resource' },
      );
    }
    await assert.rejects(locks.acquire('r', { waitMs: -1 }), { name: 'ValidationError', field: 'waitMs' });
    await assert.rejects(locks.acquire('r', { retryDelayMs: 0 }), {
      name: 'ValidationError',
      field: 'retryDelayMs',
    });
    await assert.rejects(
      locks.withLock('r', () => 1, { ttl: 100, renewEveryMs: 100 }),
      { name: 'ValidationError', field: 'renewEveryMs' },
    );
    await assert.rejects(locks.withLock('r', 'x' as never), { name: 'ValidationError', field: 'fn' });
    assert.throws(() => new LockManager({ connection: redis.url, prefix: '' }), {
      name: 'ValidationError',
      field: 'prefix',
    });
    const held = await locks.acquire(uniqueName('renew-bad'));
    await assert.rejects(
      held.renew(0),
      (err: unknown) => err instanceof ValidationError && err.field === 'ttl',
    );
    await held.release();
    // Nothing was taken by the rejected calls.
    assert.equal(await holderToken('r'), undefined);
  });

  test('a waiter gets the lock soon after it is released', async () => {
    const resource = uniqueName('handoff');
    const a = await locks.acquire(resource);
    const waiting = other.acquire(resource, { waitMs: 5_000, retryDelayMs: 20 });
    await sleep(100);
    await a.release();
    const t0 = Date.now();
    const b = await waiting;
    assert.ok(Date.now() - t0 < 1_000);
    assert.ok(b.fence > a.fence);
    await b.release();
    await waitFor('released', async () => (await holderToken(resource)) === undefined);
  });
});
