import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { RedisProcess } from '../test/helpers/redis-server.js';
import type { Pool } from './processes.js';
import type { Fault, FaultKind, Fsync } from './schedule.js';

export interface Applied {
  fault: Fault;
  /** False when the fault could not apply (no worker or producer running to kill or stop). */
  applied: boolean;
  /** restart-redis: the fsync policy in force when Redis was killed. */
  killedUnder?: Fsync;
  /** Wall clock when it was applied (for restart-redis: the kill), to compare with the logs' times. */
  wallAt?: number;
}

/** Carries out a fault schedule against the processes and the Redis server. */
export class Nemesis {
  readonly log: Applied[] = [];
  /** When Redis answered again after each restart. */
  readonly redisUpAt: number[] = [];
  private fsync: Fsync = 'everysec';
  private redisQueue: Promise<void> = Promise.resolve();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly admin: Redis;

  constructor(
    private readonly redis: RedisProcess,
    private readonly workers: Pool,
    private readonly producers: Pool,
  ) {
    // Fails fast while Redis is down: a CLIENT KILL then is skipped, not queued.
    this.admin = new Redis(redis.url, {
      maxRetriesPerRequest: 1,
      retryStrategy: () => 100,
      connectionName: 'chaos-nemesis',
    });
    this.admin.on('error', () => {});
  }

  /** Schedules every fault relative to now. */
  start(schedule: Fault[]): void {
    for (const f of schedule) {
      this.timers.push(
        setTimeout(() => {
          const wallAt = Date.now();
          this.apply(f).then(
            (entry) => this.log.push({ wallAt, ...entry }),
            (err: Error) => {
              console.error(`chaos: ${f.kind} at ${f.at} ms failed: ${err.message}`);
              this.log.push({ fault: f, applied: false });
            },
          );
        }, f.at),
      );
    }
  }

  private async apply(f: Fault): Promise<Applied> {
    switch (f.kind) {
      case 'kill-worker':
        return { fault: f, applied: this.workers.kill(f.slot, f.ms) };
      case 'kill-producer':
        return { fault: f, applied: this.producers.kill(f.slot, f.ms) };
      case 'stop-worker':
        return { fault: f, applied: this.workers.stop(f.slot, f.ms) };
      case 'client-kill':
        return this.onRedis(async () => {
          // Every client connection but ours: producers', workers' and their blocking ones.
          for (let i = 0; i < (f.times ?? 1); i++) {
            if (i > 0) await sleep(f.ms);
            await this.admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
          }
          return { fault: f, applied: true };
        });
      case 'restart-redis':
        return this.onRedis(async () => {
          const killedUnder = this.fsync;
          const wallAt = Date.now();
          await this.restartRedis(f);
          return { fault: f, applied: true, killedUnder, wallAt };
        });
    }
  }

  /** Redis faults one after the other: one due during a restart waits for Redis to be back, so none is skipped. */
  private onRedis(action: () => Promise<Applied>): Promise<Applied> {
    const run = this.redisQueue.then(action);
    this.redisQueue = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  private async restartRedis(f: Fault): Promise<void> {
    await this.redis.kill9();
    await sleep(f.ms);
    await this.redis.restart();
    this.fsync = f.fsync ?? 'everysec';
    // The helper starts with everysec; the policy for the next kill is set at once.
    const conf = new Redis(this.redis.url, { maxRetriesPerRequest: 3 });
    try {
      await conf.config('SET', 'appendfsync', this.fsync);
    } finally {
      conf.disconnect();
    }
    this.redisUpAt.push(Date.now());
  }

  /** Ends the faults: nothing new starts, Redis faults under way finish. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await this.redisQueue;
  }

  async close(): Promise<void> {
    this.admin.disconnect();
  }

  counts(): Record<FaultKind, number> & { everysecKills: number; alwaysKills: number } {
    const c = {
      'kill-worker': 0,
      'kill-producer': 0,
      'stop-worker': 0,
      'restart-redis': 0,
      'client-kill': 0,
      everysecKills: 0,
      alwaysKills: 0,
    };
    for (const a of this.log) {
      if (!a.applied) continue;
      c[a.fault.kind]++;
      if (a.killedUnder === 'everysec') c.everysecKills++;
      if (a.killedUnder === 'always') c.alwaysKills++;
    }
    return c;
  }
}
