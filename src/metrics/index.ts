export { BUCKETS, bucketOf, lowerMs, quantile, upperMs } from './buckets.js';
export { type MetricKeys, metricKeys } from './keys.js';
export { type MetricsConfig, metricsConfig } from './options.js';
// PrometheusExporter: hopper-queue/prometheus (src/entry/prometheus.ts), as it needs prom-client.
export { type ReadMetricsOptions, readMetrics, readTotals } from './reader.js';
export { MetricsRecorder } from './recorder.js';
export type { Counter, FailedJobRecord, MetricsOptions, QueueMetrics, TimingSummary } from './types.js';
