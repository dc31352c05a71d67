// Seed 001: market data in a memory → Redis → exchange cache, ticker updates over pub/sub,
// and a per-user limit on AI analysis calls. (A Leaderboard is not in Hopper yet.)
// Run from a checkout: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/001-trading-cache.ts
import { Cache, Channel, RateLimiter } from 'hopper-queue';

let exchangeCalls = 0;
const exchange = { ticker: async (symbol: string) => ({ symbol, price: 100 + ++exchangeCalls }) };

// Ticker: 2 s TTL (the seed's table); one exchange call however many readers ask at once.
const market = new Cache({ namespace: 'market', ttl: 2_000 });
const readers = await Promise.all(
  Array.from({ length: 20 }, () => market.getOrSet('ticker:BTCUSDT', () => exchange.ticker('BTCUSDT'))),
);

// Real-time updates: every server instance subscribes; one publishes.
const channel = new Channel();
const received: unknown[] = [];
await channel.subscribe('market.*', (msg) => received.push(msg), { pattern: true });
await channel.publish('market.BTCUSDT', readers[0]);
await new Promise((r) => setTimeout(r, 100));

// AI analysis: at most 3 calls a minute per user, across every instance.
const ai = new RateLimiter({ algorithm: 'sliding-window', limit: 3, window: 60_000 });
const allowed: boolean[] = [];
for (let i = 0; i < 5; i++) allowed.push((await ai.limit('user:42')).allowed);

await Promise.all([market.close(), channel.close(), ai.close()]);
console.log(
  JSON.stringify({
    example: '001',
    exchangeCalls,
    readers: readers.length,
    received: received.length,
    allowed,
  }),
);
