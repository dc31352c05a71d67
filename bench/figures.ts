/** What a measurement child prints (one JSON line) and the orchestrator reads. */
import type { LibName } from './libs/types.js';

export const CASE_NAMES = ['enqueue', 'bulk', 'process-c1', 'process-c100', 'latency'] as const;
export type CaseName = (typeof CASE_NAMES)[number];

export interface Figures {
  lib: LibName;
  case: CaseName;
  /** Jobs in the timed window. */
  jobs: number;
  seconds: number;
  /** Jobs per second over the timed window. */
  rate: number;
  /** CPU of this Node process per job over the window (user + system), µs. */
  nodeUsPerJob: number;
  /** CPU of redis-server per job over the window (INFO used_cpu_user + used_cpu_sys), µs. */
  redisUsPerJob: number;
  /** CPUs' worth of work other processes did during the window (machine busy − child − redis); noise. */
  otherCpus?: number;
  /** process cases: ms from the last completed event until Redis showed no job waiting or active. */
  settleMs?: number;
  /** Handler errors or failed events seen (expected 0). */
  errors: number;
  /** latency case: add→handler-start percentiles in ms, and the producer rate reached. */
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
  producedRate?: number;
}

export type ChildResult = { ok: true; figures: Figures } | { ok: false; error: string; timeout?: boolean };
