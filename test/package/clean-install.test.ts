import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { type Consumer, compileUsage, freshProject, installedPackages, runIn } from './consumer.js';
import { packedTarball } from './pack.js';

// The package as users get it: `npm pack`, installed into a fresh ESM project and a fresh
// CommonJS project, a typed use compiled with skipLibCheck: false, a job run end to end
// against a real redis-server, and the CLI run from the installed package.
requireRedisServer();

/** Runtime dependencies a queue user needs; everything else is an optional peer. */
const EXPECTED_DIRECT = ['commander', 'croner', 'ioredis', 'pino'];
/** Optional peers and build tools: none may arrive with a plain install. */
const NOT_INSTALLED = [
  'fastify',
  'prom-client',
  'pg',
  '@electric-sql/pglite',
  'tsx',
  'esbuild',
  'express',
  'ws',
];

let redis: RedisProcess;
let tarball: string;
const projects: Partial<Record<'module' | 'commonjs', Consumer>> = {};

before(async () => {
  tarball = await packedTarball();
  // Settled, not Promise.all: a failed install must still leave the server to `after`,
  // whose running child would otherwise keep this file (and the suite) from ever ending.
  const [server, esm, cjs] = await Promise.allSettled([
    startRedis(),
    freshProject('module', tarball),
    freshProject('commonjs', tarball),
  ]);
  if (server.status === 'fulfilled') redis = server.value;
  if (esm.status === 'fulfilled') projects.module = esm.value;
  if (cjs.status === 'fulfilled') projects.commonjs = cjs.value;
  for (const r of [server, esm, cjs]) if (r.status === 'rejected') throw r.reason;
});

after(async () => {
  await redis?.stop();
  for (const p of Object.values(projects)) rmSync(p.dir, { recursive: true, force: true });
});

test('a plain install pulls only the runtime dependencies, without engine warnings', () => {
  for (const p of Object.values(projects)) {
    assert.doesNotMatch(p.installLog, /EBADENGINE|Unsupported engine/, p.installLog);
    const names = installedPackages(p.dir);
    for (const dep of EXPECTED_DIRECT) assert.ok(names.includes(dep), `${dep} installed`);
    for (const dep of NOT_INSTALLED) assert.ok(!names.includes(dep), `${dep} not installed`);
    assert.ok(names.length <= 30, `${names.length} packages: ${names.join(' ')}`);
  }
});

test('the typed usage compiles with skipLibCheck: false and runs a job end to end, as ESM and as CommonJS', async () => {
  const esm = projects.module!;
  const errors = await compileUsage(esm.dir, tarball);
  // Every shipped .d.ts and the usage compile; ioredis's own declarations import the
  // untyped 'redis-errors' (TS7016 under strict), an upstream issue any ioredis user has.
  const ours = errors.filter((e) => !e.startsWith('node_modules/ioredis/'));
  assert.deepEqual(ours, []);
  for (const e of errors) assert.match(e, /node_modules\/ioredis\/.*TS7016.*redis-errors/);
  // The CommonJS build runs in the CommonJS project, against its own install.
  copyFileSync(join(esm.dir, 'out', 'usage.cjs'), join(projects.commonjs!.dir, 'usage.cjs'));
  // One after the other: both use queue 'clean-install', and a worker of one run could take
  // the other's job, whose own worker would then wait for a completion that never comes.
  const runs = [
    await runIn(esm.dir, process.execPath, ['out/usage.mjs'], { REDIS_URL: redis.url }),
    await runIn(projects.commonjs!.dir, process.execPath, ['usage.cjs'], { REDIS_URL: redis.url }),
  ];
  for (const { stdout } of runs) {
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.match(out.id, /^\d+$/);
    assert.deepEqual(out.result, { checked: 'w1/w1' });
    assert.equal(out.refused, 'opts.priority');
  }
});

test('commonjs: require() loads the main entry and every subpath', async () => {
  const p = projects.commonjs!;
  const script = `
    const h = require('hopper-queue');
    const subpaths = ['server', 'prometheus', 'stream', 'express', 'fastify'].map((s) => Object.keys(require('hopper-queue/' + s)).length);
    console.log(JSON.stringify({ queue: typeof h.Queue, worker: typeof h.Worker, subpaths }));`;
  const { stdout } = await runIn(p.dir, process.execPath, ['-e', script], {});
  const out = JSON.parse(stdout);
  assert.equal(out.queue, 'function');
  assert.equal(out.worker, 'function');
  for (const n of out.subpaths) assert.ok(n > 0);
});

test('a feature whose optional peer is missing fails naming the package to install', async () => {
  const p = projects.module!;
  const { stdout } = await runIn(p.dir, process.execPath, ['optional.mjs'], {});
  const errors = JSON.parse(stdout) as { name: string; message: string; isHopper: boolean }[];
  assert.equal(errors.length, 4, JSON.stringify(errors));
  assert.match(errors[0]!.message, /needs the package "prom-client".*npm install prom-client/);
  assert.match(errors[1]!.message, /needs the package "fastify".*npm install fastify/);
  // hopper-queue/console and hopper-queue/gateway import without Fastify and name it when used.
  assert.match(errors[2]!.message, /web console.*needs the package "fastify"/);
  assert.match(errors[3]!.message, /REST gateway.*needs the package "fastify"/);
  for (const e of errors) {
    assert.equal(e.name, 'MissingDependencyError');
    assert.equal(e.isHopper, true);
  }
});

test('the hopper command runs from the installed package', async () => {
  const p = projects.module!;
  const bin = join(p.dir, 'node_modules', '.bin', 'hopper');
  const version = await runIn(p.dir, bin, ['--version'], {});
  assert.equal(version.stdout.trim(), '0.1.0');
  const ping = await runIn(p.dir, bin, ['ping', '--url', redis.url], {});
  assert.match(ping.stdout, /redis/i);
  // The queue the end-to-end test used is listed with its completed job.
  const stats = await runIn(p.dir, bin, ['stats', 'clean-install', '--url', redis.url], {});
  assert.match(stats.stdout, /clean-install/);
});
