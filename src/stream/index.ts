export { EventStream } from './event-stream.js';
export {
  type PGliteLike,
  type PostgresSink,
  type PostgresSinkOptions,
  postgresSink,
} from './postgres-sink.js';
export { StreamProcessor } from './processor.js';
export { isDataError, SinkDataError } from './sink-error.js';
export type {
  EventStreamOptions,
  GroupInfo,
  Sink,
  StreamEntry,
  StreamInfo,
  StreamProcessorOptions,
} from './types.js';
