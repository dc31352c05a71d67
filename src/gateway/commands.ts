/**
 * Which commands the gateway runs. Three kinds are never run on the shared connection:
 * ones that change its state (SELECT, AUTH, MULTI...), ones that block it (BLPOP, XREAD
 * BLOCK...), and ones that turn it into something else (SUBSCRIBE, MONITOR). Dangerous
 * ones (whole-database or server-wide) are refused unless the operator allows them.
 */

/** Refused unless allowed (`HOPPER_GATEWAY_ALLOW=KEYS,FLUSHDB`); a two-word entry names a subcommand. */
export const DANGEROUS = [
  'FLUSHALL',
  'FLUSHDB',
  'CONFIG',
  'KEYS',
  'SHUTDOWN',
  'DEBUG',
  'SCRIPT FLUSH',
  'SCRIPT KILL',
  'FUNCTION FLUSH',
  'FUNCTION DELETE',
  'FUNCTION RESTORE',
  'FUNCTION KILL',
  'CLIENT',
  'ACL',
  'MODULE',
  'SAVE',
  'BGSAVE',
  'BGREWRITEAOF',
  'REPLICAOF',
  'SLAVEOF',
  'MIGRATE',
  'SWAPDB',
  'CLUSTER',
  'FAILOVER',
  'SLOWLOG',
  'LATENCY',
  'MEMORY',
  'LASTSAVE',
] as const;

/** Never run: they would change or hold the connection every request shares. */
const CONNECTION_STATE = new Set([
  'SELECT',
  'AUTH',
  'HELLO',
  'QUIT',
  'RESET',
  'MULTI',
  'EXEC',
  'DISCARD',
  'WATCH',
  'UNWATCH',
  'SUBSCRIBE',
  'PSUBSCRIBE',
  'SSUBSCRIBE',
  'UNSUBSCRIBE',
  'PUNSUBSCRIBE',
  'SUNSUBSCRIBE',
  'MONITOR',
  'SYNC',
  'PSYNC',
  'READONLY',
  'READWRITE',
  'CLIENT',
]);

const BLOCKING = new Set([
  'BLPOP',
  'BRPOP',
  'BRPOPLPUSH',
  'BLMOVE',
  'BLMPOP',
  'BZPOPMIN',
  'BZPOPMAX',
  'BZMPOP',
  'WAIT',
  'WAITAOF',
]);

export type Argument = string | number | Buffer;

/** Returns why `command` may not run, or undefined if it may. */
export function refusal(command: readonly Argument[], allowed: ReadonlySet<string>): string | undefined {
  const name = String(command[0] ?? '').toUpperCase();
  const sub = command.length > 1 ? `${name} ${String(command[1]).toUpperCase()}` : name;
  const dangerous = (DANGEROUS as readonly string[]).includes(sub)
    ? sub
    : (DANGEROUS as readonly string[]).includes(name)
      ? name
      : undefined;
  if (dangerous && !allowed.has(dangerous) && !allowed.has(name))
    return `ERR command '${dangerous}' is refused by this gateway (an operator may allow it with HOPPER_GATEWAY_ALLOW)`;
  if (dangerous) return undefined;
  if (CONNECTION_STATE.has(name))
    return `ERR command '${name}' is not available over REST (it would change the shared connection); use /multi-exec for transactions`;
  if (BLOCKING.has(name) || ((name === 'XREAD' || name === 'XREADGROUP') && hasBlock(command)))
    return `ERR blocking command '${name}' is not available over REST: poll instead`;
  return undefined;
}

function hasBlock(command: readonly Argument[]): boolean {
  for (let i = 1; i < command.length; i++) {
    const a = String(command[i]).toUpperCase();
    if (a === 'STREAMS') return false;
    if (a === 'BLOCK') return true;
  }
  return false;
}

/** `KEYS,script flush` → a set of upper-case names; unknown names are a typed error upstream. */
export function parseAllowList(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((s) => s.trim().replace(/\s+/g, ' ').toUpperCase())
      .filter((s) => s.length > 0),
  );
}
