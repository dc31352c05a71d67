/**
 * Child of `npm run bench:metrics`: what the tracing hooks cost per job, in ns, in one
 * mode (its own process, since the optional import is loaded once):
 *   absent  the `@opentelemetry/api` import fails (as when it is not installed)
 *   noop    the API is installed, no tracer provider registered
 *   on      a provider registered (spans made, exported nowhere), producer span active
 * Producer hook: activeCarrier() (called once per add), minus an empty loop. Worker hook:
 * traceAttempt + endAttempt around an attempt, minus calling the attempt directly. Prints `{ ok, figures }`.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { loadTracing } from '../../src/tracing/api.js';
import { activeCarrier, endAttempt, type TracedJob, traceAttempt } from '../../src/tracing/index.js';
import { median } from '../stats.js';

const mode = process.argv[process.argv.indexOf('--mode') + 1];
const CALLS = 200_000;
const REPEATS = 7;

if (mode === 'absent') await loadTracing(() => Promise.reject(new Error('not installed')));
else await loadTracing();
if (mode === 'on') {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
}

const job: TracedJob = { id: '1', name: 'j', attemptsMade: 0, opts: {} };
const done = Promise.resolve(null);
const attempt = (_job: TracedJob) => done;
let sink = 0;

/** ns per call of `f`, median of REPEATS timed loops. */
function nsPerCall(f: () => void): number {
  const runs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) f();
    runs.push(Number(process.hrtime.bigint() - t) / CALLS);
  }
  return median(runs);
}

const measure = () => ({
  loopNs: nsPerCall(() => {
    sink++;
  }),
  producerNs: nsPerCall(() => {
    if (activeCarrier()) sink++;
  }),
  baselineNs: nsPerCall(() => {
    attempt(job);
    sink++;
  }),
  workerNs: nsPerCall(() => {
    traceAttempt('q', job, attempt);
    endAttempt(job);
    sink++;
  }),
});
// Inside a producer span when on, so the producer hook does its full work.
const f =
  mode === 'on'
    ? trace.getTracer('bench').startActiveSpan('produce', (s) => {
        const r = measure();
        s.end();
        return r;
      })
    : measure();
console.log(
  JSON.stringify({
    ok: true,
    figures: {
      mode,
      producerNs: Math.max(0, f.producerNs - f.loopNs),
      workerNs: Math.max(0, f.workerNs - f.baselineNs),
      sink,
    },
  }),
);
