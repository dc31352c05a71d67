import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { partitionKeys, readPartitionCounts } from '../queue/partitions/registry.js';
import { isCluster } from '../redis/connection.js';
import {
  parseSpoolReports,
  readSpoolReports,
  type SpoolReport,
  spoolReportsKey,
  summariseSpools,
} from '../spool/report.js';
import { streamKeys } from '../stream/keys.js';
import type { StreamInfo } from '../stream/types.js';
import { requireOptional } from '../util/optional.js';
import { LAST_BUCKET, PER_DOUBLING, upperMs } from './buckets.js';
import { totalKey } from './keys.js';
import { addFields, type Fields, histogram } from './reader.js';
import { sumField } from './tally.js';
import type { Counter, Timing } from './types.js';

export interface PrometheusSources {
  /** Any client on the queues' Redis. */
  client: Redis;
  prefix: string;
  /** The queues to report (a bounded set: configured and registered names). */
  queues: () => Promise<string[]>;
  /** Streams whose length and per-group pending and lag to report. */
  streams: { name: string; info: () => Promise<StreamInfo> }[];
}

/** Prometheus counters: from each queue's all-time metrics hash, so the figures are cluster-wide. */
const COUNTER_METRICS: [Counter, string, string][] = [
  ['added', 'hopper_jobs_added_total', 'Jobs added'],
  ['completed', 'hopper_jobs_completed_total', 'Jobs completed'],
  [
    'failed',
    'hopper_jobs_failed_total',
    'Jobs failed for good (attempts exhausted, unrecoverable or stalled too often)',
  ],
  ['retried', 'hopper_jobs_retried_total', 'Failed attempts that will be retried'],
  ['stalled', 'hopper_jobs_stalled_total', 'Jobs taken back from a worker whose lease lapsed'],
  ['rl_hits', 'hopper_ratelimit_hits_total', 'Job submissions checked by the HTTP rate limit'],
  ['rl_blocked', 'hopper_ratelimit_blocked_total', 'Job submissions refused by the HTTP rate limit'],
];

const HISTOGRAMS: [Timing, string, string][] = [
  ['exec', 'hopper_job_execution_seconds', 'Handler time per attempt'],
  ['wait', 'hopper_job_wait_seconds', 'Time from add to the start of an attempt'],
];

/**
 * The exported buckets: every eighth fine bucket (powers of 4 in µs, from 64 µs to
 * about 3 days), so a queue costs 16 series per histogram, not 160.
 */
const EXPORTED = Array.from({ length: 17 }, (_, j) => 3 * PER_DOUBLING * 2 + j * 2 * PER_DOUBLING).filter(
  (k) => k < LAST_BUCKET,
);

/** The `source` label of every series read from Redis (cluster-wide, the same on every replica). */
export const CLUSTER = 'cluster';

const STATES = ['waiting', 'delayed', 'active', 'completed', 'failed'] as const;

interface Snapshot {
  queues: { name: string; totals: Fields; counts: number[]; spools: SpoolReport[] }[];
  streams: { name: string; info: StreamInfo | undefined; spools: SpoolReport[] }[];
  /** When it was read: the spools' ages are counted to it. */
  at: number;
}

type Labels = Record<string, string | number>;
type Value = { value: number; labels: Labels; metricName?: string };

/**
 * Renders `GET /metrics`: reads every queue's totals and job counts in one pipeline
 * and each stream's XINFO, then lets prom-client format them with its own default
 * process metrics. Labels are queue, state, stream and group names only, never a job id.
 */
export class PrometheusExporter {
  readonly registry: Registry;
  private snapshot: Snapshot = { queues: [], streams: [], at: 0 };

  constructor(
    private readonly sources: PrometheusSources,
    opts: { processMetrics?: boolean } = {},
  ) {
    // prom-client is an optional peer: loaded only by the exporter, with a clear error if absent.
    const prom = requireOptional<typeof import('prom-client')>(
      'prom-client',
      'PrometheusExporter (hopper-queue/prometheus)',
    );
    this.registry = new prom.Registry();
    if (opts.processMetrics !== false) prom.collectDefaultMetrics({ register: this.registry });
    for (const [field, name, help] of COUNTER_METRICS)
      this.metric(name, help, 'counter', (s) =>
        s.queues.map((q) => ({ value: q.totals.get(field) ?? 0, labels: { queue: q.name } })),
      );
    for (const [timing, name, help] of HISTOGRAMS)
      this.metric(name, help, 'histogram', (s) => s.queues.flatMap((q) => histogramValues(name, q, timing)));
    this.metric('hopper_jobs', 'Jobs by state right now', 'gauge', (s) =>
      s.queues.flatMap((q) =>
        STATES.map((state, i) => ({ value: q.counts[i]!, labels: { queue: q.name, state } })),
      ),
    );
    const streamValue = (pick: (i: StreamInfo) => number) => (s: Snapshot) =>
      s.streams.flatMap((st) => (st.info ? [{ value: pick(st.info), labels: { stream: st.name } }] : []));
    this.metric(
      'hopper_stream_length',
      'Entries in the stream',
      'gauge',
      streamValue((i) => i.length),
    );
    this.metric(
      'hopper_stream_dead_letters',
      'Entries in the dead-letter stream',
      'gauge',
      streamValue((i) => i.dead),
    );
    const groupValue = (pick: (g: StreamInfo['groups'][number]) => number | null) => (s: Snapshot) =>
      s.streams.flatMap((st) =>
        (st.info?.groups ?? []).flatMap((g) => {
          const v = pick(g);
          return v === null ? [] : [{ value: v, labels: { stream: st.name, group: g.name } }];
        }),
      );
    this.metric(
      'hopper_stream_pending',
      'Entries delivered to the group, not yet acknowledged',
      'gauge',
      groupValue((g) => g.pending),
    );
    this.metric(
      'hopper_stream_lag',
      'Entries not yet delivered to the group',
      'gauge',
      groupValue((g) => g.lag),
    );
    this.metric(
      'hopper_stream_consumers',
      'Consumers in the group',
      'gauge',
      groupValue((g) => g.consumers),
    );

    // Producers' spools as they report them to Redis (src/spool/report.ts): every producer
    // of the queue or stream, wherever it runs; a producer cut off from Redis cannot report.
    const spoolValue = (pick: (x: ReturnType<typeof summariseSpools>) => number) => (s: Snapshot) => [
      ...s.queues.map((q) => ({ value: pick(summariseSpools(q.spools, s.at)), labels: { queue: q.name } })),
      ...s.streams.map((st) => ({
        value: pick(summariseSpools(st.spools, s.at)),
        labels: { stream: st.name },
      })),
    ];
    this.metric(
      'hopper_producer_spool_depth',
      "Calls held in producers' spools, not yet replayed into Redis, as the producers report them",
      'gauge',
      spoolValue((x) => x.depth),
    );
    this.metric(
      'hopper_producer_spool_oldest_age_seconds',
      "Age of the oldest call held in any producer's spool (0 when none)",
      'gauge',
      spoolValue((x) => x.ageMs / 1000),
    );
    this.metric(
      'hopper_producer_spools',
      'Producers reporting a spool that holds calls',
      'gauge',
      spoolValue((x) => x.producers),
    );
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    const snapshot = await this.read();
    // prom-client calls every metric's get() synchronously inside metrics(), so this snapshot is the one they see.
    this.snapshot = snapshot;
    return this.registry.metrics();
  }

  private async read(): Promise<Snapshot> {
    const names = await this.sources.queues();
    const client = this.sources.client;
    const now = Date.now();
    // A partitioned queue is read partition by partition and reported as one queue (its name):
    // counters, histogram buckets and job counts summed.
    const counts = names.length ? await readPartitionCounts(client, this.sources.prefix) : new Map();
    const reads = names.flatMap((name) =>
      partitionKeys(this.sources.prefix, name, counts).map((k) => ({ name, k })),
    );
    // One pipeline for all queues on one server; on a Cluster a pipeline may not span
    // slots, so one per queue (each queue, each partition, is one slot), sent together.
    const pipelines = isCluster(client) ? reads.map(() => client.pipeline()) : [client.pipeline()];
    reads.forEach(({ k }, i) => {
      pipelines[pipelines.length === 1 ? 0 : i]!.hgetall(totalKey(k.tag))
        .llen(k.wait)
        .zcard(k.waitp)
        .zcard(k.delayed)
        .hlen(k.active)
        .zcard(k.completed)
        .zcard(k.failed)
        .hgetall(spoolReportsKey(k.tag));
    });
    const replies = reads.length
      ? (await Promise.all(pipelines.map(async (p) => (await p.exec()) ?? []))).flat()
      : [];
    for (const [err] of replies) if (err) throw err;
    const v = (i: number) => replies[i]![1];
    const byName = new Map<string, Snapshot['queues'][number]>();
    reads.forEach(({ name }, q) => {
      const at = q * 8;
      let row = byName.get(name);
      if (!row) {
        row = { name, totals: new Map(), counts: [0, 0, 0, 0, 0], spools: [] };
        byName.set(name, row);
      }
      addFields(row.totals, v(at) as Record<string, string>);
      const n = [1, 2, 3, 4, 5, 6].map((i) => Number(v(at + i)));
      [n[0]! + n[1]!, n[2]!, n[3]!, n[4]!, n[5]!].forEach((c, i) => {
        row.counts[i]! += c;
      });
      row.spools.push(...parseSpoolReports(v(at + 7) as Record<string, string>, now));
    });
    const queues = [...byName.values()];
    const streams = await Promise.all(
      this.sources.streams.map(async (s) => ({
        name: s.name,
        info: await s.info().catch(() => undefined),
        spools: await readSpoolReports(client, streamKeys(this.sources.prefix, s.name).tag, now).catch(
          () => [],
        ),
      })),
    );
    return { queues, streams, at: now };
  }

  private metric(
    name: string,
    help: string,
    type: 'counter' | 'gauge' | 'histogram',
    values: (s: Snapshot) => Value[],
  ) {
    // Read from Redis, so every replica exports the same cluster-wide figures: the label marks
    // them so queries take max() over instances, never sum() (docs/metrics.md).
    const get = async () => ({
      name,
      help,
      type,
      values: values(this.snapshot).map((v) => ({ ...v, labels: { ...v.labels, source: CLUSTER } })),
      aggregator: 'max' as const,
    });
    this.registry.registerMetric({ name, help, type, get, reset() {} } as never);
  }
}

function histogramValues(name: string, q: Snapshot['queues'][number], t: Timing): Value[] {
  const counts = histogram(q.totals, t);
  const out: Value[] = [];
  let cumulative = 0;
  let k = 0;
  for (const bound of EXPORTED) {
    for (; k <= bound; k++) cumulative += counts[k]!;
    out.push({
      metricName: `${name}_bucket`,
      value: cumulative,
      labels: { queue: q.name, le: upperMs(bound) / 1000 },
    });
  }
  for (; k < counts.length; k++) cumulative += counts[k]!;
  out.push({ metricName: `${name}_bucket`, value: cumulative, labels: { queue: q.name, le: '+Inf' } });
  out.push({
    metricName: `${name}_sum`,
    value: (q.totals.get(sumField(t)) ?? 0) / 1e6,
    labels: { queue: q.name },
  });
  out.push({ metricName: `${name}_count`, value: cumulative, labels: { queue: q.name } });
  return out;
}
