export * from './cache/index.js';
export * from './lock/index.js';
export {
  type FailedJobRecord,
  type MetricsOptions,
  PrometheusExporter,
  type PrometheusSources,
  type QueueMetrics,
  type ReadMetricsOptions,
  readMetrics,
  type TimingSummary,
} from './metrics/index.js';
export * from './pubsub/index.js';
export { Queue } from './queue/queue.js';
export type {
  BackoffOptions,
  Handler,
  Job,
  JobCounts,
  JobError,
  JobInfo,
  JobOptions,
  JobState,
  QueueOptions,
  RetentionOptions,
  WorkerOptions,
} from './queue/types.js';
export { MAX_PRIORITY, Priority } from './queue/types.js';
export { Worker } from './queue/worker/worker.js';
export * from './ratelimit/index.js';
export type { ConnectionOptions } from './redis/connection.js';
export {
  createServer,
  type HealthBody,
  type HopperServer,
  loadConfig,
  type ServerConfig,
  type ServerOptions,
  startServer,
} from './server/index.js';
export * from './stream/index.js';
export {
  HopperError,
  JobStateError,
  TimeoutError,
  UnrecoverableError,
  ValidationError,
} from './util/errors.js';
