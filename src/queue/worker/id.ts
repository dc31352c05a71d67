import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A worker's id, `host:pid:<64 hex>` (the console reads host and pid from it). 32 random
 * bytes make every lease value longer than Redis's hash-max-listpack-value (64), so
 * `active` is always a real hash table with O(1) lookups, never a listpack scanned field
 * by field.
 */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(32).toString('hex')}`;
}
