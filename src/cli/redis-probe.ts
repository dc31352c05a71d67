import { createServer, Socket } from 'node:net';

/**
 * Low-level checks on a Redis port over a raw socket. ioredis is avoided here on
 * purpose: it reconnects and queues commands, while a probe must answer "is a
 * Redis there right now?" once, quickly, and without leaving a client behind.
 */

/** A port that was free a moment ago: the OS picks it for a listener on port 0. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a listening socket'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export type RawReply = { ok: true; text: string } | { ok: false; text: string };

/**
 * Sends one inline command and reads one reply (simple string, error or bulk
 * string, which is all PING and INFO return). Resolves `undefined` when nothing
 * answers within `timeoutMs`: refused, timed out, or not speaking RESP.
 */
export function rawCommand(
  host: string,
  port: number,
  command: string,
  timeoutMs: number,
): Promise<RawReply | undefined> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let buffer = Buffer.alloc(0);
    let done = false;
    // Error, close, timeout and data can each end the probe; only the first counts.
    const finish = (reply: RawReply | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const reply = parseReply(buffer);
      if (reply !== 'incomplete') finish(reply);
    });
    socket.connect(port, host, () => socket.write(`${command}\r\n`));
  });
}

function parseReply(buffer: Buffer): RawReply | undefined | 'incomplete' {
  const lineEnd = buffer.indexOf('\r\n');
  if (lineEnd < 0) return 'incomplete';
  const first = buffer.subarray(1, lineEnd).toString('utf8');
  switch (buffer[0]) {
    case 0x2b: // '+'
      return { ok: true, text: first };
    case 0x2d: // '-'
      return { ok: false, text: first };
    case 0x24: {
      // '$': bulk string of `first` bytes after the header line.
      const length = Number(first);
      if (length < 0) return { ok: true, text: '' };
      const start = lineEnd + 2;
      if (buffer.length < start + length) return 'incomplete';
      return { ok: true, text: buffer.subarray(start, start + length).toString('utf8') };
    }
    default:
      return undefined;
  }
}

/**
 * The pid of the Redis answering on `port`, read from INFO. Comparing it with the
 * pid we spawned tells "our server is up" apart from "another server owns the port".
 */
export async function redisPid(host: string, port: number, timeoutMs: number): Promise<number | undefined> {
  const reply = await rawCommand(host, port, 'INFO server', timeoutMs);
  if (!reply?.ok) return undefined;
  const match = /^process_id:(\d+)\r?$/m.exec(reply.text);
  return match ? Number(match[1]) : undefined;
}

/** What answers on a port: a usable Redis, one that wants a password, or nothing. */
export async function pingRedis(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<'pong' | 'auth-required' | 'no-answer'> {
  const reply = await rawCommand(host, port, 'PING', timeoutMs);
  if (reply === undefined) return 'no-answer';
  if (reply.ok) return reply.text === 'PONG' ? 'pong' : 'no-answer';
  return /^(NOAUTH|WRONGPASS)/.test(reply.text) ? 'auth-required' : 'no-answer';
}
