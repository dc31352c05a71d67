import { setTimeout as sleep } from 'node:timers/promises';
import { type Handler, type JobOptions, Priority } from '../queue/types.js';

/** Seed 000's model: audit events about crypto wallets, one job per event. */
export type AuditEvent = keyof typeof Priority;

export interface WalletAudit {
  wallet_name: string;
  events: AuditEvent[];
  worker_id: string;
  timestamp: string;
}

export interface DemoJob {
  name: AuditEvent;
  data: WalletAudit;
  opts: JobOptions;
}

/** Routine balance checks dominate; rebalances are rare, as in the seed's traffic. */
const EVENT_WEIGHTS: [AuditEvent, number][] = [
  ['BALANCE_CHECK_REQUIRED', 40],
  ['NEW_BALANCE_UPDATE', 25],
  ['OPEN_ORDER_DETECTED', 15],
  ['OPEN_POSITION_DETECTED', 12],
  ['REBALANCE_NEEDED', 8],
];
const TOTAL_WEIGHT = EVENT_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

function randomEvent(): AuditEvent {
  let pick = Math.random() * TOTAL_WEIGHT;
  for (const [event, weight] of EVENT_WEIGHTS) {
    pick -= weight;
    if (pick < 0) return event;
  }
  return 'BALANCE_CHECK_REQUIRED';
}

const WALLETS = 200;

export function randomAuditJob(): DemoJob {
  const event = randomEvent();
  const wallet = String(1 + Math.floor(Math.random() * WALLETS)).padStart(3, '0');
  return {
    name: event,
    data: {
      wallet_name: `wallet_${wallet}`,
      events: [event],
      worker_id: '1',
      timestamp: new Date().toISOString(),
    },
    // Retries with backoff turn the simulated transient failures into delayed
    // jobs that later complete, which is what the status line should show.
    opts: { priority: Priority[event], attempts: 3, backoff: { type: 'exponential', delay: 200 } },
  };
}

/**
 * Stands in for the real audit: 1-5 ms of async I/O, and a small share of
 * transient failures (an exchange API timing out, say).
 */
export function auditHandler(failureRate: number): Handler<WalletAudit, { audited: string }> {
  return async (job) => {
    await sleep(1 + Math.random() * 4);
    if (Math.random() < failureRate)
      throw new Error(`exchange API timed out auditing ${job.data.wallet_name}`);
    return { audited: job.data.wallet_name };
  };
}
