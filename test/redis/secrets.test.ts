import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Queue, Worker } from '../../src/index.js';
import { redactError, redactUrl } from '../../src/redis/redact.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
const PASSWORD = 'correct-horse-battery';
const WRONG = 'wrong-staple-42';
let redis: RedisProcess;

before(async () => {
  redis = await startRedis();
  // Set after start: the harness checks readiness without a password.
  const admin = new Redis(redis.url);
  await admin.config('SET', 'requirepass', PASSWORD);
  admin.disconnect();
});
after(() => redis.stop());

/** Everything a careless caller might print about an error. */
const everyView = (err: unknown) => [
  String(err),
  (err as Error).stack ?? '',
  inspect(err, { depth: 5 }),
  JSON.stringify(err),
];

test('redactUrl and redactError mask passwords', () => {
  assert.equal(redactUrl(`redis://user:${PASSWORD}@h:1/0`), 'redis://user:***@h:1/0');
  assert.equal(redactUrl(`rediss://:${PASSWORD}@h:1`), 'rediss://***@h:1');
  const e = Object.assign(new Error(`AUTH ${PASSWORD} failed for redis://u:${PASSWORD}@x:1`), {
    command: { name: 'auth', args: [PASSWORD] },
  });
  for (const view of everyView(redactError(e, [PASSWORD]))) assert.ok(!view.includes(PASSWORD), view);
});

test('a wrong password never shows in what add() rejects with, or in what the worker reports', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
  const url = `redis://:${WRONG}@127.0.0.1:${redis.port}`;
  const queue = new Queue('secrets', { connection: url, logger });
  const err = await queue.add('x', {}).then(
    () => assert.fail('add succeeded with a wrong password'),
    (e: unknown) => e,
  );
  for (const view of everyView(err)) assert.ok(!view.includes(WRONG), `leaked in: ${view}`);

  const errors: unknown[] = [];
  const worker = new Worker('secrets', async () => {}, { connection: url, logger });
  worker.on('error', (e) => errors.push(e));
  await new Promise((r) => setTimeout(r, 500));
  await worker.close({ timeout: 200 });
  await queue.close();
  for (const e of errors)
    for (const view of everyView(e)) assert.ok(!view.includes(WRONG), `leaked in: ${view}`);
  for (const line of lines) assert.ok(!line.includes(WRONG), `leaked in log: ${line}`);
});

test('the right password works', async () => {
  const queue = new Queue('secrets-ok', { connection: `redis://:${PASSWORD}@127.0.0.1:${redis.port}` });
  assert.ok(await queue.add('x', {}));
  await queue.close();
});
