export { loadTracing, tracingPending } from './api.js';
export { endAttempt, type OpenSpan, type TracedJob, traceAttempt } from './attempt.js';
export { activeCarrier, type TraceCarrier } from './carrier.js';
