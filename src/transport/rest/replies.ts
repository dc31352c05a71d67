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

/**
 * ioredis sends numbers as String(n) and Buffers as bytes. The REST protocol's JSON carries
 * text: a Buffer that is UTF-8 text goes as that text, other bytes are refused rather than
 * altered (a cache over REST does not compress for that reason).
 */
function text(v: unknown): string {
  if (!Buffer.isBuffer(v)) return String(v);
  const s = v.toString('utf8');
  if (Buffer.byteLength(s) !== v.length || !Buffer.from(s, 'utf8').equals(v))
    throw new BinaryArgumentError('binary (non-UTF-8) arguments cannot be sent over the REST protocol');
  return s;
}

export class BinaryArgumentError extends Error {
  override name = 'BinaryArgumentError';
}

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
