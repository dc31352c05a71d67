import type * as OtelApi from '@opentelemetry/api';

/** The `@opentelemetry/api` module, or undefined while loading or when it is not installed. */
export type Api = typeof OtelApi;

let api: Api | undefined;
let loading: Promise<Api | undefined> | undefined;
let settled = false;
/** The API's no-op provider: what the global proxy delegates to until an SDK registers one. */
let noopProvider: OtelApi.TracerProvider | undefined;

/**
 * Loads `@opentelemetry/api` once, in the background; Queue and Worker call it when
 * they are made. The package is optional: when the import fails, tracing stays off
 * and costs one `undefined` check per job. `importer` is for tests.
 */
export function loadTracing(
  importer: () => Promise<Api> = () => import('@opentelemetry/api'),
): Promise<Api | undefined> {
  loading ??= importer()
    .then((m) => {
      // Imported from ESM, the CommonJS build may put its named exports under `default`.
      const mod = 'ProxyTracerProvider' in m ? m : (m as unknown as { default: Api }).default;
      noopProvider = new mod.ProxyTracerProvider().getDelegate();
      api = mod;
      return mod;
    })
    .catch(() => undefined) // not installed (or unusable): tracing stays off
    .finally(() => {
      settled = true;
    });
  return loading;
}

/** The load while it is still in flight, so the first jobs can wait for it; then undefined. */
export function tracingPending(): Promise<unknown> | undefined {
  return settled ? undefined : loading;
}

/**
 * The API when tracing is on: installed, loaded, and a tracer provider registered
 * (an SDK set one up). Otherwise undefined, after a check of two fields, so a
 * process without OpenTelemetry does no per-job tracing work.
 */
export function tracingApi(): Api | undefined {
  if (api === undefined) return undefined;
  const provider = api.trace.getTracerProvider() as Partial<OtelApi.ProxyTracerProvider>;
  if (typeof provider.getDelegate === 'function' && provider.getDelegate() === noopProvider) return undefined;
  return api;
}
