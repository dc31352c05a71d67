import type { Context } from '@opentelemetry/api';
import { type Api, tracingApi } from './api.js';
import { TRACEPARENT, type TraceCarrier } from './carrier-format.js';

// The carrier's shape lives in carrier-format.ts, which names no OpenTelemetry type: the
// shipped declarations of the queue must compile without @opentelemetry/api installed.
export { MAX_TRACESTATE, TRACEPARENT, type TraceCarrier } from './carrier-format.js';

/** The active span's context as a carrier, or undefined when no valid span is active. */
export function injectActive(api: Api): TraceCarrier | undefined {
  const sc = api.trace.getSpanContext(api.context.active());
  if (!sc || !api.isSpanContextValid(sc)) return undefined;
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
  const carrier: TraceCarrier = { traceparent: `00-${sc.traceId}-${sc.spanId}-${flags}` };
  const state = sc.traceState?.serialize();
  if (state) carrier.tracestate = state;
  return carrier;
}

/** A context whose (remote) parent is the carrier's span, or undefined for a bad carrier. */
export function extractCarrier(api: Api, carrier: TraceCarrier | undefined): Context | undefined {
  if (!carrier || typeof carrier.traceparent !== 'string' || !TRACEPARENT.test(carrier.traceparent))
    return undefined;
  const [, traceId, spanId, flags] = carrier.traceparent.split('-') as [string, string, string, string];
  const sc = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16),
    isRemote: true,
    traceState: carrier.tracestate ? api.createTraceState(carrier.tracestate) : undefined,
  };
  if (!api.isSpanContextValid(sc)) return undefined;
  return api.trace.setSpanContext(api.ROOT_CONTEXT, sc);
}

/** For the producer: the active span's carrier when tracing is on, else undefined. */
export function activeCarrier(): TraceCarrier | undefined {
  const api = tracingApi();
  return api && injectActive(api);
}
