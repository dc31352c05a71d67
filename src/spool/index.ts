export { SpoolFullError, SpoolLockedError } from './errors.js';
export type { SpoolLogStats } from './log.js';
export type { FsyncPolicy, SpoolOptions } from './options.js';
export { validateSpoolOptions } from './options.js';
export type { SpoolStats } from './producer.js';
export { SpooledProducer } from './producer.js';
export type { SpoolReport } from './report.js';
export {
  parseSpoolReports,
  readSpoolReports,
  SpoolReporter,
  spoolReportsKey,
  summariseSpools,
} from './report.js';
