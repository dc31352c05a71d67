export { JobFailedError } from './errors.js';
export { QueueEvents } from './queue-events.js';
export { DEFAULT_EVENTS_MAX_LEN, type EventsSettings } from './settings.js';
export type { JobEvent, ProgressEvent, QueueEventName, QueueEventsMap, QueueEventsOptions } from './types.js';
