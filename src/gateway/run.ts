import type { Redis } from 'ioredis';
import type { Argument } from './commands.js';
import { type Encoded, encodeReply } from './encode.js';

/** One command's answer as Upstash sends it. */
export type Outcome = { result: Encoded } | { error: string };

/** An error Redis answered (a ReplyError): the client's fault or the data's, answered 400. */
export const isReplyError = (err: unknown): err is Error => err instanceof Error && err.name === 'ReplyError';

/** Upper case: ioredis reshapes some replies (hgetall) by lower-case name, and Upstash sends them raw. */
const name = (c: Argument[]) => String(c[0]).toUpperCase();

export async function runOne(redis: Redis, command: Argument[], base64: boolean): Promise<Encoded> {
  return encodeReply(await redis.callBuffer(name(command), ...command.slice(1)), base64);
}

/** A pipeline: in order, not atomic; each command's error stays in its own entry. */
export async function runPipeline(redis: Redis, commands: Argument[][], base64: boolean): Promise<Outcome[]> {
  const p = redis.pipeline();
  for (const c of commands) p.callBuffer(name(c), ...c.slice(1));
  return outcomes(await p.exec(), base64);
}

/**
 * MULTI ... EXEC on the shared connection (ioredis writes the block in one piece). A
 * command refused while queueing aborts the whole transaction (EXECABORT): that rejects,
 * and the caller answers 400 with nothing run, as Redis itself does.
 */
export async function runTransaction(
  redis: Redis,
  commands: Argument[][],
  base64: boolean,
): Promise<Outcome[]> {
  const tx = redis.multi();
  for (const c of commands) tx.callBuffer(name(c), ...c.slice(1));
  return outcomes(await tx.exec(), base64);
}

function outcomes(replies: [Error | null, unknown][] | null, base64: boolean): Outcome[] {
  if (!replies) throw new Error('ERR the transaction was aborted');
  return replies.map(([err, value]) =>
    err ? { error: err.message } : { result: encodeReply(value, base64) },
  );
}
