import { crc32 } from 'node:zlib';

/** Bytes before each record's body: its length and its CRC32, both little-endian u32. */
export const HEADER_BYTES = 8;

/** One record as it lies on disk: length, CRC32 of the body, body. */
export function encodeFrame(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  body.copy(out, HEADER_BYTES);
  return out;
}

/**
 * Reads the frame at `at`: its body and where the next begins; 'short' when the buffer
 * ends inside it (a torn write at the tail, or a buffer cut short); 'bad' when its CRC
 * does not match or its length is impossible (corruption).
 */
export function decodeFrame(
  buf: Buffer,
  at: number,
  maxBody: number,
): { body: Buffer; next: number } | 'short' | 'bad' {
  if (buf.length - at < HEADER_BYTES) return 'short';
  const len = buf.readUInt32LE(at);
  if (len > maxBody) return 'bad';
  const end = at + HEADER_BYTES + len;
  if (end > buf.length) return 'short';
  const body = buf.subarray(at + HEADER_BYTES, end);
  if (crc32(body) !== buf.readUInt32LE(at + 4)) return 'bad';
  return { body, next: end };
}
