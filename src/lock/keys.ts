export interface LockKeys {
  /** STRING `token:fence`, with the lock's TTL. */
  lock: string;
  /** STRING counter of fencing numbers handed out; never expires. */
  fence: string;
}

/**
 * Both keys of a resource share the hash tag `{prefix:resource}`, so on Redis
 * Cluster they sit in one slot and one script may touch both.
 */
export function lockKeys(prefix: string, resource: string): LockKeys {
  const tag = `{${prefix}:${resource}}`;
  return { lock: tag, fence: `${tag}:fence` };
}

/** The KEYS of each script, in the order its header comment lists them. */
export const lockScriptKeys = {
  acquire: (k: LockKeys) => [k.lock, k.fence],
  renew: (k: LockKeys) => [k.lock],
  release: (k: LockKeys) => [k.lock],
};
