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
