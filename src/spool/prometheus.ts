import type { Registry } from 'prom-client';
import type { SpoolStats } from './producer.js';

/** A spool to report: the queue or stream it belongs to and its stats (null: none). */
export interface SpoolSource {
  kind: 'queue' | 'stream';
  name: string;
  stats: () => SpoolStats | null;
}

const GAUGES: [string, string, (s: SpoolStats) => number][] = [
  [
    'hopper_spool_depth',
    "Calls held in this process's producer spool, not yet replayed into Redis",
    (s) => s.depth,
  ],
  ['hopper_spool_bytes', "Bytes of this process's producer spool on disk", (s) => s.bytes],
  [
    'hopper_spool_age_seconds',
    'Age of the oldest call in the producer spool (0 when empty)',
    (s) => s.ageMs / 1000,
  ],
  [
    'hopper_spool_spooling',
    '1 while calls go to the spool (Redis does not answer), else 0',
    (s) => (s.state === 'spooling' ? 1 : 0),
  ],
];

/**
 * Registers the spool gauges on a prom-client registry. They are this process's own
 * (a spool is local), so they carry `source="local"` and add up across instances.
 */
export function registerSpoolGauges(registry: Registry, sources: () => SpoolSource[]): void {
  for (const [name, help, pick] of GAUGES) {
    const get = async () => ({
      name,
      help,
      type: 'gauge',
      aggregator: 'sum' as const,
      values: sources().flatMap((src) => {
        const s = src.stats();
        return s ? [{ value: pick(s), labels: { [src.kind]: src.name, source: 'local' } }] : [];
      }),
    });
    registry.registerMetric({ name, help, type: 'gauge', get, reset() {} } as never);
  }
}
