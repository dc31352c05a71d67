export { LockError, LockLostError, LockTimeoutError } from './errors.js';
export { type LockKeys, lockKeys } from './keys.js';
export {
  type AcquireOptions,
  LockHandle,
  LockManager,
  type LockManagerOptions,
  MAX_RESOURCE_BYTES,
  type WithLockOptions,
} from './lock.js';
