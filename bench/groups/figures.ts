/** Shared by the groups benchmark's orchestrator (run.ts) and its child (measure.ts). */
export interface GroupFigures {
  rate: number;
  nodeUsPerJob: number;
  redisUsPerJob: number;
}

export const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
export const GROUPS = 1000;
