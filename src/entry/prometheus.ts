// hopper-queue/prometheus: the Prometheus text exporter (needs the optional peer `prom-client`).
export { PrometheusExporter, type PrometheusSources } from '../metrics/prometheus.js';
