// Seed 000: wallet-audit events queued with five priorities, a worker pool, and the monitor.
// Run from a checkout: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/000-wallet-audit.ts
import { Priority, Queue, Worker } from 'hopper-queue';

type AuditEvent = keyof typeof Priority;
interface WalletAudit {
  wallet_name: string;
  events: AuditEvent[];
}

const queue = new Queue<WalletAudit>('wallet-audit');
const kinds = Object.keys(Priority) as AuditEvent[];

// The scheduler's side: a wallet's most urgent event sets its priority (5 runs first).
await queue.addBulk(
  Array.from({ length: 50 }, (_, i) => {
    const events = [kinds[i % kinds.length]!];
    const priority = Math.max(...events.map((e) => Priority[e]));
    return { name: 'audit', data: { wallet_name: `wallet_${i}`, events }, opts: { priority, attempts: 3 } };
  }),
);

// The monitor (the seed's queue:monitor): counts per state and their trend.
let last = await queue.getCounts();
const monitor = setInterval(async () => {
  const now = await queue.getCounts();
  const trend = (n: number) => (n >= 0 ? `+${n}` : `${n}`);
  console.log(
    `pending ${now.waiting} (${trend(now.waiting - last.waiting)})  processing ${now.active}  failed ${now.failed}`,
  );
  last = now;
}, 100);

const order: AuditEvent[] = [];
const worker = new Worker<WalletAudit>(
  'wallet-audit',
  async (job) => {
    order.push(job.data.events[0]!);
    await new Promise((r) => setTimeout(r, 5)); // the audit itself
    return { audited: job.data.wallet_name };
  },
  { concurrency: 5 },
);
await new Promise<void>((resolve) => worker.on('drained', () => resolve()));

clearInterval(monitor);
await worker.close();
const counts = await queue.getCounts();
await queue.close();
console.log(
  JSON.stringify({ example: '000', completed: counts.completed, firstTen: [...new Set(order.slice(0, 10))] }),
);
