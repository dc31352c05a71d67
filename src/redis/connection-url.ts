import type { RedisOptions } from 'ioredis';
import { ValidationError } from '../util/errors.js';
import { redactUrl } from './redact.js';

/** One `host:port` of a Cluster seed list or a Sentinel list. */
export interface HostPort {
  host: string;
  port: number;
}

/** What a connection string names: one server (maybe found through Sentinel) or a Cluster. */
export type ParsedUrl =
  | { kind: 'single'; options: RedisOptions }
  | { kind: 'cluster'; nodes: HostPort[]; options: RedisOptions };

const SCHEMES = ['redis:', 'rediss:', 'redis+sentinel:', 'rediss+sentinel:'];

/**
 * Parses the connection strings Hopper accepts:
 * - `redis://[user:pw@]host:port[/db]` (and `rediss://`): one server;
 * - `redis://[user:pw@]h1:p1,h2:p2,...[/0]`: Redis Cluster, the hosts being seeds;
 * - `redis+sentinel://[user:pw@]s1:26379,s2:26379/<master-name>[/db]` (and `rediss+sentinel://`):
 *   Sentinel; the user and password are the data nodes' (sentinels are asked without).
 * The WHATWG URL parser refuses a comma-separated host list, so the authority is split here.
 */
export function parseRedisUrl(source: string): ParsedUrl {
  const bad = (why: string) => new ValidationError('connection', `${why}: ${redactUrl(source)}`);
  const scheme = /^([a-z+]+:)\/\//i.exec(source)?.[1]?.toLowerCase();
  if (!scheme) throw bad('not a valid Redis URL');
  if (!SCHEMES.includes(scheme))
    throw new ValidationError(
      'connection',
      `URL scheme must be redis:// or rediss:// (or redis+sentinel://, rediss+sentinel:// for Sentinel), got ${scheme}`,
    );
  const rest = source.slice(scheme.length + 2);
  const pathAt = rest.search(/[/?#]/);
  const authority = pathAt < 0 ? rest : rest.slice(0, pathAt);
  const path = pathAt < 0 ? '' : rest.slice(pathAt).replace(/[?#].*$/, '');
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at);
  const hosts = parseHosts(
    at < 0 ? authority : authority.slice(at + 1),
    scheme.includes('sentinel') ? 26379 : 6379,
    bad,
  );
  const options: RedisOptions = {};
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    const password = colon < 0 ? '' : userinfo.slice(colon + 1);
    if (user) options.username = decodeComponent(user, 'user name');
    if (password) options.password = decodeComponent(password, 'password');
  }
  if (scheme.startsWith('rediss')) options.tls = {};
  const segments = path.split('/').filter(Boolean);

  if (scheme.includes('sentinel')) {
    const [name, db, ...extra] = segments;
    if (!name || extra.length > 0) throw bad('a Sentinel URL ends in /<master-name>[/db]');
    return {
      kind: 'single',
      options: { ...options, sentinels: hosts, name: decodeComponent(name, 'master name'), db: parseDb(db) },
    };
  }
  if (segments.length > 1) throw bad('the URL path holds at most a database number');
  const db = parseDb(segments[0]);
  if (hosts.length > 1) {
    // Redis Cluster has one database only.
    if (db !== 0)
      throw new ValidationError('connection', 'Redis Cluster has only database 0 (path /0 or none)');
    return { kind: 'cluster', nodes: hosts, options };
  }
  return { kind: 'single', options: { ...options, host: hosts[0]!.host, port: hosts[0]!.port, db } };
}

function parseHosts(list: string, defaultPort: number, bad: (why: string) => Error): HostPort[] {
  if (!list) return [{ host: '127.0.0.1', port: defaultPort }];
  return list.split(',').map((part) => {
    // [v6]:port or host:port or host
    const m = /^(\[[^\]]+\]|[^:[\]]*)(?::(\d+))?$/.exec(part);
    if (!m?.[1]) throw bad('not a valid host list');
    const port = m![2] ? Number(m[2]) : defaultPort;
    if (port < 1 || port > 65535) throw bad('port out of range');
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  });
}

function parseDb(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  const db = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(db))
    throw new ValidationError('connection', 'database in URL path must be an integer');
  return db;
}

/** Percent-decoding; a stray `%` is a typed error that never quotes the value. */
function decodeComponent(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ValidationError(
      'connection',
      `the ${what} in the URL is not valid percent-encoding (write % as %25)`,
    );
  }
}
