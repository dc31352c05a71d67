import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { type RedisProcess, requireRedisServer, startRedis } from './redis-server.js';

/** Something a test opened, for the file to close at the end. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * A private redis-server for one test file: started before its tests and stopped after them,
 * with a plain client (`raw`) and whatever the tests `track()`ed closed first.
 * Create it at the top level of the file.
 */
export class RedisFixture {
  private redis: RedisProcess | undefined;
  private client: Redis | undefined;
  private readonly open: Closable[] = [];

  constructor() {
    requireRedisServer();
    before(async () => {
      this.redis = await startRedis();
      this.client = new Redis(this.redis.url);
    });
    after(async () => {
      await Promise.all(this.open.map((o) => o.close()));
      this.client?.disconnect();
      await this.redis?.stop();
    });
  }

  get url(): string {
    return this.redis!.url;
  }

  get raw(): Redis {
    return this.client!;
  }

  track<T extends Closable>(o: T): T {
    this.open.push(o);
    return o;
  }
}
