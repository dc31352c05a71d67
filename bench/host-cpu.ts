/**
 * Busy CPU seconds of the whole machine since boot, from /proc/stat (Linux; undefined elsewhere).
 * Subtracting the child's and redis-server's own CPU over a window leaves what other processes
 * used: the benchmark's noise indicator on a shared machine.
 */
import { readFileSync } from 'node:fs';

const USER_HZ = 100;

export function hostBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    // cpu user nice system idle ...: process time only; irq/softirq (loopback traffic) left out.
    const [, user, nice, system] = line.trim().split(/\s+/).map(Number);
    const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0);
    return Number.isFinite(busy) ? busy / USER_HZ : undefined;
  } catch {
    return undefined;
  }
}
