export type { BusOp } from './bus.js';
export { Cache } from './cache.js';
export { CacheClosedError, LoaderError, LoaderTimeoutError } from './errors.js';
export type { Loader } from './loader.js';
export type { CacheOptions, GetOrSetOptions, MemoryOptions, SetOptions } from './options.js';
export type { CacheStats } from './stats.js';
