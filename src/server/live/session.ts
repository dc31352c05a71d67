import type { WebSocket } from 'ws';
import type { Channel, Unsubscribe } from '../../pubsub/channel.js';
import type { QueueEventName } from '../../queue/events/types.js';
import { ValidationError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { type Caller, isAdmin } from '../auth.js';
import type { JobQueues } from '../queues.js';
import { jobStatus } from '../routes/jobs.js';
import { hasScope, type Scope } from '../tokens.js';
import type { JobWatch } from './job-watch.js';
import { type ClientMessage, parseClientMessage } from './protocol.js';

export interface SessionDeps {
  channel: Channel;
  watch: JobWatch;
  queues: JobQueues;
  caller: Caller;
  /** A client reading slower than updates come is cut once this much waits in its send buffer. */
  maxBuffered: number;
  logger: Logger;
}

const NEEDS: Record<ClientMessage['op'], Scope[]> = {
  subscribe: ['read'],
  unsubscribe: [],
  publish: ['submit'],
  watch: ['submit'],
  unwatch: [],
};

/**
 * One client socket: its channel subscriptions and job watches, all dropped when it closes.
 * Server messages: `{ type: 'message', channel, message, seq }`, `{ type: 'job', event,
 * eventId?, job, final, ref? }` (job: the same body as GET /api/v1/queues/:queue/jobs/:id),
 * `{ type: 'ok', op, ref? }`, `{ type: 'error', error, field?, ref? }`.
 */
export class Session {
  /** Counts messages sent on this socket: a client sees a gap only if the socket was replaced. */
  private seq = 0;
  private readonly subs = new Map<string, Promise<Unsubscribe>>();
  private readonly watches = new Map<string, Promise<() => void>>();
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: SessionDeps,
  ) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.send({ type: 'error', error: 'send text (JSON) messages', field: 'message' });
      this.handle(String(data)).catch((err: Error) =>
        this.send({ type: 'error', error: `could not do it: ${err.message}` }),
      );
    });
    ws.on('close', () => this.dispose());
  }

  private send(body: Record<string, unknown>): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify({ ...body, seq: ++this.seq }));
    // The buffer would only grow: cut the client (it reconnects and re-reads job state).
    if (this.ws.bufferedAmount > this.deps.maxBuffered) this.ws.terminate();
  }

  private async handle(text: string): Promise<void> {
    let m: ClientMessage;
    try {
      m = parseClientMessage(text);
    } catch (err) {
      const e = err as ValidationError;
      return this.send({ type: 'error', error: e.message, field: e.field });
    }
    const ref = m.ref;
    if (!hasScope(this.deps.caller.scopes, NEEDS[m.op]) && NEEDS[m.op].length > 0)
      return this.send({
        type: 'error',
        error: `this token lacks the scope ${m.op} needs (${NEEDS[m.op].join(' or ')})`,
        ref,
      });
    switch (m.op) {
      case 'subscribe': {
        const k = `${m.pattern ? 'p' : 'c'}:${m.channel}`;
        if (!this.subs.has(k)) {
          const sub = this.deps.channel.subscribe(
            m.channel,
            (message, channel) => this.send({ type: 'message', channel, message }),
            { pattern: m.pattern },
          );
          this.subs.set(k, sub);
          try {
            await sub;
          } catch (err) {
            this.subs.delete(k);
            if (err instanceof ValidationError)
              return this.send({ type: 'error', error: err.message, field: 'channel', ref });
            throw err;
          }
        }
        return this.send({ type: 'ok', op: m.op, channel: m.channel, ref });
      }
      case 'unsubscribe': {
        const k = `${m.pattern ? 'p' : 'c'}:${m.channel}`;
        const sub = this.subs.get(k);
        this.subs.delete(k);
        if (sub) await (await sub)();
        return this.send({ type: 'ok', op: m.op, channel: m.channel, ref });
      }
      case 'publish':
        try {
          await this.deps.channel.publish(m.channel, m.message);
        } catch (err) {
          if (err instanceof ValidationError)
            return this.send({ type: 'error', error: err.message, field: err.field, ref });
          throw err;
        }
        return this.send({ type: 'ok', op: m.op, channel: m.channel, ref });
      case 'watch':
        return this.watchJob(m.queue, m.jobId, ref);
      case 'unwatch': {
        const k = `${m.queue}\u0000${m.jobId}`;
        const w = this.watches.get(k);
        this.watches.delete(k);
        if (w) (await w)();
        return this.send({ type: 'ok', op: m.op, queue: m.queue, jobId: m.jobId, ref });
      }
    }
  }

  /**
   * Listens first, then sends the job's state as Redis has it: an update between the two is
   * sent again rather than missed. A client that reconnects (to this server or any other)
   * sends `watch` again and gets the current state at once: nothing is lost across servers.
   */
  private async watchJob(queueName: string, jobId: string, ref: string | undefined): Promise<void> {
    const queue = await this.deps.queues.get(queueName);
    if (!queue)
      return this.send({
        type: 'error',
        error: `no queue ${JSON.stringify(queueName)}`,
        field: 'queue',
        ref,
      });
    const k = `${queueName}\u0000${jobId}`;
    if (!this.watches.has(k)) {
      const w = this.deps.watch.watch(queue, jobId, (event, eventId) => {
        this.pushJob(queueName, jobId, event, eventId, undefined).catch(() => {});
      });
      this.watches.set(k, w);
      try {
        await w;
      } catch (err) {
        this.watches.delete(k);
        throw err;
      }
    }
    await this.pushJob(queueName, jobId, 'snapshot', undefined, ref);
  }

  private async pushJob(
    queueName: string,
    jobId: string,
    event: QueueEventName | 'snapshot',
    eventId: string | undefined,
    ref: string | undefined,
  ): Promise<void> {
    const queue = await this.deps.queues.get(queueName);
    const job = await queue?.getJob(jobId);
    const caller = this.deps.caller;
    // Another token's job answers exactly as a missing one, as the HTTP status route does.
    if (!job || !(isAdmin(caller) || (caller.name !== undefined && job.opts.owner === caller.name))) {
      if (event === 'snapshot' || event === 'removed')
        this.send({ type: 'job', event, eventId, queue: queueName, jobId, job: null, final: true, ref });
      return;
    }
    const body = jobStatus(queueName, job);
    const final = body.state === 'completed' || body.state === 'failed';
    this.send({ type: 'job', event, eventId, queue: queueName, jobId, job: body, final, ref });
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const sub of this.subs.values())
      sub
        .then((off) => off())
        .catch((err) => this.deps.logger.debug({ err: String(err) }, 'ws unsubscribe failed'));
    for (const w of this.watches.values()) w.then((stop) => stop()).catch(() => {});
    this.subs.clear();
    this.watches.clear();
  }
}
