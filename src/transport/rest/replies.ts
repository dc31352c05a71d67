/** Arguments as ioredis takes them: arrays flattened, an object or Map as field, value pairs (hset, mset). */
export function flattenArgs(args: readonly unknown[]): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) add(x);
    else if (v instanceof Map) for (const [k, x] of v) out.push(String(k), text(x));
    else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v))
      for (const [k, x] of Object.entries(v)) out.push(k, text(x));
    else out.push(text(v));
  };
  for (const a of args) add(a);
  return out;
}

/** ioredis sends numbers as String(n) and Buffers as bytes; JSON carries text, so Buffers go as UTF-8. */
const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

/** The reply shapes ioredis gives that differ from the raw reply (RESP2): HGETALL as an object. */
export function transformReply(command: string, reply: unknown): unknown {
  if (command === 'hgetall' && Array.isArray(reply)) {
    const obj: Record<string, unknown> = {};
    for (let i = 0; i < reply.length; i += 2)
      // defineProperty: a field named __proto__ stays a field (as in ioredis).
      Object.defineProperty(obj, String(reply[i]), {
        value: reply[i + 1],
        configurable: true,
        enumerable: true,
        writable: true,
      });
    return obj;
  }
  return reply;
}
