/**
 * `npm run chaos`: the fault-injection suite (docs/reliability.md).
 *
 *   npm run chaos -- [--seed N]... [--duration s] [--target hopper|bullmq|both] [--short] [--keep] [--json file]
 *
 * Runs each seed's fault schedule against each target, prints the report table, the
 * anomalies found and a summary line; exits 1 if any Hopper run lost, stuck or
 * duplicated a job (BullMQ is only reported).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { requireRedisServer } from '../test/helpers/redis-server.js';
import { details, summary, table } from './report.js';
import { type RunResult, runOnce } from './run-one.js';
import { FULL, SHORT } from './settings.js';
import { TARGETS, type TargetName } from './targets/types.js';

function fail(message: string): never {
  console.error(`chaos: ${message}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    seed: { type: 'string', multiple: true },
    duration: { type: 'string' },
    target: { type: 'string', default: 'both' },
    short: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const seeds = (values.seed ?? ['1']).flatMap((s) => s.split(',')).map(Number);
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) fail('--seed must be a non-negative integer');
const targets: TargetName[] = values.target === 'both' ? TARGETS : TARGETS.filter((t) => t === values.target);
if (targets.length === 0) fail('--target must be hopper, bullmq or both');
const settings = { ...(values.short ? SHORT : FULL) };
if (values.duration !== undefined) {
  const seconds = Number(values.duration);
  if (!(seconds >= 5)) fail('--duration must be a number of seconds, at least 5');
  settings.chaosMs = seconds * 1000;
}

requireRedisServer();
const results: RunResult[] = [];
for (const seed of seeds) {
  for (const target of targets) {
    const r = await runOnce(target, seed, settings, values.keep);
    results.push(r);
    // Each run's row as soon as it is known: a full run takes minutes per target and seed.
    console.error(table([r]).split('\n').at(-1));
  }
}

console.log(table(results));
const more = details(results);
if (more) console.log(`\n${more}`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
const { line, pass } = summary(results);
console.log(`\n${line}`);
process.exit(pass ? 0 : 1);
