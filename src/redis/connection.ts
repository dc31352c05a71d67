import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { createRestClient, isRestConnection, type RestConnection } from '../transport/rest/index.js';
import { ValidationError } from '../util/errors.js';
import { type HostPort, parseRedisUrl } from './connection-url.js';
import { guardSecrets } from './secret-guard.js';

export type { HostPort } from './connection-url.js';

/** Redis Cluster as an object: seed nodes, options for every node connection, and ioredis Cluster options. */
export interface ClusterConnectionOptions {
  cluster: HostPort[];
  /** Applied to every node connection: password, username, tls... */
  redisOptions?: RedisOptions;
  clusterOptions?: Omit<ClusterOptions, 'redisOptions'>;
}

/**
 * Where Hopper's Redis is:
 * - a URL: `redis://host:port/db`, `redis://h1:p1,h2:p2,h3:p3` (Cluster),
 *   `redis+sentinel://s1:26379,s2:26379/<master-name>[/db]` (Sentinel), and the `rediss` TLS forms;
 * - ioredis options (with `sentinels` and `name` for Sentinel);
 * - `{ cluster: [...nodes], redisOptions, clusterOptions }`;
 * - an ioredis `Redis` or `Cluster` instance: Hopper opens its own connections to where it
 *   points, with its settings (`duplicate()`), and leaves the instance itself to its owner;
 * - an Upstash-compatible REST endpoint, `{ url, token }` (see src/transport/rest).
 */
export type ConnectionOptions =
  | string
  | RedisOptions
  | ClusterConnectionOptions
  | Redis
  | Cluster
  | RestConnection;

/** A connection, resolved: what kind of client to open and with what. */
export type ResolvedConnection =
  | { kind: 'single'; options: RedisOptions }
  | {
      kind: 'cluster';
      nodes: HostPort[];
      options: RedisOptions;
      clusterOptions: Omit<ClusterOptions, 'redisOptions'>;
    }
  | { kind: 'instance'; client: Redis | Cluster };

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** What a role needs from its connection; see `createClient`. */
export type ClientRole = 'command' | 'blocking' | 'producer';

/**
 * Exponential backoff with full jitter, capped at 5 s: after a Redis restart many
 * workers reconnect at once, and jitter keeps them from arriving in lockstep.
 */
export function reconnectDelay(attempt: number, baseMs = 50, capMs = 5000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** True for an ioredis Cluster client (Hopper's clients are typed `Redis`; see createClient). */
export function isCluster(client: unknown): boolean {
  return (client as { isCluster?: boolean } | null)?.isCluster === true;
}

function clusterInstance(x: unknown): x is Cluster {
  return isCluster(x);
}

/** Turns the user's `connection` (or REDIS_URL, or the default) into what to open. */
export function parseConnection(connection?: ConnectionOptions): ResolvedConnection {
  const source = connection ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  if (isRestConnection(source))
    throw new ValidationError(
      'connection',
      'this part needs Redis over TCP, not a REST endpoint (see docs/rest.md)',
    );
  if (typeof source === 'string') {
    const parsed = parseRedisUrl(source);
    return parsed.kind === 'cluster' ? { ...parsed, clusterOptions: {} } : parsed;
  }
  if (source instanceof Redis || clusterInstance(source)) return { kind: 'instance', client: source };
  if (typeof source !== 'object' || source === null || Array.isArray(source))
    throw new ValidationError(
      'connection',
      'must be a Redis URL, ioredis options, { cluster: [...] }, or an ioredis Redis or Cluster instance',
    );
  if ('cluster' in source) {
    const c = source as ClusterConnectionOptions;
    if (!Array.isArray(c.cluster) || c.cluster.length === 0)
      throw new ValidationError('connection.cluster', 'must be a non-empty array of { host, port }');
    for (const [i, n] of c.cluster.entries())
      if (typeof n?.host !== 'string' || !Number.isInteger(n?.port))
        throw new ValidationError(`connection.cluster[${i}]`, 'must be { host: string, port: integer }');
    return {
      kind: 'cluster',
      nodes: c.cluster,
      options: { ...c.redisOptions },
      clusterOptions: { ...c.clusterOptions },
    };
  }
  return { kind: 'single', options: { ...(source as RedisOptions) } };
}

/**
 * The per-node ioredis options of a connection (credentials, tls, and host, port and db for
 * a single server), for validation, messages and secret scrubbing.
 */
export function resolveConnection(connection?: ConnectionOptions): RedisOptions {
  const r = parseConnection(connection);
  if (r.kind === 'single') return r.options;
  if (r.kind === 'cluster') return { ...r.options, host: r.nodes[0]!.host, port: r.nodes[0]!.port };
  return nodeOptions(r.client);
}

/** The node options of a client: its own for a Redis, its `redisOptions` for a Cluster. */
export function nodeOptions(client: Redis | Cluster): RedisOptions {
  return clusterInstance(client) ? { ...client.options.redisOptions } : client.options;
}

/** `host:port/db`, `cluster h1:p1,h2:p2` or `sentinel name@s1:p1`, for messages: never the password. */
export function describeConnection(target: RedisOptions | ResolvedConnection | Redis | Cluster): string {
  if (target instanceof Redis || clusterInstance(target))
    return describeConnection({ kind: 'instance', client: target });
  if ('kind' in target && target.kind === 'instance') {
    const c = target.client;
    if (clusterInstance(c)) {
      const seeds = (c as unknown as { startupNodes: (HostPort | string | number)[] }).startupNodes;
      return `cluster ${seeds.map((n) => (typeof n === 'object' ? `${n.host}:${n.port}` : String(n))).join(',')}`;
    }
    return describeConnection(c.options);
  }
  if ('kind' in target && target.kind === 'cluster') {
    const user = target.options.username ? `${target.options.username}@` : '';
    return `cluster ${user}${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  }
  const options = 'kind' in target ? (target.options as RedisOptions) : (target as RedisOptions);
  const user = options.username ? `${options.username}@` : '';
  if (options.sentinels?.length)
    return `sentinel ${user}${options.name}@${options.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}/${options.db ?? 0}`;
  return `${user}${options.host ?? '127.0.0.1'}:${options.port ?? 6379}/${options.db ?? 0}`;
}

/** The password and user name a client sends, to scrub from errors. */
export function clientPassword(client: Redis | Cluster): string {
  return nodeOptions(client).password ?? '';
}

/**
 * One ioredis client for one role. Workers' clients wait through outages
 * (`maxRetriesPerRequest: null`) so a Redis restart never stops them; producers
 * give up on a command after a few reconnect attempts so callers see the outage.
 * `extra` is a part's own settings (connection name, resubscription...).
 *
 * On a Cluster connection the client is an ioredis `Cluster`, returned typed as `Redis`:
 * it has the same commands, scripts and pipelines (whose keys must share a slot, as every
 * Hopper pipeline's do), and code that needs more (SCAN of every master) asks `isCluster`.
 */
export function createClient(
  connection: ConnectionOptions | undefined,
  role: ClientRole,
  extra: RedisOptions = {},
): Redis {
  // The REST transport: same calls, over HTTP (docs/rest.md).
  if (isRestConnection(connection)) return createRestClient(connection as RestConnection, role);
  const resolved = parseConnection(connection);
  const settings: RedisOptions = {
    maxRetriesPerRequest: role === 'producer' ? 3 : null,
    enableReadyCheck: true,
    connectionName: `hopper:${role}`,
    ...extra,
  };
  const retryStrategy = (attempt: number) => reconnectDelay(attempt);
  let client: Redis | Cluster;
  switch (resolved.kind) {
    case 'single':
      client = new Redis({
        retryStrategy,
        ...settings,
        ...resolved.options,
        ...extra,
        // The library's own settings win: they are what the guarantees rest on.
        lazyConnect: false,
      });
      break;
    case 'cluster':
      client = openCluster(resolved.nodes, resolved.clusterOptions, {
        ...settings,
        ...resolved.options,
        ...extra,
      });
      break;
    case 'instance': {
      const source = resolved.client;
      if (clusterInstance(source)) {
        const { redisOptions, ...clusterOptions } = source.options;
        client = openCluster(undefined, clusterOptions, { ...redisOptions, ...settings }, source);
      } else {
        client = source.duplicate({ ...settings, lazyConnect: false });
      }
      break;
    }
  }
  // Errors and 'error' events of this client never carry its password (secret-guard.ts).
  return guardSecrets(client as unknown as Redis);
}

function openCluster(
  nodes: HostPort[] | undefined,
  clusterOptions: Omit<ClusterOptions, 'redisOptions'>,
  redisOptions: RedisOptions,
  source?: Cluster,
): Cluster {
  const { maxRetriesPerRequest, ...node } = redisOptions;
  const options: ClusterOptions = {
    // Keep trying to reach the cluster through an outage: a worker must not give up.
    clusterRetryStrategy: (attempt) => reconnectDelay(attempt, 100, 2000),
    // A failover takes cluster-node-timeout plus an election; retry through it instead of failing.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    maxRedirections: 64,
    enableReadyCheck: true,
    slotsRefreshTimeout: 2000,
    ...clusterOptions,
    lazyConnect: false,
    redisOptions: { ...node, maxRetriesPerRequest },
  };
  return source ? source.duplicate(undefined, options) : new Cluster(nodes!, options);
}
