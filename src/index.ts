// The main entry: queue, streams and toolkit, loading only ioredis, croner and pino.
// The HTTP server, Prometheus exporter and framework middleware are subpath exports
// (src/entry/*.ts), so importing the queue never loads Fastify or prom-client.
export * from './cache/index.js';
export * from './dedupe/index.js';
export * from './flow/index.js';
export * from './leaderboard/index.js';
export * from './lock/index.js';
export {
  type FailedJobRecord,
  type MetricsOptions,
  type QueueMetrics,
  type ReadMetricsOptions,
  readMetrics,
  type TimingSummary,
} from './metrics/index.js';
export * from './pubsub/index.js';
export { AddOutcomeUnknownError, QueueClosedError } from './queue/errors.js';
export * from './queue/events/index.js';
export type { JobLogs } from './queue/job-admin.js';
export type { GroupCounts } from './queue/limits.js';
export { MAX_PARTITIONS, partitionNames } from './queue/partitions/layout.js';
export { PartitionCountError, PartitionNameError } from './queue/partitions/registry.js';
export { LeaseLostError, type PulledJob, PullWorkers } from './queue/pull/pull.js';
export { Queue } from './queue/queue.js';
export { type SandboxedHandler, sandbox } from './queue/sandbox/pool.js';
export { MISFIRE_MS } from './queue/schedule/plan.js';
export type {
  CatchUp,
  Repeat,
  ScheduleInfo,
  ScheduleOptions,
  ScheduleTemplate,
} from './queue/schedule/types.js';
export { MIN_EVERY_MS } from './queue/schedule/validate.js';
export type {
  BackoffOptions,
  DedupOptions,
  GroupLimits,
  Handler,
  Job,
  JobCounts,
  JobError,
  JobInfo,
  JobOptions,
  JobState,
  QueueLimits,
  QueueOptions,
  RateLimit,
  RetentionOptions,
  WorkerOptions,
} from './queue/types.js';
export { LOG_LINES, MAX_GROUP_LENGTH, MAX_PRIORITY, Priority } from './queue/types.js';
export type { WorkerEvents, WorkerEventsMap, WorkerListener } from './queue/worker/events.js';
export { Worker } from './queue/worker/worker.js';
export * from './ratelimit/index.js';
export type { ConnectionOptions } from './redis/connection.js';
export {
  type FsyncPolicy,
  SpoolFullError,
  SpoolLockedError,
  type SpoolOptions,
  type SpoolStats,
} from './spool/index.js';
export * from './stream/index.js';
export type { TraceCarrier } from './tracing/carrier-format.js';
export {
  type RestConnection,
  RestReplyError,
  RestRequestError,
  RestUnavailableError,
} from './transport/rest/index.js';
export {
  CancelledError,
  HopperError,
  JobDeferredError,
  JobStateError,
  TimeoutError,
  UnrecoverableError,
  ValidationError,
} from './util/errors.js';
export { MissingDependencyError } from './util/optional.js';
