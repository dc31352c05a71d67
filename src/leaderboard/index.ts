export {
  Leaderboard,
  type LeaderboardOptions,
  MAX_COUNT,
  MAX_MEMBER_BYTES,
  type ReadOptions,
  type Standing,
} from './leaderboard.js';
export { dayOf, KEEP_DAYS, KEEP_WEEKS, type Window, weekOf } from './windows.js';
