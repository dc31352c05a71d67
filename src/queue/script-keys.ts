import { type QueueKeys, SCRIPT_KEYS } from './keys.js';

const lists = new WeakMap<QueueKeys, string[]>();

/**
 * The KEYS of every queue script: all of the queue's keys in SCRIPT_KEYS order
 * (includes/keys.lua names them), then the script's own extra keys (a worker's
 * replies hash, dedup keys). One list for all scripts means a script and its
 * callers cannot drift apart, and a script may touch any of the queue's keys.
 */
export function scriptKeys(k: QueueKeys, ...extra: string[]): string[] {
  let list = lists.get(k);
  if (!list) {
    list = SCRIPT_KEYS.map((name) => k[name]);
    lists.set(k, list);
  }
  return extra.length === 0 ? list : [...list, ...extra];
}
