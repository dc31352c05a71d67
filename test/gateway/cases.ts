import { createHash } from 'node:crypto';

/**
 * Commands the conformance suite runs both ways: through `hopper rest-gateway` with the
 * real @upstash/redis client and over TCP with ioredis, each on its own keys (`k(name)`).
 * Deterministic on purpose: explicit stream ids, sorted where Redis does not order.
 */
export type Cmd = (string | number)[];
export type Case = { name: string; commands: (k: (name: string) => string) => Cmd[] };

const LUA_SUM =
  "local t = 0 for i, v in ipairs(ARGV) do t = t + tonumber(v) end redis.call('SET', KEYS[1], t) return {t, redis.call('GET', KEYS[1]), KEYS[1] == nil}";

export const CASES: Case[] = [
  {
    name: 'strings',
    commands: (k) => [
      ['SET', k('s'), 'hello'],
      ['GET', k('s')],
      ['APPEND', k('s'), ' world'],
      ['STRLEN', k('s')],
      ['GETRANGE', k('s'), 0, 4],
      ['SET', k('s'), 'v', 'NX'],
      ['SET', k('n'), 10, 'PX', 100000],
      ['INCR', k('n')],
      ['INCRBY', k('n'), -3],
      ['INCRBYFLOAT', k('n'), '1.5'],
      ['MSET', k('a'), '1', k('b'), '2'],
      ['MGET', k('a'), k('b'), k('missing')],
      ['GETDEL', k('a')],
      ['EXISTS', k('a'), k('b')],
      ['SETNX', k('b'), 'x'],
      ['GET', k('missing')],
      ['SET', k('u'), 'héllo ✓ 日本 "quoted" \\ back'],
      ['GET', k('u')],
      ['SET', k('ok'), 'OK'],
      ['GET', k('ok')],
      ['SET', k('b64'), 'T0s='],
      ['GET', k('b64')],
      ['TYPE', k('s')],
      ['DEL', k('s'), k('b')],
    ],
  },
  {
    name: 'errors',
    commands: (k) => [
      ['SET', k('str'), 'x'],
      ['LPUSH', k('str'), 'a'],
      ['INCR', k('str')],
      ['GET', k('str'), 'extra'],
      ['NOSUCHCOMMAND', 'a'],
      ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', 0],
    ],
  },
  {
    name: 'expiry',
    commands: (k) => [
      ['SET', k('e'), 'v'],
      ['EXPIRE', k('e'), 1000],
      ['PERSIST', k('e')],
      ['TTL', k('e')],
      ['PEXPIRE', k('e'), 100000],
      ['EXPIRE', k('missing'), 10],
    ],
  },
  {
    name: 'hashes',
    commands: (k) => [
      ['HSET', k('h'), 'f1', 'v1', 'f2', '2'],
      ['HGET', k('h'), 'f1'],
      ['HGETALL', k('h')],
      ['HMGET', k('h'), 'f1', 'nope', 'f2'],
      ['HINCRBY', k('h'), 'f2', 5],
      ['HINCRBYFLOAT', k('h'), 'f2', '0.25'],
      ['HEXISTS', k('h'), 'f1'],
      ['HLEN', k('h')],
      ['HKEYS', k('h')],
      ['HVALS', k('h')],
      ['HSETNX', k('h'), 'f1', 'x'],
      ['HDEL', k('h'), 'f1', 'nope'],
      ['HGETALL', k('missing')],
    ],
  },
  {
    name: 'lists',
    commands: (k) => [
      ['RPUSH', k('l'), 'a', 'b', 'c'],
      ['LPUSH', k('l'), 'z'],
      ['LRANGE', k('l'), 0, -1],
      ['LLEN', k('l')],
      ['LINDEX', k('l'), 1],
      ['LPOP', k('l')],
      ['RPOP', k('l'), 2],
      ['LINSERT', k('l'), 'BEFORE', 'a', 'q'],
      ['LREM', k('l'), 0, 'q'],
      ['LMOVE', k('l'), k('l2'), 'LEFT', 'RIGHT'],
      ['LRANGE', k('l2'), 0, -1],
      ['LPOP', k('empty')],
    ],
  },
  {
    name: 'sets',
    commands: (k) => [
      ['SADD', k('s1'), 'a', 'b', 'c'],
      ['SADD', k('s2'), 'b', 'c', 'd'],
      ['SISMEMBER', k('s1'), 'a'],
      ['SMISMEMBER', k('s1'), 'a', 'x'],
      ['SCARD', k('s1')],
      ['SINTERSTORE', k('s3'), k('s1'), k('s2')],
      ['SREM', k('s1'), 'a', 'x'],
      ['SMOVE', k('s1'), k('s2'), 'b'],
      ['SCARD', k('s2')],
    ],
  },
  {
    name: 'sorted sets',
    commands: (k) => [
      ['ZADD', k('z'), 1, 'a', 2.5, 'b', 3, 'c'],
      ['ZSCORE', k('z'), 'b'],
      ['ZRANGE', k('z'), 0, -1, 'WITHSCORES'],
      ['ZRANGEBYSCORE', k('z'), '(1', '+inf'],
      ['ZREVRANGE', k('z'), 0, 1],
      ['ZINCRBY', k('z'), 10, 'a'],
      ['ZRANK', k('z'), 'a'],
      ['ZCARD', k('z')],
      ['ZCOUNT', k('z'), 0, 5],
      ['ZMSCORE', k('z'), 'a', 'nope'],
      ['ZPOPMIN', k('z')],
      ['ZREM', k('z'), 'c'],
      ['ZADD', k('z'), 'NX', 'CH', 9, 'a', 1, 'x'],
      ['ZRANGE', k('z'), 0, -1, 'WITHSCORES'],
    ],
  },
  {
    name: 'streams',
    commands: (k) => [
      ['XADD', k('x'), '1-1', 'f', 'v1'],
      ['XADD', k('x'), '2-1', 'f', 'v2', 'g', 'w'],
      ['XADD', k('x'), 'MAXLEN', '=', 10, '3-1', 'f', 'v3'],
      ['XLEN', k('x')],
      ['XRANGE', k('x'), '-', '+'],
      ['XREVRANGE', k('x'), '+', '-', 'COUNT', 1],
      ['XGROUP', 'CREATE', k('x'), 'g1', '0'],
      ['XREADGROUP', 'GROUP', 'g1', 'c1', 'COUNT', 2, 'STREAMS', k('x'), '>'],
      ['XACK', k('x'), 'g1', '1-1'],
      ['XPENDING', k('x'), 'g1'],
      ['XREAD', 'COUNT', 1, 'STREAMS', k('x'), '1-1'],
      ['XDEL', k('x'), '2-1'],
      ['XTRIM', k('x'), 'MAXLEN', 1],
      ['XADD', k('x'), '1-0', 'f', 'old'],
    ],
  },
  {
    name: 'scripts',
    commands: (k) => [
      ['EVAL', LUA_SUM, 1, k('sum'), 1, 2, 3],
      ['SCRIPT', 'LOAD', LUA_SUM],
      ['EVALSHA', createHash('sha1').update(LUA_SUM).digest('hex'), 1, k('sum2'), 4, 5],
      ['EVAL', "return {1, 'two', {3, 'four'}, false, redis.status_reply('FINE')}", 0],
      ['EVAL', "return redis.error_reply('MYERR custom')", 0],
      ['EVAL', "return redis.call('INCR', KEYS[1])", 1, k('sum')],
      ['SCRIPT', 'EXISTS', 'ffffffffffffffffffffffffffffffffffffffff'],
    ],
  },
  {
    name: 'misc',
    commands: (k) => [
      ['PING'],
      ['ECHO', 'hi'],
      ['SET', k('m'), '1'],
      ['RENAME', k('m'), k('m2')],
      ['EXISTS', k('m'), k('m2')],
      ['UNLINK', k('m2')],
      ['PUBLISH', k('chan'), 'msg'],
    ],
  },
];
