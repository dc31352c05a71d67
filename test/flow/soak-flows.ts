/**
 * `npm run soak:flows`: 10,000 flows of 1 parent + 10 children across three queues,
 * worker processes SIGKILLed at random (docs/flows.md has the last result).
 * FLOWS, KILLS and PROCESSES override the defaults. CLUSTER=1 runs it on a local 3-master
 * Redis Cluster instead of one redis-server; PARTITIONS=N opens the three queues with N
 * partitions each.
 */
import { runCrashFlows } from './crash-harness.js';

const r = await runCrashFlows({
  flows: Number(process.env.FLOWS ?? 10_000),
  kills: Number(process.env.KILLS ?? 10),
  processes: Number(process.env.PROCESSES ?? 3),
  timeoutMs: 15 * 60_000,
  cluster: process.env.CLUSTER === '1',
  partitions: process.env.PARTITIONS ? Number(process.env.PARTITIONS) : undefined,
  log: (l) => console.log(l),
});
console.log(JSON.stringify(r, null, 2));
const ok = r.unfinished + r.incomplete + r.doubled + r.leftovers === 0 && r.problems.length === 0;
console.log(ok ? 'PASS' : 'FAIL');
process.exit(ok ? 0 : 1);
