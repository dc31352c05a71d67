import type { Context } from '@opentelemetry/api';
import { type Api, tracingApi } from './api.js';

/**
 * Trace context stored with a job (`opts.trace`), in W3C Trace Context form. Written
 * here rather than through the global propagator, so it travels even when the
 * application registered no propagator, and always in the one shape validation accepts.
 */
export interface TraceCarrier {
  /** `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>` */
  traceparent: string;
  /** W3C tracestate list, when the span context has one. */
  tracestate?: string;
}

export const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
export const MAX_TRACESTATE = 512;

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
