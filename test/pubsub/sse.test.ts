import assert from 'node:assert/strict';
import { type ClientRequest, createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Channel } from '../../src/pubsub/index.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { uniqueName, waitFor } from '../helpers/worker-process.js';

requireRedisServer();

const quiet = pino({ level: 'silent' });
let redis: RedisProcess;
let admin: Redis;
let channel: Channel;

before(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  channel = new Channel({ connection: redis.url, logger: quiet });
});

after(async () => {
  await channel?.close();
  admin?.disconnect();
  await redis?.stop();
});

async function numsub(name: string): Promise<number> {
  const reply = (await admin.call('PUBSUB', 'NUMSUB', name)) as [string, number];
  return Number(reply[1]);
}

/** One SSE connection: the raw text received so far, split into events on blank lines. */
class SseClient {
  text = '';
  response: IncomingMessage | undefined;
  readonly req: ClientRequest;

  constructor(url: string) {
    this.req = request(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      this.response = res;
      res.setEncoding('utf8').on('data', (chunk: string) => {
        this.text += chunk;
      });
    });
    this.req.on('error', () => {}); // destroyed on purpose at the end
    this.req.end();
  }

  /** Complete events (blocks ending in a blank line), as field -> value maps; comments under ':'. */
  get events(): Map<string, string>[] {
    const blocks = this.text.split('\n\n').slice(0, -1);
    return blocks.map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        const i = line.indexOf(':');
        const key = line.slice(0, i);
        const value = line.slice(i + 1).trimStart();
        fields.set(key, fields.has(key) ? `${fields.get(key)}\n${value}` : value);
      }
      return fields;
    });
  }

  get messages(): { id: string; event: string; data: unknown }[] {
    return this.events
      .filter((e) => e.has('data'))
      .map((e) => ({ id: e.get('id')!, event: e.get('event')!, data: JSON.parse(e.get('data')!) }));
  }

  close(): void {
    this.req.destroy();
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

describe('SSE bridge', () => {
  test('node:http: events published after connecting arrive with ids; heartbeats; unsubscribed on disconnect', async () => {
    const name = uniqueName('news');
    const server = createServer(channel.sseHandler(name, { heartbeatMs: 100 }));
    const base = await listen(server);
    try {
      const client = new SseClient(`${base}/`);
      await waitFor('subscribed comment', () => client.text.includes(': subscribed'));
      assert.equal(client.response?.statusCode, 200);
      assert.match(String(client.response?.headers['content-type']), /^text\/event-stream/);
      assert.equal(client.response?.headers['cache-control'], 'no-cache, no-transform');
      assert.match(client.text, /^retry: 3000\n/);
      assert.equal(await numsub(`hopper:ch:${name}`), 1);

      await channel.publish(name, { headline: 'one' });
      await channel.publish(name, 'two\nlines'); // JSON escapes the newline: one data line
      await waitFor('two events', () => client.messages.length === 2);
      assert.deepEqual(client.messages, [
        { id: '1', event: 'message', data: { channel: name, message: { headline: 'one' } } },
        { id: '2', event: 'message', data: { channel: name, message: 'two\nlines' } },
      ]);
      await waitFor('two heartbeats', () => client.text.split(': heartbeat\n\n').length > 2, 3000);

      client.close();
      await waitFor('NUMSUB back to 0', async () => (await numsub(`hopper:ch:${name}`)) === 0);
      assert.equal(channel.handlerCount, 0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('Fastify route with a pattern per request: NUMPAT drops when the client leaves; bad channel is a 400', async () => {
    const app = Fastify();
    const base = uniqueName('fx');
    const handler = channel.sseHandler(
      (req) => `${base}.${new URL(req.url ?? '/', 'http://x').searchParams.get('topic') ?? ''}`,
      { pattern: true, heartbeatMs: 60_000 },
    );
    app.get('/events', (request, reply) => {
      reply.hijack(); // Fastify must not answer this request itself: the stream is ours
      handler(request.raw, reply.raw);
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const patternsBefore = Number(await admin.call('PUBSUB', 'NUMPAT'));
      const client = new SseClient(`${url}/events?topic=*`);
      await waitFor('subscribed comment', () => client.text.includes(': subscribed'));
      assert.equal(Number(await admin.call('PUBSUB', 'NUMPAT')), patternsBefore + 1);
      await channel.publish(`${base}.a`, 1);
      await channel.publish(`${base}.b`, 2);
      await waitFor('two events', () => client.messages.length === 2);
      assert.deepEqual(
        client.messages.map((m) => m.data),
        [
          { channel: `${base}.a`, message: 1 },
          { channel: `${base}.b`, message: 2 },
        ],
      );
      client.close();
      await waitFor(
        'NUMPAT back',
        async () => Number(await admin.call('PUBSUB', 'NUMPAT')) === patternsBefore,
      );

      const tooLong = new SseClient(`${url}/events?topic=${'x'.repeat(2000)}`);
      await waitFor('400 answer', () => tooLong.response?.statusCode === 400);
    } finally {
      await app.close();
    }
  });

  test('many clients coming and going leave no subscription or handler behind', async () => {
    const name = uniqueName('churn');
    const server = createServer(channel.sseHandler(name));
    const base = await listen(server);
    try {
      const clients = Array.from({ length: 20 }, () => new SseClient(base));
      // Half leave at once, possibly before their subscription is confirmed.
      for (const c of clients.slice(0, 10)) c.close();
      await waitFor('the rest subscribed', () =>
        clients.slice(10).every((c) => c.text.includes(': subscribed')),
      );
      await channel.publish(name, 'hello');
      await waitFor('all ten got it', () => clients.slice(10).every((c) => c.messages.length === 1));
      for (const c of clients.slice(10)) c.close();
      await waitFor('NUMSUB back to 0', async () => (await numsub(`hopper:ch:${name}`)) === 0);
      await waitFor('no handlers left', () => channel.handlerCount === 0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
