import { after, afterEach, before } from 'node:test';
import { Redis } from 'ioredis';
import { createRestGateway, type RestGateway } from '../../src/gateway/index.js';
import type { ConnectionOptions } from '../../src/redis/connection.js';
import { type RedisProcess, requireRedisServer, startRedis } from './redis-server.js';

/** `HOPPER_TEST_TRANSPORT=rest`: Hopper's own clients go through a REST gateway (npm run test:rest). */
const REST = process.env.HOPPER_TEST_TRANSPORT === 'rest';
const REST_TOKEN = 'fixture-rest-token-0123456789';

/** Something a test opened, for the file to close at the end. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * A private redis-server for one test file: started before its tests and stopped after them,
 * with a plain client (`raw`) and whatever the tests `track()`ed closed first (after each
 * test with `closeAfterEach`). Create it at the top level of the file.
 */
export class RedisFixture {
  private redis: RedisProcess | undefined;
  private client: Redis | undefined;
  private gateway: RestGateway | undefined;
  private restUrl = '';
  private readonly open: Closable[] = [];

  constructor(opts: { closeAfterEach?: boolean } = {}) {
    requireRedisServer();
    before(async () => {
      this.redis = await startRedis();
      this.client = new Redis(this.redis.url);
      if (REST) {
        this.gateway = createRestGateway(this.redis.url, { tokens: [REST_TOKEN] });
        this.restUrl = await this.gateway.listen();
      }
    });
    if (opts.closeAfterEach) afterEach(() => this.closeTracked());
    after(async () => {
      await this.closeTracked();
      this.client?.disconnect();
      await this.gateway?.close();
      await this.redis?.stop();
    });
  }

  private async closeTracked(): Promise<void> {
    await Promise.all(this.open.splice(0).map((o) => o.close()));
  }

  get url(): string {
    return this.redis!.url;
  }

  /** What Hopper's clients connect with: the URL, or the gateway under HOPPER_TEST_TRANSPORT=rest. */
  get connection(): ConnectionOptions {
    return REST ? { url: this.restUrl, token: REST_TOKEN } : this.redis!.url;
  }

  get raw(): Redis {
    return this.client!;
  }

  track<T extends Closable>(o: T): T {
    this.open.push(o);
    return o;
  }
}
