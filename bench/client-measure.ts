/**
 * One Redis-client measurement in a fresh process:
 *   node --import tsx bench/client-measure.ts --client ioredis|ioredis-auto|node-redis --case <case> --url ...
 * Prints one JSON line ({ ok, figures } or { ok: false, error }).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { CLIENT_CASES, type ClientCase, type ClientFigures } from './client-figures.js';
import { type BenchClient, CLIENT_NAMES, type ClientName, connectClient } from './clients.js';
import { redisCpuSeconds } from './redis-info.js';

const OPS = 100_000;
const WARMUP_OPS = 2_000;
const IN_FLIGHT = 100;
const BATCH = 1_000;
const VALUE = JSON.stringify({ i: 12345, t: 1_700_000_000_000 }); // ~30 bytes, like a job payload
const SCRIPT = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

async function inFlight(total: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, total) }, lane));
}

async function batches(
  count: number,
  offset: number,
  client: BenchClient,
  transaction: boolean,
): Promise<void> {
  for (let b = 0; b < count; b++) {
    const entries = Array.from({ length: BATCH }, (_, k): [string, string] => [
      `s:${offset + b * BATCH + k}`,
      VALUE,
    ]);
    await client.batch(entries, transaction);
  }
}

/** Returns the timed operation; the warm-up runs before it, untimed. */
async function prepare(c: ClientCase, client: BenchClient): Promise<(warm: boolean) => Promise<void>> {
  switch (c) {
    case 'ping':
      return (warm) => inFlight(warm ? WARMUP_OPS : OPS, () => client.ping());
    case 'set':
      return (warm) => inFlight(warm ? WARMUP_OPS : OPS, (i) => client.set(`s:${warm ? -1 - i : i}`, VALUE));
    case 'evalsha': {
      const sha = await client.scriptLoad(SCRIPT);
      return (warm) => inFlight(warm ? WARMUP_OPS : OPS, (i) => client.evalsha(sha, `c:${i % 1000}`, '1'));
    }
    case 'pipeline':
    case 'multi':
      return (warm) =>
        batches(warm ? WARMUP_OPS / BATCH : OPS / BATCH, warm ? OPS : 0, client, c === 'multi');
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { client: { type: 'string' }, case: { type: 'string' }, url: { type: 'string' } },
  });
  const name = values.client as ClientName | undefined;
  const caseName = values.case as ClientCase | undefined;
  if (!name || !CLIENT_NAMES.includes(name))
    throw new Error(`--client must be one of ${CLIENT_NAMES.join(', ')}`);
  if (!caseName || !CLIENT_CASES.includes(caseName))
    throw new Error(`--case must be one of ${CLIENT_CASES.join(', ')}`);
  if (!values.url) throw new Error('--url redis://host:port is required');
  const admin = new Redis(values.url, { maxRetriesPerRequest: 1 });
  const client = await connectClient(name, values.url);
  const run = await prepare(caseName, client);
  await run(true);
  const redis0 = await redisCpuSeconds(admin);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(false);
  const t1 = performance.now();
  const cpu1 = process.cpuUsage(cpu0);
  const redis1 = await redisCpuSeconds(admin);
  const seconds = (t1 - t0) / 1000;
  const figures: ClientFigures = {
    client: name,
    case: caseName,
    ops: OPS,
    seconds,
    opsPerSec: OPS / seconds,
    nodeUsPerOp: (cpu1.user + cpu1.system) / OPS,
    redisUsPerOp: ((redis1 - redis0) * 1e6) / OPS,
  };
  await Promise.race([client.close().catch(() => {}), new Promise((r) => setTimeout(r, 2_000))]);
  admin.disconnect();
  process.stdout.write(`${JSON.stringify({ ok: true, figures })}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) })}\n`,
    );
    process.exit(1);
  },
);
