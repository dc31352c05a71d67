// Seed 002: POST a rebalance job over HTTP (202 with its status URL), poll its status,
// read the metrics summary. The API is Hopper's server (hopper-queue/server, needs fastify).
// Run from a checkout: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/002-rebalance-api.ts
import { Worker } from 'hopper-queue';
import { createServer, loadConfig } from 'hopper-queue/server';

const token = process.env.HOPPER_API_TOKENS ?? 'example-token-change-me-0123456789';
const config = loadConfig({
  ...process.env,
  HOPPER_API_TOKENS: token,
  HOPPER_QUEUES: 'rebalance',
  HOPPER_PROCESSOR: 'off',
});
const server = createServer({ ...config, port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
await server.ready();
const base = await server.listen(); // http://127.0.0.1:<port>

const worker = new Worker<{ wallet: string }>('rebalance', async (job) => {
  await job.updateProgress(50);
  return { wallet: job.data.wallet, moved: 3 };
});

const api = (path: string, init?: RequestInit) =>
  fetch(new URL(path, base), {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });

const submitted = await api('/api/v1/queues/rebalance/jobs', {
  method: 'POST',
  body: JSON.stringify({ name: 'rebalance', data: { wallet: 'w1' }, opts: { attempts: 3 } }),
});
const { statusUrl } = (await submitted.json()) as { jobId: string; statusUrl: string };
let status: { state: string; result?: unknown };
do {
  await new Promise((r) => setTimeout(r, 100));
  status = (await (await api(statusUrl)).json()) as typeof status;
} while (status.state !== 'completed' && status.state !== 'failed');

// Counters are written once a second: wait for this job's to land.
await new Promise((r) => setTimeout(r, 1_500));
const { queues } = (await (await api('/api/v1/metrics?days=7')).json()) as {
  queues: Record<string, unknown>;
};

await worker.close();
await server.close();
console.log(
  JSON.stringify({
    example: '002',
    code: submitted.status,
    state: status.state,
    result: status.result,
    metrics: queues.rebalance,
  }),
);
