import { fileURLToPath } from 'node:url';
import { loadScripts } from '../redis/scripts.js';

/** The metrics part's one script, under a prefixed name so it cannot clash with other parts' scripts on a shared client. */
export const metricsScripts = new Map(
  [...loadScripts(fileURLToPath(new URL('./scripts/', import.meta.url)))].map(([name, lua]) => [
    `hopperMetrics_${name}`,
    lua,
  ]),
);

export const RECORD_SCRIPT = 'hopperMetrics_record-metrics';
