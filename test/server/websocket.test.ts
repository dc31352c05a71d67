import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { Worker } from '../../src/index.js';
import { createServer, type HopperServer } from '../../src/server/index.js';
import { WS_PROTOCOL } from '../../src/server/live/websocket.js';
import { type RedisProcess, requireRedisServer, startRedis } from '../helpers/redis-server.js';
import { unique } from '../stream/helpers.js';
import { capturingLogger, TOKEN, testConfig } from './helpers.js';

// WebSocket updates on `hopper serve`: channel messages and job status, the HTTP API's tokens
// and scopes, bounded messages, keepalive, close on shutdown, and sessions that carry over
// from one server to another (both on one Redis).
requireRedisServer();
const READER = 'reader-token-0123456789abcdef';
const SUBMITTER = 'submitter-token-0123456789abcdef';
let redis: RedisProcess;
const open: { close(): Promise<void> }[] = [];
const queue = unique('ws-jobs');

before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const o of open.reverse()) await o.close().catch(() => {});
  await redis.stop();
});

async function serve(): Promise<{ s: HopperServer; ws: string; http: string }> {
  const base = testConfig(redis.url, { processor: false, queues: [queue], submitLimit: 10_000 });
  const s = createServer(
    {
      ...base,
      websocket: 'on',
      wsMaxMessage: 1024,
      wsPingInterval: 200,
      tokens: [
        ...base.tokens,
        { name: 'reader', secret: READER, scopes: ['read'] },
        { name: 'submitter', secret: SUBMITTER, scopes: ['submit'] },
      ],
    },
    { logger: capturingLogger().logger },
  );
  open.push(s);
  await s.ready();
  const http = await s.listen();
  return { s, http, ws: `${http.replace(/^http/, 'ws')}/api/v1/ws` };
}

type Msg = Record<string, unknown> & { type: string };

/** A client keeping every message, with a wait for the next one matching. */
class Client {
  readonly messages: Msg[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { match: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as Msg;
      this.messages.push(m);
      for (const w of [...this.waiters])
        if (w.match(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
    });
    this.closed = new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
  }
  static async open(url: string, token = TOKEN, viaProtocol = false): Promise<Client> {
    const ws = viaProtocol
      ? new WebSocket(url, [WS_PROTOCOL, `hopper.token.${Buffer.from(token).toString('base64url')}`])
      : new WebSocket(url, WS_PROTOCOL, { headers: { authorization: `Bearer ${token}` } });
    const c = new Client(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return c;
  }
  send(body: unknown): void {
    this.ws.send(JSON.stringify(body));
  }
  next(match: (m: Msg) => boolean, ms = 5_000): Promise<Msg> {
    const seen = this.messages.find(match);
    if (seen) {
      this.messages.splice(this.messages.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no matching message in ${ms} ms: ${JSON.stringify(this.messages)}`)),
        ms,
      );
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(t);
          this.messages.splice(this.messages.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }
}

test('a client on server A sees a message published via server B; job status carries over when A closes', async () => {
  const a = await serve();
  const b = await serve();
  const onA = await Client.open(a.ws);
  const onB = await Client.open(b.ws, TOKEN, true); // token as a subprotocol, as a browser sends it
  onA.send({ op: 'subscribe', channel: 'prices.*', pattern: true, ref: 's1' });
  await onA.next((m) => m.type === 'ok' && m.ref === 's1');
  onB.send({ op: 'publish', channel: 'prices.btc', message: { bid: 101 }, ref: 'p1' });
  await onB.next((m) => m.type === 'ok' && m.ref === 'p1');
  const got = await onA.next((m) => m.type === 'message');
  assert.deepEqual([got.channel, got.message], ['prices.btc', { bid: 101 }]);

  // A job submitted over HTTP to B, watched on A.
  const res = await fetch(`${b.http}/api/v1/queues/${queue}/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'rebalance', data: { wallet: 'w1' } }),
  });
  const { jobId } = (await res.json()) as { jobId: string };
  onA.send({ op: 'watch', queue, jobId, ref: 'w1' });
  const first = await onA.next((m) => m.type === 'job' && m.ref === 'w1');
  assert.equal((first.job as { state: string }).state, 'waiting');
  assert.equal(first.final, false);

  // Server A goes away: its clients get 1001 and reconnect elsewhere.
  const closedA = a.s.close();
  assert.equal((await onA.closed).code, 1001);
  await closedA;
  const again = await Client.open(b.ws);
  again.send({ op: 'watch', queue, jobId, ref: 'w2' });
  assert.equal(((await again.next((m) => m.ref === 'w2')).job as { state: string }).state, 'waiting');
  // The job runs meanwhile; the reconnected client gets the final status with the result.
  const worker = new Worker(queue, async () => ({ done: true }), { connection: redis.url });
  open.push(worker);
  const done = await again.next((m) => m.type === 'job' && m.final === true);
  assert.equal((done.job as { state: string }).state, 'completed');
  assert.deepEqual((done.job as { result: unknown }).result, { done: true });
  // Missed nothing: a client that reconnects only after the job finished gets the final state at once.
  const late = await Client.open(b.ws);
  late.send({ op: 'watch', queue, jobId, ref: 'w3' });
  const snap = await late.next((m) => m.ref === 'w3');
  assert.equal(snap.final, true);
  for (const c of [onB, again, late]) c.ws.close();
  await worker.close(); // the SSE test's job is for its own worker
});

test('auth and scopes as on the HTTP API; bad and oversized messages', async () => {
  const { ws } = await serve();
  await assert.rejects(Client.open(ws, 'wrong-token-0123456789abcdef'), /HTTP 401/);
  await assert.rejects(
    new Promise((resolve, reject) => {
      const s = new WebSocket(ws);
      s.once('open', resolve);
      s.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
    }),
    /HTTP 401/,
  );
  const reader = await Client.open(ws, READER);
  reader.send({ op: 'publish', channel: 'x', message: 1, ref: 'r1' });
  assert.match(String((await reader.next((m) => m.ref === 'r1')).error), /lacks the scope.*submit/);
  reader.send({ op: 'watch', queue, jobId: '1', ref: 'r2' });
  assert.match(String((await reader.next((m) => m.ref === 'r2')).error), /lacks the scope/);
  reader.send({ op: 'subscribe', channel: 'news', ref: 'r3' });
  assert.equal((await reader.next((m) => m.ref === 'r3')).type, 'ok');
  // Bad input: an error naming the field; the socket stays open.
  reader.send({ op: 'dance' });
  assert.equal((await reader.next((m) => m.type === 'error' && m.field === 'op')).type, 'error');
  reader.ws.send('not json');
  assert.equal((await reader.next((m) => m.field === 'message')).type, 'error');
  reader.send({ op: 'subscribe', channel: '' });
  assert.equal((await reader.next((m) => m.field === 'channel')).type, 'error');
  // Over wsMaxMessage (1 KiB here): closed with 1009.
  reader.send({ op: 'publish', channel: 'x', message: 'y'.repeat(2000) });
  assert.equal((await reader.closed).code, 1009);
});

test('keepalive: a client that stops answering pings is cut', async () => {
  const { ws } = await serve();
  // autoPong off: the socket no longer answers the server's pings.
  const raw = new WebSocket(ws, WS_PROTOCOL, {
    headers: { authorization: `Bearer ${TOKEN}` },
    autoPong: false,
  });
  const c = new Client(raw);
  await new Promise((r) => raw.once('open', r));
  const t0 = Date.now();
  const { code } = await c.closed;
  assert.equal(code, 1006, 'terminated, no close frame');
  assert.ok(Date.now() - t0 < 3_000, `${Date.now() - t0} ms`);
});

test("job status over SSE: the state at once, each change, ends after the final one; another token's job is a 404", async () => {
  const { http } = await serve();
  const res = await fetch(`${http}/api/v1/queues/${queue}/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'sse', data: {}, opts: { delay: 300 } }),
  });
  const { jobId } = (await res.json()) as { jobId: string };
  const url = `${http}/api/v1/queues/${queue}/jobs/${jobId}/events`;
  // A submit-only token sees its own jobs only (TOKEN is an admin: the old plain form).
  const other = await fetch(url, { headers: { authorization: `Bearer ${SUBMITTER}` } });
  assert.equal(other.status, 404);
  await other.text();
  const reader = await fetch(url, { headers: { authorization: `Bearer ${READER}` } });
  assert.equal(reader.status, 403);
  await reader.text();
  const sse = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(sse.status, 200);
  assert.match(sse.headers.get('content-type') ?? '', /text\/event-stream/);
  const worker = new Worker(queue, async () => 'ok', { connection: redis.url });
  open.push(worker);
  // The stream ends by itself after the final state.
  const text = await sse.text();
  const states = [...text.matchAll(/^data: (.*)$/gm)].map(
    (m) => (JSON.parse(m[1]!) as { state: string }).state,
  );
  assert.equal(states[0], 'delayed');
  assert.equal(states.at(-1), 'completed');
  assert.match(text, /"result":"ok"/);
});
