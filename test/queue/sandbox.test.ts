import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, sandbox, ValidationError, Worker } from '../../src/index.js';
import { RedisFixture } from '../helpers/redis-fixture.js';

const fx = new RedisFixture();
const PROCESSOR = new URL('../fixtures/sandboxed-processor.ts', import.meta.url);

async function until(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('sandboxed processors', () => {
  test('jobs run in child processes; a crash or a spinning handler fails only its own job', async () => {
    const q = fx.track(new Queue('sandbox', { connection: fx.url, metrics: false }));
    const handler = sandbox(PROCESSOR);
    fx.track({ close: () => handler.close() });
    fx.track(
      new Worker(q.name, handler, { connection: fx.url, metrics: false, schedules: false, concurrency: 2 }),
    );
    const ok = await q.add('j', { mode: 'pid', n: 1 });
    await until(async () => (await q.getJob(ok))?.state === 'completed');
    const done = await q.getJob(ok);
    const result = done?.returnValue as { pid: number; n: number };
    assert.notEqual(result.pid, process.pid, 'ran in another process');
    assert.equal(result.n, 1);
    assert.equal(done?.progress, 50);
    assert.deepEqual(done?.logs, ['in the child']);

    const thrown = await q.add('j', { mode: 'throw' });
    const crash = await q.add('j', { mode: 'crash' });
    const spin = await q.add('j', { mode: 'spin' }, { timeout: 500 });
    await until(async () => {
      const states = await Promise.all([thrown, crash, spin].map(async (id) => (await q.getJob(id))?.state));
      return states.every((s) => s === 'failed');
    });
    assert.equal((await q.getJob(thrown))?.error?.message, 'processor failed');
    assert.match((await q.getJob(crash))?.error?.message ?? '', /exited \(code 3\)/);
    assert.equal((await q.getJob(spin))?.error?.name, 'TimeoutError');

    // The worker goes on with fresh children.
    const after = await q.add('j', { mode: 'pid', n: 2 });
    await until(async () => (await q.getJob(after))?.state === 'completed');
    const second = (await q.getJob(after))!.returnValue as { n: number };
    assert.equal(second.n, 2);
    assert.throws(() => sandbox('/no/such/file.js'), ValidationError);
  });
});
