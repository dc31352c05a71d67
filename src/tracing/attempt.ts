import { tracingApi } from './api.js';
import { extractCarrier, type TraceCarrier } from './carrier.js';

/** The part of an OpenTelemetry Span the worker uses: its own type, so no public type names the optional package. */
export interface OpenSpan {
  recordException(error: Error): void;
  setStatus(status: { code: number; message?: string }): void;
  end(): void;
}

/** What the attempt span needs of a job; the worker keeps the span on the job until the attempt ends. */
export interface TracedJob {
  readonly id: string;
  readonly name: string;
  readonly attemptsMade: number;
  readonly opts: { trace?: TraceCarrier };
  span?: OpenSpan;
}

const TRACER = 'hopper';

/**
 * Runs one attempt inside a CONSUMER span `<queue> process`, child of the producer's
 * span when the job carries one. The span is left open on `job.span`: endAttempt
 * closes it when the worker settles the attempt (a result, an error or a timeout).
 * With tracing off this is `run(job)` after one check (`run` is made once, not per job).
 */
export function traceAttempt<J extends TracedJob, T>(
  queue: string,
  job: J,
  run: (job: J) => Promise<T>,
): Promise<T> {
  const api = tracingApi();
  if (!api) return run(job);
  const parent = extractCarrier(api, job.opts.trace) ?? api.ROOT_CONTEXT;
  const options = {
    kind: api.SpanKind.CONSUMER,
    attributes: {
      'messaging.system': 'hopper',
      'messaging.operation.type': 'process',
      'messaging.destination.name': queue,
      'messaging.message.id': job.id,
      'hopper.job.name': job.name,
      'hopper.job.attempt': job.attemptsMade + 1,
    },
  };
  return api.trace.getTracer(TRACER).startActiveSpan(`${queue} process`, options, parent, (span) => {
    job.span = span;
    return run(job);
  });
}

/** Ends the attempt's span, if any: status ERROR and the exception recorded on failure. */
export function endAttempt(job: TracedJob, error?: Error): void {
  const span = job.span;
  if (!span) return;
  job.span = undefined;
  if (error) {
    span.recordException(error);
    span.setStatus({ code: 2 /* SpanStatusCode.ERROR */, message: error.message });
  }
  span.end();
}
