/** Loads only the library under test, so each child process holds one queue library. */
import type { Adapter, LibName } from './types.js';

export async function adapterFor(lib: LibName, url: string): Promise<Adapter> {
  switch (lib) {
    case 'hopper':
      return (await import('./hopper.js')).hopperAdapter(url);
    case 'bullmq':
      return (await import('./bullmq.js')).bullmqAdapter(url);
    case 'bee':
      return (await import('./bee.js')).beeAdapter(url);
  }
}
