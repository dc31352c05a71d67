export * from './cache/index.js';
export * from './dedupe/index.js';
export { createRestGateway, type GatewayConfig, type RestGateway } from './gateway/index.js';
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
export { AddOutcomeUnknownError, QueueClosedError } from './queue/errors.js';
export type { GroupCounts } from './queue/limits.js';
export { LeaseLostError, type PulledJob, PullWorkers } from './queue/pull/pull.js';
export { Queue } from './queue/queue.js';
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
export type { TraceCarrier } from './tracing/carrier.js';
export {
  type RestConnection,
  RestReplyError,
  RestRequestError,
  RestUnavailableError,
} from './transport/rest/index.js';
export {
  HopperError,
  JobStateError,
  TimeoutError,
  UnrecoverableError,
  ValidationError,
} from './util/errors.js';
