import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/cli/redis-probe.js';
import { askNode } from './redis-cluster.js';
import { type RedisProcess, startRedis } from './redis-server.js';

const HOST = '127.0.0.1';
export const SENTINEL_MASTER = 'hoppermaster';

/**
 * A Sentinel setup for tests: one master, one replica and three sentinels (quorum 2),
 * each on a free port. `redis-server --sentinel` is used: it is the same binary as
 * `redis-sentinel`, which some packages do not install.
 */
export interface SentinelSetup {
  master: RedisProcess;
  replica: RedisProcess;
  sentinels: { port: number; kill9(): Promise<void> }[];
  /** `redis+sentinel://h:s1,h:s2,h:s3/<name>` */
  url: string;
  /** Port of the node the sentinels currently call master. */
  currentMasterPort(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSentinels(): Promise<SentinelSetup> {
  const master = await startRedis({ aof: true });
  const replica = await startRedis({ aof: true, args: ['--replicaof', HOST, String(master.port)] });
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const sentinels: SentinelSetup['sentinels'] = [];
  const stop = async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => exited(c)));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await Promise.all([master.stop(), replica.stop()]);
  };
  process.on('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
  try {
    await waitFor(async () =>
      askNode(replica.port, async (c) => (await c.info('replication')).includes('master_link_status:up')),
    );
    for (let i = 0; i < 3; i++) {
      const port = await freePort(HOST);
      const dir = mkdtempSync(join(tmpdir(), 'hopper-sentinel-'));
      dirs.push(dir);
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `logfile ${join(dir, 'sentinel.log')}`,
          `sentinel monitor ${SENTINEL_MASTER} ${HOST} ${master.port} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
          `sentinel failover-timeout ${SENTINEL_MASTER} 5000`,
          '',
        ].join('\n'),
      );
      const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
      children.push(child);
      sentinels.push({
        port,
        async kill9() {
          child.kill('SIGKILL');
          await exited(child);
        },
      });
    }
    // Each sentinel must see the replica and the other sentinels before a failover can be voted.
    for (const s of sentinels) {
      await waitFor(async () =>
        askNode(s.port, async (c) => {
          const info = (await c.call('SENTINEL', 'MASTER', SENTINEL_MASTER)) as string[];
          const field = (k: string) => Number(info[info.indexOf(k) + 1]);
          return field('num-slaves') >= 1 && field('num-other-sentinels') >= 2;
        }),
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    master,
    replica,
    sentinels,
    url: `redis+sentinel://${sentinels.map((s) => `${HOST}:${s.port}`).join(',')}/${SENTINEL_MASTER}`,
    async currentMasterPort() {
      for (const s of sentinels) {
        const addr = await askNode(
          s.port,
          async (c) => (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER)) as string[],
        );
        if (addr) return Number(addr[1]);
      }
      throw new Error('no sentinel answers');
    },
    stop,
  };
}

function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((r) => c.once('exit', () => r()));
}

async function waitFor(check: () => Promise<boolean | undefined>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('sentinel setup not ready in time');
    await sleep(100);
  }
}
