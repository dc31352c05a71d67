import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createServer } from '../../src/server/index.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { backends, waitFor } from '../stream/helpers.js';
import { auth, capturingLogger, testConfig, trackBody } from './helpers.js';

const fx = new RedisFixture();
const backend = backends()[0]!; // PGlite
after(() => backend.close());

test('/health answers 503 with the reason while the processor makes no progress, though the database answers', async () => {
  const sink = backend.sink();
  const server = createServer(testConfig(fx.url, { stallTimeout: 500 }), {
    sink,
    logger: capturingLogger().logger,
  });
  server.processor?.on('error', () => {});
  try {
    await server.ready();
    const health = async () => {
      const r = await server.app.inject({ method: 'GET', url: '/health' });
      return { status: r.statusCode, body: r.json() as { reasons?: string[]; database: string } };
    };
    assert.equal((await health()).status, 200);
    // Every insert now fails (not about the data: the table is gone), while SELECT 1 still answers.
    await sink.query(`ALTER TABLE ${sink.table} RENAME TO stalled_away`);
    const r = await server.app.inject({
      method: 'POST',
      url: '/api/v1/track',
      headers: auth(),
      payload: trackBody(3),
    });
    assert.equal(r.statusCode, 202);
    const stalled = await waitFor(
      'health 503',
      async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      },
      15_000,
    );
    assert.equal(stalled!.body.database, 'healthy');
    assert.match(
      stalled!.body.reasons?.join(';') ?? '',
      /processor stalled: nothing acknowledged for \d+ s while \d+ entries wait/,
    );
    // Fixed: the rows land and health recovers.
    await sink.query(`ALTER TABLE stalled_away RENAME TO ${sink.table}`);
    await waitFor('health 200', async () => (await health()).status === 200, 20_000);
    assert.deepEqual(await backend.counts(sink), { rows: 3, distinct: 3 });
  } finally {
    await server.close();
  }
});
