/** The Redis clients compared by bench/client-choice.ts, behind one small interface. */
import { Redis } from 'ioredis';
import { createClient } from 'redis';

export const CLIENT_NAMES = ['ioredis', 'ioredis-auto', 'node-redis'] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];
export const CLIENT_LABELS: Record<ClientName, string> = {
  ioredis: 'ioredis 6',
  'ioredis-auto': 'ioredis 6, enableAutoPipelining',
  'node-redis': 'node-redis 5',
};

export interface BenchClient {
  ping(): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  scriptLoad(source: string): Promise<string>;
  evalsha(sha: string, key: string, arg: string): Promise<unknown>;
  /** One round trip of SETs: a plain pipeline, or wrapped in MULTI/EXEC. */
  batch(entries: [string, string][], transaction: boolean): Promise<unknown>;
  close(): Promise<void>;
}

function ioredisClient(url: string, autoPipelining: boolean): BenchClient {
  const redis = new Redis(url, { enableAutoPipelining: autoPipelining });
  return {
    ping: () => redis.ping(),
    set: (key, value) => redis.set(key, value),
    scriptLoad: async (source) => String(await redis.script('LOAD', source)),
    evalsha: (sha, key, arg) => redis.evalsha(sha, 1, key, arg),
    batch: (entries, transaction) => {
      const chain = transaction ? redis.multi() : redis.pipeline();
      for (const [key, value] of entries) chain.set(key, value);
      return chain.exec();
    },
    close: async () => {
      await redis.quit();
    },
  };
}

async function nodeRedisClient(url: string): Promise<BenchClient> {
  const client = createClient({ url });
  client.on('error', (error: unknown) => console.error('node-redis:', error));
  await client.connect();
  return {
    ping: () => client.ping(),
    set: (key, value) => client.set(key, value),
    scriptLoad: (source) => client.scriptLoad(source),
    evalsha: (sha, key, arg) => client.evalSha(sha, { keys: [key], arguments: [arg] }),
    batch: (entries, transaction) => {
      const multi = client.multi();
      for (const [key, value] of entries) multi.set(key, value);
      return transaction ? multi.exec() : multi.execAsPipeline();
    },
    close: () => client.close(),
  };
}

export async function connectClient(name: ClientName, url: string): Promise<BenchClient> {
  switch (name) {
    case 'ioredis':
      return ioredisClient(url, false);
    case 'ioredis-auto':
      return ioredisClient(url, true);
    case 'node-redis':
      return nodeRedisClient(url);
  }
}
