/**
 * The library's bad-input suite: every public producer call given input it must refuse.
 * Each probe expects a ValidationError naming the field, and that nothing reached Redis
 * (the server's key count and its write counter are unchanged).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, type QueueOptions, ValidationError } from '../../src/index.js';
import { MAX_DELAY_MS, MAX_TIMEOUT_MS } from '../../src/queue/validate.js';
import { QueueFixture } from '../helpers/queue-fixture.js';

const fx = new QueueFixture({ closeAfterEach: true });

/** Keys in the database and writes since start (the server never saves: every write counts). */
async function writes(): Promise<string> {
  const dirty = (await fx.raw.info('persistence')).match(/rdb_changes_since_last_save:(\d+)/)?.[1];
  return `${await fx.raw.dbsize()} keys, ${dirty} writes`;
}

/** Runs `call`, expects a ValidationError for `field`, and that Redis saw no write. */
async function refused(field: string, call: () => unknown): Promise<void> {
  const before = await writes();
  await assert.rejects(
    async () => call(),
    (err: unknown) => {
      assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
      assert.equal(err.field, field, `wrong field in "${err.message}"`);
      return true;
    },
  );
  await sleep(5); // a batch would have gone out by now
  assert.equal(await writes(), before, `${field}: something was written`);
}

const q = () => fx.queue('bad');
const circular: Record<string, unknown> = {};
circular.self = circular;

describe('bad input to add()', () => {
  const cases: [string, unknown, unknown][] = [
    // [field, data, opts]
    ['opts.priority', 1, { priority: -1 }],
    ['opts.priority', 1, { priority: 1001 }],
    ['opts.priority', 1, { priority: 1.5 }],
    ['opts.priority', 1, { priority: '1' }],
    ['opts.delay', 1, { delay: -1 }],
    ['opts.delay', 1, { delay: Number.NaN }],
    ['opts.delay', 1, { delay: Number.POSITIVE_INFINITY }],
    ['opts.delay', 1, { delay: MAX_DELAY_MS + 1 }],
    ['opts.attempts', 1, { attempts: 0 }],
    ['opts.backoff', 1, { backoff: MAX_DELAY_MS + 1 }],
    ['opts.backoff.delay', 1, { backoff: { type: 'exponential', delay: MAX_DELAY_MS + 1 } }],
    ['opts.backoff.type', 1, { backoff: { type: 'linear', delay: 1 } }],
    ['opts.backoff.jitter', 1, { backoff: { type: 'fixed', delay: 1, jitter: Number.NaN } }],
    ['opts.timeout', 1, { timeout: MAX_TIMEOUT_MS + 1 }],
    ['opts.timeout', 1, { timeout: 2 ** 40 }],
    ['opts.timeout', 1, { timeout: -1 }],
    ['opts.jobId', 1, { jobId: '' }],
    ['opts.jobId', 1, { jobId: '123' }],
    ['opts.jobId', 1, { jobId: 'a\nb' }],
    ['opts.jobId', 1, { jobId: 'x'.repeat(257) }],
    ['opts.jobId', 1, { jobId: 7 }],
    ['opts.dedup.key', 1, { dedup: { key: '', ttl: 10 } }],
    ['opts.dedup.ttl', 1, { dedup: { key: 'k', ttl: MAX_DELAY_MS + 1 } }],
    ['opts.dedup.ttl', 1, { dedup: { key: 'k', ttl: 10, mode: 'until-done' } }],
    ['opts.dedup.mode', 1, { dedup: { key: 'k', ttl: 10, mode: 'forever' } }],
    ['opts.group', 1, { group: '' }],
    ['opts.group', 1, { group: 'a\x1bb' }],
    ['opts.removeOnComplete.age', 1, { removeOnComplete: { age: MAX_DELAY_MS + 1 } }],
    ['opts.removeOnFail', 1, { removeOnFail: 'yes' }],
    ['opts.trace.traceparent', 1, { trace: { traceparent: 'nope' } }],
    ['opts.bogus', 1, { bogus: 1 }],
    ['opts', 1, 'fast'],
    ['opts', 1, [1]],
    // Prototype pollution: an own __proto__ key (as JSON.parse makes), an inherited option, constructor.
    ['opts.__proto__', 1, JSON.parse('{"__proto__": {"priority": 5}}')],
    ['opts', 1, { __proto__: { priority: 5 } }],
    ['opts.constructor', 1, { constructor: { prototype: { polluted: 1 } } }],
    ['opts.dedup', 1, { dedup: Object.create({ key: 'k', ttl: 5 }) }],
    // Data JSON would change silently.
    ['data', Number.NaN, undefined],
    ['data', Number.POSITIVE_INFINITY, undefined],
    ['data', () => 1, undefined],
    ['data', Symbol('s'), undefined],
    ['data.a.b[1]', { a: { b: [1, Number.NaN] } }, undefined],
    ['data.x', { x: Number.NEGATIVE_INFINITY }, undefined],
    ['data.f', { f: () => 1 }, undefined],
    ['data[0].s', [{ s: Symbol('s') }], undefined],
    ['data.at.n', { at: { toJSON: () => ({ n: Number.NaN }) } }, undefined],
    ['data.__proto__', JSON.parse('{"a": 1, "__proto__": {"admin": true}}'), undefined],
    ['data.x.__proto__', JSON.parse('{"x": {"__proto__": {"admin": true}}}'), undefined],
    ['data.constructor.prototype', { constructor: { prototype: { admin: true } } }, undefined],
    ['data', { big: 10n }, undefined],
    ['data', circular, undefined],
    ['data', 'x'.repeat(512 * 1024), undefined],
  ];
  for (const [field, data, opts] of cases) {
    test(`${field}: ${describeInput(data, opts)}`, async () => {
      const queue = q();
      await refused(field, () => queue.add('job', data, opts as never));
    });
  }

  test('name: empty, not a string, too long', async () => {
    const queue = q();
    await refused('name', () => queue.add('', 1));
    await refused('name', () => queue.add(5 as never, 1));
    await refused('name', () => queue.add('n'.repeat(201), 1));
  });

  test('a key named constructor holding a plain value is ordinary data', async () => {
    const queue = q();
    const id = await queue.add('job', { constructor: 'Ferrari', prototype: 1 });
    assert.deepEqual((await queue.getJob(id))?.data, { constructor: 'Ferrari', prototype: 1 });
  });
});

describe('bad input to addBulk()', () => {
  test('one bad job among good ones: none is written', async () => {
    const queue = q();
    await refused('jobs[1].opts.delay', () =>
      queue.addBulk([
        { name: 'a', data: 1 },
        { name: 'b', data: 2, opts: { delay: -5 } },
        { name: 'c', data: 3 },
      ]),
    );
    await refused('jobs[2].data.n', () =>
      queue.addBulk([
        { name: 'a', data: 1 },
        { name: 'b', data: 2 },
        { name: 'c', data: { n: Number.NaN } },
      ]),
    );
    await refused('jobs', () => queue.addBulk('nope' as never));
    await refused('jobs[0].name', () => queue.addBulk([null as never]));
  });
});

describe('bad Queue options', () => {
  const url = () => fx.url;
  const cases: [string, string, QueueOptions | Record<string, unknown>][] = [
    ['name', 'with\x1b[2Jescape', {}],
    ['name', 'new\nline', {}],
    ['name', 'c1\x9bcontrol', {}],
    ['name', 'br{ace}', {}],
    ['name', '', {}],
    ['prefix', 'ok', { prefix: '' }],
    ['prefix', 'ok', { prefix: 'p\x1b' }],
    ['prefix', 'ok', { prefix: '{p}' }],
    ['prefix', 'ok', { prefix: 5 }],
    ['maxPayloadBytes', 'ok', { maxPayloadBytes: 0 }],
    ['maxPayloadBytes', 'ok', { maxPayloadBytes: 1.5 }],
    ['maxPayloadBytes', 'ok', { maxPayloadBytes: '1000' }],
    ['maxPayloadBytes', 'ok', { maxPayloadBytes: 2 ** 40 }],
    ['maxPayloadBytes', 'ok', { maxPayloadBytes: Number.POSITIVE_INFINITY }],
    ['addTimeout', 'ok', { addTimeout: 0 }],
    ['addTimeout', 'ok', { addTimeout: Number.NaN }],
    ['addTimeout', 'ok', { addTimeout: MAX_TIMEOUT_MS + 1 }],
    ['options.bogus', 'ok', { bogus: true }],
    ['defaultJobOptions.timeout', 'ok', { defaultJobOptions: { timeout: MAX_TIMEOUT_MS + 1 } }],
  ];
  for (const [field, name, opts] of cases) {
    test(`${field}: ${describeInput(name, opts)}`, async () => {
      await refused(field, () => new Queue(name, { connection: url(), ...opts } as QueueOptions));
    });
  }
});

describe('bad input to getJobs()', () => {
  test('state, start and end', async () => {
    const queue = q();
    await refused('state', () => queue.getJobs('done' as never));
    await refused('start', () => queue.getJobs('waiting', -1, 5));
    await refused('end', () => queue.getJobs('waiting', 0, Number.NaN));
  });
});

function describeInput(...values: unknown[]): string {
  return values
    .map((v) => {
      if (typeof v === 'string') return JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}...` : v);
      if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') return String(v);
      try {
        const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
        return s === undefined ? String(v) : s.slice(0, 60);
      } catch {
        return 'a circular object';
      }
    })
    .join(' ');
}
