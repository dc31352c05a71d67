import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verdict } from '../../chaos/report.js';
import { runOnce } from '../../chaos/run-one.js';
import { SHORT } from '../../chaos/settings.js';
import { requireRedisServer } from '../helpers/redis-server.js';

requireRedisServer();

/**
 * The short form of `npm run chaos` against Hopper (about a minute): every fault kind
 * at least once, then the checker. CHAOS_SEED picks another schedule to reproduce a
 * failure seen with `npm run chaos -- --short --target hopper --seed N`.
 */
const seed = Number(process.env.CHAOS_SEED ?? 11);

test(`under faults (seed ${seed}) Hopper loses no acknowledged job, leaves none stuck, stores no add twice`, {
  timeout: 180_000,
}, async () => {
  const r = await runOnce('hopper', seed, SHORT);
  const f = r.figures;
  // The run did something: jobs went through and every kind of fault happened.
  assert.ok(f.acknowledged > 500, `acknowledged ${f.acknowledged}`);
  for (const [kind, n] of Object.entries(r.faults)) {
    if (!kind.endsWith('Kills')) assert.ok(n > 0, `no ${kind} fault applied`);
  }
  assert.deepEqual(r.crashed, [], 'no process exited on its own');
  const examples = JSON.stringify(f.examples);
  assert.equal(f.lost, 0, `lost: ${examples}`);
  assert.equal(f.stuck, 0, `stuck: ${examples}`);
  assert.equal(f.duplicateAdds, 0, `duplicate adds: ${examples}`);
  assert.ok(verdict(r));
});
