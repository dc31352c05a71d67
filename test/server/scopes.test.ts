import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Queue, Worker } from '../../src/index.js';
import { createServer, type HopperServer, loadConfig } from '../../src/server/index.js';
import type { ApiToken } from '../../src/server/tokens.js';
import { ValidationError } from '../../src/util/errors.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { quiet, unique, waitFor } from '../stream/helpers.js';
import { auth, capturingLogger, testConfig } from './helpers.js';

const redis = new RedisFixture({ closeAfterEach: true });

const token = (name: string, ...scopes: ApiToken['scopes']): ApiToken => ({
  name,
  secret: `${name}-secret-0123456789abcdef`,
  scopes,
});
const ALICE = token('alice', 'submit');
const BOB = token('bob', 'submit');
const READER = token('reader', 'read');
const ADMIN = token('root', 'admin');
const as = (t: ApiToken) => auth(t.secret);

async function server(queue: string, overrides = {}): Promise<HopperServer> {
  const s = createServer(
    testConfig(redis.url, {
      processor: false,
      queues: [queue],
      submitLimit: 0,
      tokens: [ALICE, BOB, READER, ADMIN],
      jobTtl: 60_000,
      ...overrides,
    }),
    { logger: quiet },
  );
  redis.track(s);
  await s.ready();
  return s;
}

const submit = (s: HopperServer, queue: string, t: ApiToken, body: object) =>
  s.app.inject({ method: 'POST', url: `/api/v1/queues/${queue}/jobs`, headers: as(t), payload: body });
const status = (s: HopperServer, url: string, t: ApiToken) =>
  s.app.inject({ method: 'GET', url, headers: as(t) });

test('HOPPER_TOKENS: name:secret:scopes entries (secret may hold :), ; or new lines; the old form means admin', () => {
  const c = loadConfig({
    HOPPER_API_TOKENS: 'legacy-token-0123456789',
    HOPPER_TOKENS: 'ci:ci:secret:0123456789abc:submit,read ;\n grafana:grafana-0123456789abcdef:metrics',
  });
  assert.deepEqual(
    c.tokens.map((t) => [t.name.startsWith('t-') ? 'legacy' : t.name, t.secret, t.scopes]),
    [
      ['legacy', 'legacy-token-0123456789', ['admin']],
      ['ci', 'ci:secret:0123456789abc', ['submit', 'read']],
      ['grafana', 'grafana-0123456789abcdef', ['metrics']],
    ],
  );
  // A configuration of named tokens alone is enough to start with auth on.
  assert.equal(loadConfig({ HOPPER_TOKENS: 'a:aaaaaaaaaaaaaaaaaaaa:read' }).tokens.length, 1);
  for (const bad of [
    'x:short:read',
    'x:aaaaaaaaaaaaaaaaaaaa:write',
    'x:aaaaaaaaaaaaaaaaaaaa',
    'bad name:aaaaaaaaaaaaaaaaaaaa:read',
    'a:aaaaaaaaaaaaaaaaaaaa:read;b:aaaaaaaaaaaaaaaaaaaa:submit',
    'a:aaaaaaaaaaaaaaaaaaaa:read;a:bbbbbbbbbbbbbbbbbbbb:submit',
  ]) {
    const err = (() => {
      try {
        loadConfig({ HOPPER_TOKENS: bad });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof ValidationError, `accepted ${bad}`);
    assert.match(err.field, /^HOPPER_TOKENS/);
    assert.ok(!err.message.includes('aaaaaaaaaaaaaaaaaaaa') && !err.message.includes('short'), err.message);
  }
});

test("a job's status goes to the token that submitted it or an admin; another token's job is a 404 like a missing one", async () => {
  const queue = unique('owned');
  const s = await server(queue);
  const added = await submit(s, queue, ALICE, { name: 'j', data: { secret: 'alice-data' } });
  assert.equal(added.statusCode, 202, added.body);
  const url = added.json().statusUrl as string;
  assert.equal((await status(s, url, ALICE)).statusCode, 200);
  assert.equal((await status(s, url, ADMIN)).statusCode, 200);
  const other = await status(s, url, BOB);
  const missing = await status(s, `${url.replace(/[^/]+$/, '')}999999`, BOB);
  assert.equal(other.statusCode, 404);
  assert.equal(missing.statusCode, 404);
  assert.equal(other.json().error.replace(/"[^"]*"/, 'ID'), missing.json().error.replace(/"[^"]*"/, 'ID'));
  // read scope alone does not open the status route at all.
  assert.equal((await status(s, url, READER)).statusCode, 403);

  // A client cannot claim another token's ownership: the server sets `owner`.
  const spoof = await submit(s, queue, BOB, { name: 'j', data: {}, opts: { owner: 'alice' } });
  assert.equal(spoof.statusCode, 202, spoof.body);
  assert.equal((await status(s, spoof.json().statusUrl, ALICE)).statusCode, 404);
  assert.equal((await status(s, spoof.json().statusUrl, BOB)).statusCode, 200);
  // The owner stored with the job is the token's name, never its secret.
  const q = redis.track(new Queue(queue, { connection: redis.url, logger: quiet }));
  assert.equal((await q.getJob(added.json().jobId))?.opts.owner, 'alice');
  assert.equal((await q.getJob(spoof.json().jobId))?.opts.owner, 'bob');
});

test("GET /api/v1/metrics: failed jobs' data and stacks only for admin; read tokens see name and message", async () => {
  const queue = unique('failing');
  const s = await server(queue);
  const w = new Worker(
    queue,
    async () => {
      throw new Error('card declined');
    },
    { connection: redis.url, metrics: { flushMs: 50 }, logger: quiet },
  );
  redis.track(w);
  assert.equal(
    (await submit(s, queue, ALICE, { name: 'pay', data: { card: '4111-secret' } })).statusCode,
    202,
  );
  type Failures = { queues: Record<string, { recentFailures: Record<string, unknown>[] }> };
  const read = async (t: ApiToken) =>
    (
      await s.app.inject({ method: 'GET', url: `/api/v1/metrics?queue=${queue}`, headers: as(t) })
    ).json() as Failures;
  const full = (await waitFor('the failure recorded', async () => {
    const f = (await read(ADMIN)).queues[queue]?.recentFailures[0];
    return f ? f : undefined;
  }))!;
  assert.match(String(full.data), /4111-secret/);
  assert.match(String((full.error as { stack?: string }).stack), /card declined/);
  const shown = (await read(READER)).queues[queue]!.recentFailures[0]!;
  assert.equal(shown.data, undefined);
  assert.deepEqual(shown.error, { name: 'Error', message: 'card declined' });
  assert.equal(shown.id, full.id);
  // The submitter is not an admin either: submit scope cannot read metrics at all.
  const denied = await s.app.inject({ method: 'GET', url: '/api/v1/metrics', headers: as(ALICE) });
  assert.equal(denied.statusCode, 403);
});

test('over HTTP, retention options cannot outlive HOPPER_JOB_TTL', async () => {
  const queue = unique('ttl');
  const s = await server(queue, { jobTtl: 60_000 });
  const q = new Queue(queue, { connection: redis.url, logger: quiet });
  redis.track(q);
  const cases: [unknown, unknown][] = [
    [false, { age: 60_000 }],
    [5, { age: 60_000, count: 5 }],
    [{ age: 3_600_000 }, { age: 60_000 }],
    [
      { age: 1000, count: 2 },
      { age: 1000, count: 2 },
    ],
    [true, true],
  ];
  for (const [given, kept] of cases) {
    const r = await submit(s, queue, ALICE, {
      name: 'j',
      opts: { removeOnComplete: given, removeOnFail: given },
    });
    assert.equal(r.statusCode, 202, r.body);
    const job = await q.getJob(r.json().jobId);
    assert.deepEqual(job?.opts.removeOnComplete, kept, `removeOnComplete ${JSON.stringify(given)}`);
    assert.deepEqual(job?.opts.removeOnFail, kept, `removeOnFail ${JSON.stringify(given)}`);
  }
});

test('HOPPER_AUTH=off binds loopback unless HOST is set, and warns at listen', async () => {
  assert.equal(loadConfig({ HOPPER_AUTH: 'off' }).host, '127.0.0.1');
  assert.equal(loadConfig({ HOPPER_AUTH: 'off', HOST: '0.0.0.0' }).host, '0.0.0.0');
  assert.equal(loadConfig({ HOPPER_API_TOKENS: 'aaaaaaaaaaaaaaaaaaaa' }).host, '0.0.0.0');
  const log = capturingLogger();
  const s = createServer(
    { ...loadConfig({ HOPPER_AUTH: 'off', REDIS_URL: redis.url, PORT: '0' }), processor: false },
    { logger: log.logger },
  );
  redis.track(s);
  await s.ready();
  const address = await s.listen();
  assert.match(address, /^http:\/\/127\.0\.0\.1:/);
  assert.match(log.text(), /"level":40.*HOPPER_AUTH=off/);
});
