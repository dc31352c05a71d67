import { type Job, Queue, Worker, type WorkerOptions } from '../../src/index.js';
import { RedisFixture } from './redis-fixture.js';
import { quiet, uniqueName } from './worker-process.js';

/** RedisFixture with queues and workers on its server, each closed by the fixture. */
export class QueueFixture extends RedisFixture {
  queue(label: string): Queue {
    return this.track(new Queue(uniqueName(label), { connection: this.connection }));
  }

  /** A silent worker on `q` (pass `logger` in `opts` to hear it). */
  worker<D>(q: Queue, handler: (job: Job<D>) => unknown, opts: WorkerOptions = {}): Worker<D> {
    return this.track(
      new Worker<D>(q.name, handler, { connection: this.connection, logger: quiet, ...opts }),
    );
  }
}
