/**
 * Callers waiting for another process's loader. A bus message for the key wakes them at
 * once; the timeout is their polling interval, for a missed message or a dead holder.
 */
export class Waiters {
  private readonly byKey = new Map<string, Set<() => void>>();

  wait(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.byKey.get(key);
      if (!set) {
        set = new Set();
        this.byKey.set(key, set);
      }
      const done = () => {
        clearTimeout(timer);
        const s = this.byKey.get(key);
        s?.delete(done);
        if (s?.size === 0) this.byKey.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  wake(key: string): void {
    const set = this.byKey.get(key);
    if (set) for (const done of [...set]) done();
  }

  wakeAll(): void {
    for (const key of [...this.byKey.keys()]) this.wake(key);
  }
}
