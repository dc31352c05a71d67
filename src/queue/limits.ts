import type { Redis } from 'ioredis';
import { callScript } from '../redis/scripts.js';
import type { QueueKeys } from './keys.js';
import { scriptKeys } from './script-keys.js';
import type { GroupLimits, QueueLimits, RateLimit } from './types.js';
import { validateGroup, validateGroupLimits, validateQueueLimits } from './validate.js';

/** meta fields of each limit (see keys.ts); fetch.lua reads them on every call. */
const FIELDS = {
  concurrency: 'conc',
  rate: ['rmax', 'rdur'],
  groupConcurrency: 'gconc',
  groupRate: ['grmax', 'grdur'],
} as const;

/**
 * Stores the queue's limits. Fields left out keep their value; `null` removes a
 * limit. Idle workers are woken so that a raised limit applies at once.
 */
export async function writeLimits(client: Redis, k: QueueKeys, limits: QueueLimits): Promise<void> {
  validateQueueLimits(limits);
  const set: string[] = [];
  const del: string[] = [];
  const conc = (field: string, v: number | null | undefined) => {
    if (v === null) del.push(field);
    else if (v !== undefined) set.push(field, String(v));
  };
  const rate = ([max, dur]: readonly [string, string], v: RateLimit | null | undefined) => {
    if (v === null) del.push(max, dur);
    else if (v !== undefined) set.push(max, String(v.max), dur, String(v.duration));
  };
  conc(FIELDS.concurrency, limits.concurrency);
  rate(FIELDS.rate, limits.rate);
  if (limits.group === null) del.push(FIELDS.groupConcurrency, ...FIELDS.groupRate);
  else if (limits.group) {
    conc(FIELDS.groupConcurrency, limits.group.concurrency);
    rate(FIELDS.groupRate, limits.group.rate);
  }
  const tx = client.multi();
  if (set.length) tx.hset(k.meta, ...set);
  if (del.length) tx.hdel(k.meta, ...del);
  tx.lpush(k.signal, ...Array(8).fill('1')).ltrim(k.signal, 0, 7);
  await tx.exec();
}

export async function readLimits(client: Redis, k: QueueKeys): Promise<QueueLimits> {
  const [conc, rmax, rdur, gconc, grmax, grdur] = await client.hmget(
    k.meta,
    'conc',
    'rmax',
    'rdur',
    'gconc',
    'grmax',
    'grdur',
  );
  const out: QueueLimits = {};
  if (conc) out.concurrency = Number(conc);
  if (rmax) out.rate = { max: Number(rmax), duration: Number(rdur) };
  if (gconc || grmax) {
    out.group = {};
    if (gconc) out.group.concurrency = Number(gconc);
    if (grmax) out.group.rate = { max: Number(grmax), duration: Number(grdur) };
  }
  return out;
}

/**
 * Pause, resume, or set one group's own limits (configure-group.lua). Resolves with the
 * script's reply: for 'pause', how many workers hold a lease.
 */
export async function configureGroup(
  client: Redis,
  k: QueueKeys,
  group: string,
  action: 'pause' | 'resume' | 'limit',
  limits?: GroupLimits | null,
): Promise<number> {
  validateGroup('group', group);
  let spec = '';
  if (action === 'limit') {
    const l = limits === null ? {} : validateGroupLimits('limits', limits);
    spec = `${l.concurrency ?? ''},${l.rate?.max ?? ''},${l.rate?.duration ?? ''}`;
  }
  return callScript<number>(client, 'configure-group', scriptKeys(k), [group, action, spec]);
}

/** What one group holds now. */
export interface GroupCounts {
  waiting: number;
  active: number;
  paused: boolean;
  limits: GroupLimits;
}

export async function readGroup(client: Redis, k: QueueKeys, group: string): Promise<GroupCounts> {
  validateGroup('group', group);
  const [[waiting, active, paused], own] = await Promise.all([
    client.hmget(k.gcount, `w:${group}`, `a:${group}`, `p:${group}`),
    client.hget(k.gconf, `limit:${group}`),
  ]);
  const limits: GroupLimits = {};
  if (own) {
    const [c, m, d] = own.split(',');
    if (c) limits.concurrency = Number(c);
    if (m) limits.rate = { max: Number(m), duration: Number(d) };
  }
  return { waiting: Number(waiting ?? 0), active: Number(active ?? 0), paused: paused !== null, limits };
}
