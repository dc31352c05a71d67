import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { freePort } from '../../src/cli/redis-probe.js';
import { Channel, Deduper, Queue, Worker } from '../../src/index.js';
import { resolveConnection } from '../../src/redis/connection.js';
import { redactError, redactUrl } from '../../src/redis/redact.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';

requireRedisServer();
const PASSWORD = 'correct-horse-battery';
const WRONG = 'wrong-staple-42';
/** Every character that has broken a redaction: `/` ends a URL authority, `@` and `:` split credentials, `%` escapes. */
const NASTY = 'wr/ng@pa:ss%word-42';
const ACL_USER = 'alice';
let redis: RedisProcess;

before(async () => {
  redis = await startRedis();
  // Set after start: the harness checks readiness without a password.
  const admin = new Redis(redis.url);
  await admin.acl('SETUSER', ACL_USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all');
  await admin.config('SET', 'requirepass', PASSWORD);
  admin.disconnect();
});
after(() => redis.stop());

/** Everything a careless caller might print about an error. */
const everyView = (err: unknown) => [
  String(err),
  (err as Error).stack ?? '',
  inspect(err, { depth: 5 }),
  safeJson(err),
];

/** JSON.stringify, with repeated objects (ioredis's previousErrors may hold the error itself) written once. */
function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object') {
      if (seen.has(v)) return '[seen]';
      seen.add(v);
    }
    return v;
  });
}

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

/** Every view of `err` and of each of its own properties, for checking that `secret` is nowhere. */
function assertClean(err: unknown, secret: string, what: string): void {
  assert.ok(err instanceof Error, `${what} did not reject with an Error: ${String(err)}`);
  const encoded = encodeURIComponent(secret);
  const views = [...everyView(err)];
  for (const key of Object.getOwnPropertyNames(err))
    views.push(inspect((err as unknown as Record<string, unknown>)[key], { depth: 5 }));
  const command = (err as { command?: { args?: unknown[] } }).command;
  if (command?.args) views.push(command.args.map(String).join(' '));
  for (const view of views) {
    assert.ok(!view.includes(secret), `${what}: password in ${view}`);
    assert.ok(!view.includes(encoded), `${what}: encoded password in ${view}`);
  }
}

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('succeeded with a wrong password'),
    (e: unknown) => e,
  );

for (const [label, connection] of [
  ['URL, default user', () => `redis://:${encodeURIComponent(NASTY)}@127.0.0.1:${redis.port}`],
  ['URL, ACL user', () => `redis://${ACL_USER}:${encodeURIComponent(NASTY)}@127.0.0.1:${redis.port}`],
  ['options, ACL user', () => ({ host: '127.0.0.1', port: redis.port, username: ACL_USER, password: NASTY })],
] as const)
  test(`wrong password holding / @ : % (${label}): no call's error carries it, in any view`, async () => {
    const opts = { connection: connection(), logger: pino({ level: 'silent' }) };
    const queue = new Queue('secrets-calls', opts);
    const deduper = new Deduper(opts);
    const channel = new Channel(opts);
    const calls: [string, () => Promise<unknown>][] = [
      ['getCounts', () => queue.getCounts()],
      ['pause', () => queue.pause()],
      ['isPaused', () => queue.isPaused()],
      ['resume', () => queue.resume()],
      ['getJobs', () => queue.getJobs('waiting')],
      ['setLimits', () => queue.setLimits({ concurrency: 2 })],
      ['getLimits', () => queue.getLimits()],
      ['getMetrics', () => queue.getMetrics()],
      ['schedules', () => queue.schedules()],
      ['getGroup', () => queue.getGroup('g')],
      ['Deduper.claim', () => deduper.claim('k', 1000)],
      ['Channel.publish', () => channel.publish('c', { x: 1 })],
    ];
    try {
      for (const [name, call] of calls) assertClean(await rejection(call()), NASTY, name);
    } finally {
      await Promise.all([queue.close(), deduper.close(), channel.close()]);
    }
  });

test('an unparsable URL whose password holds / or @ or % is refused without echoing the password', () => {
  for (const url of [
    `redis://:${NASTY}@127.0.0.1:6379`,
    `redis://${ACL_USER}:${NASTY}@127.0.0.1:6379/0`,
    'redis://:pass%zzword@127.0.0.1:6379',
  ]) {
    const err = (() => {
      try {
        resolveConnection(url);
      } catch (e) {
        return e;
      }
      return assert.fail(`accepted ${url}`);
    })();
    assert.equal((err as Error).name, 'ValidationError');
    const secret = url.includes('%zz') ? 'pass%zzword' : NASTY;
    for (const view of everyView(err)) {
      assert.ok(!view.includes(secret), `leaked in: ${view}`);
      // Half a password is a leak too.
      assert.ok(!view.includes('pa:ss') && !view.includes('wr/ng') && !view.includes('zzword'), view);
    }
  }
});

test('redactUrl masks everything up to the last @, whatever the password holds', () => {
  assert.equal(redactUrl(`redis://u:${NASTY}@h:1/0`), 'redis://u:***@h:1/0');
  assert.equal(redactUrl(`postgres://:${NASTY}@db/x`), 'postgres://***@db/x');
  assert.equal(redactUrl('redis://h:1/0'), 'redis://h:1/0');
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `hopper <args>` (the TypeScript source) until it exits or `until` matches its output; then SIGTERM. */
function runHopper(args: string[], env: Record<string, string>, until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, HOPPER_PROCESSOR: 'off', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const take = (s: string) => {
      output += s;
      if (until?.test(output)) child.kill('SIGTERM');
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.once('error', reject);
    child.once('close', () => {
      clearTimeout(killer);
      resolve(output);
    });
  });
}

/** Parts of RIGHT, each unlikely anywhere else: half a password shown is a leak. */
const PARTS = ['xalphax', 'ybravoy', 'zcharliez', 'wdeltaw'];
const RIGHT = `${PARTS[0]}@${PARTS[1]}:${PARTS[2]}/${PARTS[3]}%`;
const assertNoPart = (output: string, what: string) => {
  for (const part of PARTS) assert.ok(!output.includes(part), `${what} shows ${part}:\n${output}`);
};

test('hopper serve: no password (holding @ : / %) in its startup log, nor in its errors for a wrong or unparsable one', async () => {
  const admin = new Redis(`redis://:${PASSWORD}@127.0.0.1:${redis.port}`);
  await admin.acl('SETUSER', 'bob', 'on', `>${RIGHT}`, '~*', '&*', '+@all');
  admin.disconnect();
  // The form people write: @ and : raw (the URL parser takes the last @), / and % encoded.
  const userinfo = `bob:${PARTS[0]}@${PARTS[1]}:${PARTS[2]}%2F${PARTS[3]}%25`;
  assert.equal(resolveConnection(`redis://${userinfo}@h`).password, RIGHT);
  const base = { HOPPER_API_TOKENS: 'secrets-token-0123456789', PORT: String(await freePort()) };

  const started = await runHopper(
    ['serve'],
    { ...base, REDIS_URL: `redis://${userinfo}@127.0.0.1:${redis.port}` },
    /Server starting/,
  );
  assert.match(started, /"msg":"configuration"/);
  assertNoPart(started, 'startup log');

  const wrong = await runHopper(['serve'], {
    ...base,
    REDIS_URL: `redis://bob:${userinfo.slice(4).replace(PARTS[3]!, 'other')}@127.0.0.1:${redis.port}`,
  });
  assert.match(wrong, /hopper: /);
  assertNoPart(wrong.replace('other', ''), 'wrong-password error');

  for (const env of <Record<string, string>[]>[
    { REDIS_URL: `redis://bob:${RIGHT}@127.0.0.1:${redis.port}` },
    { DATABASE_URL: `postgres://bob:${RIGHT}@127.0.0.1:5432/db`, HOPPER_PROCESSOR: 'on' },
  ]) {
    const out = await runHopper(['serve'], { ...base, REDIS_URL: redis.url, ...env });
    assert.match(out, /hopper: (REDIS_URL|DATABASE_URL)/);
    assertNoPart(out, `error for ${Object.keys(env)[0]}`);
  }
});

test('hopper CLI: no password in its errors, for an unparsable --url, REDIS_URL, or a wrong password', async () => {
  const bad = `redis://bob:${RIGHT}@127.0.0.1:${redis.port}`;
  const outputs = [
    await runHopper(['stats', '--url', bad], {}),
    await runHopper(['stats'], { REDIS_URL: bad }),
    await runHopper(
      [
        'stats',
        '--url',
        `redis://bob:${encodeURIComponent(RIGHT.replace('wdeltaw', 'x'))}@127.0.0.1:${redis.port}`,
      ],
      {},
    ),
  ];
  for (const out of outputs) {
    assert.match(out, /hopper: /);
    assertNoPart(out, 'CLI error');
  }
});
