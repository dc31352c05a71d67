/**
 * Redis replies (from ioredis `callBuffer`: Buffers, numbers, null, arrays, errors) as
 * the JSON Upstash's REST API sends. With `Upstash-Encoding: base64` every string is
 * base64 except a plain "OK" (what the Upstash clients expect, and how binary values
 * survive JSON); without it, strings are UTF-8 text.
 */
export type Encoded = string | number | null | Encoded[];

export function encodeReply(value: unknown, base64: boolean): Encoded {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (Buffer.isBuffer(value)) {
    if (!base64) return value.toString('utf8');
    return value.length === 2 && value[0] === 0x4f && value[1] === 0x4b ? 'OK' : value.toString('base64');
  }
  if (typeof value === 'string') {
    if (!base64 || value === 'OK') return value;
    return Buffer.from(value, 'utf8').toString('base64');
  }
  if (Array.isArray(value)) return value.map((v) => encodeReply(v, base64));
  // An error inside an array reply (a script's error table): its message, as text.
  if (value instanceof Error) return encodeReply(value.message, base64);
  // ioredis turns some replies into objects even for callBuffer (HGETALL in lower case):
  // back to the flat [field, value, ...] array Redis sent.
  if (value instanceof Map) return [...value].flat().map((v) => encodeReply(v, base64));
  if (typeof value === 'object')
    return Object.entries(value)
      .flat()
      .map((v) => encodeReply(v, base64));
  return encodeReply(String(value), base64);
}
