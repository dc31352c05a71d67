import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/server/index.js';
import { ValidationError } from '../../src/util/errors.js';

const base = { HOPPER_API_TOKENS: 'a-token-0123456789abcdef' };

test('defaults follow seed 004', () => {
  const c = loadConfig(base);
  assert.equal(c.port, 8085);
  assert.equal(c.workerCount, 5);
  assert.equal(c.batchSize, 100);
  assert.equal(c.processInterval, 1000);
  assert.equal(c.shutdownTimeout, 30_000);
  assert.equal(c.bodyLimit, 1024 * 1024);
  assert.equal(c.trackMaxEvents, 500);
  assert.equal(c.queueDepthWarn, 10_000);
  assert.equal(c.auth, true);
  assert.equal(c.processor, true);
  assert.equal(c.databaseUrl, undefined);
});

test('durations accept 1s, 500ms, 2m and plain ms; sizes accept kb/mb', () => {
  assert.equal(loadConfig({ ...base, QUEUE_PROCESS_INTERVAL: '500ms' }).processInterval, 500);
  assert.equal(loadConfig({ ...base, QUEUE_PROCESS_INTERVAL: '2s' }).processInterval, 2000);
  assert.equal(loadConfig({ ...base, QUEUE_SHUTDOWN_TIMEOUT: '2m' }).shutdownTimeout, 120_000);
  assert.equal(loadConfig({ ...base, QUEUE_PROCESS_INTERVAL: '250' }).processInterval, 250);
  assert.equal(loadConfig({ ...base, BODY_LIMIT: '512kb' }).bodyLimit, 512 * 1024);
  assert.deepEqual(
    loadConfig({ HOPPER_API_TOKENS: ' aaaaaaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbbbbbb ' }).tokens.map(
      (t) => t.secret,
    ),
    ['aaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb'],
  );
  assert.equal(loadConfig({ HOPPER_AUTH: 'off' }).auth, false);
  assert.equal(loadConfig({ ...base, HTTP_WORKERS: '2' }).httpWorkers, 2);
});

const bad: [string, string][] = [
  ['REDIS_URL', 'http://localhost:6379'],
  ['REDIS_URL', 'not a url'],
  ['DATABASE_URL', 'mysql://u:secretpw@host/db'],
  ['PORT', '80a'],
  ['PORT', '70000'],
  ['HTTP_WORKERS', '0'],
  ['HTTP_WORKERS', 'two'],
  ['HTTP_WORKERS', '65'],
  ['QUEUE_WORKER_COUNT', '0'],
  ['QUEUE_WORKER_COUNT', '-3'],
  ['QUEUE_BATCH_SIZE', 'many'],
  ['QUEUE_PROCESS_INTERVAL', '1h30'],
  ['QUEUE_PROCESS_INTERVAL', '0s'],
  ['QUEUE_SHUTDOWN_TIMEOUT', 'soon'],
  ['HOPPER_AUTH', 'maybe'],
  ['HOPPER_PROCESSOR', 'nah'],
  ['BODY_LIMIT', '10gb'],
  ['BODY_LIMIT', '10'],
  ['TRACK_MAX_EVENTS', '0'],
  ['QUEUE_DEPTH_WARN', '1e4'],
  ['STREAM_MAX_LEN', '-1'],
  ['HOPPER_API_TOKENS', 'short'],
];

for (const [name, value] of bad) {
  test(`${name}=${JSON.stringify(value)} -> ValidationError naming ${name}`, () => {
    assert.throws(
      () => loadConfig({ ...base, [name]: value }),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.equal(err.field, name);
        assert.ok(err.message.startsWith(`${name}: `), err.message);
        assert.ok(!err.message.includes('\n'), 'one line');
        assert.ok(!err.message.includes('secretpw'), 'password redacted');
        return true;
      },
    );
  });
}

test('auth on with no tokens refuses to start; HOPPER_AUTH=off allows it', () => {
  assert.throws(
    () => loadConfig({}),
    (err: unknown) => err instanceof ValidationError && err.field === 'HOPPER_API_TOKENS',
  );
  assert.equal(loadConfig({ HOPPER_AUTH: 'off' }).tokens.length, 0);
});
