/**
 * Redis key layout of one namespace: `<prefix>:<namespace>:v:{k:<key>}` holds a value,
 * `<prefix>:<namespace>:l:{k:<key>}` its loader lock. The `v`/`l` segment keeps a user key
 * such as `l:x` from meeting the lock of `x`; namespaces cannot hold `:`, so namespaces
 * cannot meet each other either. The bus channel is `<prefix>:bus`.
 * `<prefix>:<namespace>:t:{t:<tag>}` holds a tag's generation (see tags.ts): its own slot,
 * never touched by a script together with a value, so tags need no cross-slot call.
 * The hash tag `{k:<key>}` puts a value and its lock in one Cluster slot (the scripts use
 * both); `k:` keeps the tag non-empty, and a `}` inside the key ends the tag at the same
 * place in both names, so they still share it.
 */
export class CacheKeys {
  private readonly values: string;
  private readonly locks: string;
  private readonly tags: string;
  readonly channel: string;

  constructor(
    readonly prefix: string,
    readonly namespace: string,
  ) {
    this.values = `${prefix}:${namespace}:v:`;
    this.locks = `${prefix}:${namespace}:l:`;
    this.tags = `${prefix}:${namespace}:t:`;
    this.channel = `${prefix}:bus`;
  }

  value(key: string): string {
    return `${this.values}{k:${key}}`;
  }

  lock(key: string): string {
    return `${this.locks}{k:${key}}`;
  }

  tag(tag: string): string {
    return `${this.tags}{t:${tag}}`;
  }
}

/**
 * A SCAN pattern matching the value and lock keys of every user key starting with
 * `keyPrefix` in `namespace` (and no tag generation): `<prefix>:<ns>:[vl]:{k:<keyPrefix>*`.
 */
export function keyPrefixPattern(prefix: string, namespace: string, keyPrefix: string): string {
  return `${escapeGlob(prefix)}:${escapeGlob(namespace)}:[vl]:{k:${escapeGlob(keyPrefix)}*`;
}

/** A SCAN pattern matching every key of `namespace` and nothing else: glob characters escaped. */
export function namespacePattern(prefix: string, namespace: string): string {
  return `${escapeGlob(prefix)}:${escapeGlob(namespace)}:*`;
}

export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
