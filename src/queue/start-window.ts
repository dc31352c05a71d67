/**
 * How long after sending a call a worker may start the jobs it holds reserved
 * without hearing from Redis again (capped at half its lease). Every reply says
 * whether the queue is paused and whether the worker's lease held; pause() waits
 * this long after setting the flag, so when it resolves every permission granted
 * before the pause has run out and no job starts any more (docs/architecture.md).
 */
export const START_WINDOW_MS = 500;
