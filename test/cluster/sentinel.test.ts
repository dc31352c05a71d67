import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/cli/redis-probe.js';
import { Queue } from '../../src/index.js';
import { ROOT, runCli } from '../cli/run.js';
import { askNode } from '../helpers/redis-cluster.js';
import { SENTINEL_MASTER, type SentinelSetup, startSentinels } from '../helpers/redis-sentinel.js';
import { requireRedisServer } from '../helpers/redis-server.js';
import { Load, quiet, STEP, untilNothingLeft } from './load.js';

/** Sentinel (1 master, 1 replica, 3 sentinels): the redis+sentinel:// URL, and SENTINEL FAILOVER under load. */
requireRedisServer();
let setup: SentinelSetup;
const loads: Load[] = [];
before(async () => {
  setup = await startSentinels();
});
after(async () => {
  await Promise.all(loads.map((l) => l.close()));
  await setup?.stop();
});

test('redis+sentinel:// reaches the master: queue, CLI ping', async () => {
  const q = new Queue('s', { connection: setup.url, logger: quiet });
  const id = await q.add('x', {});
  await q.close();
  assert.equal(await askNode(setup.master.port, (c) => c.hexists('{hopper:s}:jobs', id)), 1);
  const ping = await runCli(setup.url, ['ping']);
  assert.equal(ping.code, 0, ping.stderr);
  assert.match(ping.stdout, new RegExp(`found through Sentinel \\(master "${SENTINEL_MASTER}"\\)`));
});

/**
 * Runs `hopper <command>` with REDIS_URL set to the Sentinel URL until `path` answers
 * 200 (or 45 s pass), and returns that answer's JSON.
 */
async function answerOf(command: string, path: string, env: NodeJS.ProcessEnv = {}): Promise<unknown> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/hopper.js', command], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_URL: setup.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      HOPPER_AUTH: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const s of [child.stdout, child.stderr])
    s.setEncoding('utf8').on('data', (d: string) => (output += d));
  try {
    const deadline = Date.now() + 45_000;
    for (;;) {
      const r = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
      if (r?.status === 200) return await r.json();
      assert.equal(child.exitCode, null, `hopper ${command} exited:\n${output}`);
      assert.ok(Date.now() < deadline, `hopper ${command} did not answer ${path}:\n${output}`);
      await sleep(100);
    }
  } finally {
    child.kill('SIGKILL');
  }
}

test('hopper dashboard and hopper serve accept a redis+sentinel:// REDIS_URL', async () => {
  const q = new Queue('s-console', { connection: setup.url, logger: quiet });
  const id = await q.add('x', { n: 1 });
  await q.close();
  const job = (await answerOf('dashboard', `/dashboard/api/queues/s-console/jobs/${id}`)) as { id: string };
  assert.equal(job.id, id, 'the dashboard read the job through Sentinel');
  const dir = mkdtempSync(join(tmpdir(), 'hopper-sentinel-serve-'));
  try {
    const health = (await answerOf('serve', '/health', { HOPPER_PGLITE_DIR: join(dir, 'pg') })) as {
      redis: string;
    };
    assert.equal(health.redis, 'healthy', 'serve reached Redis through Sentinel');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SENTINEL FAILOVER under load: producers and workers follow the new master; nothing stuck, only adds the old master took after the promotion are lost', async () => {
  const load = new Load('busy', setup.url);
  loads.push(load);
  await load.untilAcked(STEP);
  const old = await setup.currentMasterPort();
  await askNode(setup.sentinels[0]!.port, (c) => c.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER));
  const deadline = Date.now() + 20_000;
  while ((await setup.currentMasterPort()) === old) {
    if (Date.now() > deadline) throw new Error('sentinel failover did not happen');
    await sleep(50);
  }
  const at = load.acked.size;
  await load.untilAcked(at + STEP, 60_000);
  await load.stopProducing();
  await load.untilAllCompleted(30_000);
  const counts = await untilNothingLeft(load.queue);
  assert.equal(counts.active, 0);
  assert.equal(counts.waiting, 0);
  // Sentinel promotes the replica without waiting for it to catch up, and the old master
  // takes writes until Sentinel turns it into a replica: without durability, adds it
  // acknowledged meanwhile are gone (docs/scaling.md). Such a job has no record at all;
  // one that exists must have run.
  const missing = load.missing();
  for (const id of missing) assert.equal(await load.queue.getJob(id), null, `job ${id} exists but never ran`);
  console.log(
    `SENTINEL FAILOVER: ${load.acked.size} acknowledged, ${missing.length} lost with the old master, ${load.runs - load.completed.size} extra runs, ${load.addErrors} add errors`,
  );
});
