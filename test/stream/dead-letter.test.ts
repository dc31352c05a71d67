import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStream, SinkDataError, type StreamEntry, StreamProcessor } from '../../src/stream/index.js';
import { RedisFixture } from '../helpers/redis-fixture.js';
import { quiet, unique, waitFor } from './helpers.js';

const fx = new RedisFixture({ closeAfterEach: true });

/** A sink that refuses, as bad data, every batch holding an event marked bad. */
const picky = async (batch: StreamEntry[]) => {
  if (batch.some((e) => (e.data as { bad?: boolean }).bad)) throw new SinkDataError('bad event');
};

function setup(options: { deadMaxLen?: number } = {}) {
  const stream = fx.track(new EventStream(unique('dead'), { connection: fx.url, logger: quiet }));
  const p = fx.track(
    new StreamProcessor(stream, 'db', {
      connection: fx.url,
      sink: picky,
      logger: quiet,
      consumers: 2,
      batchSize: 50,
      flushInterval: 20,
      maxDeliveries: 1,
      ...options,
    }),
  );
  p.on('error', () => {}); // the refusals, on purpose
  return { stream, p };
}

async function settled(stream: EventStream): Promise<void> {
  await waitFor(
    'every entry acknowledged',
    async () => {
      const g = (await stream.info()).groups[0];
      return g !== undefined && g.pending === 0 && g.lag === 0;
    },
    30_000,
  );
}

test('the dead-letter stream keeps only its newest deadMaxLen entries', async () => {
  const { stream, p } = setup({ deadMaxLen: 40 });
  const dead: string[] = [];
  p.on('dead', (e: StreamEntry) => dead.push(e.id));
  await p.ready();
  const ids = await stream.appendMany(Array.from({ length: 300 }, (_, i) => ({ i, bad: i % 2 === 0 })));
  await settled(stream);
  assert.equal(dead.length, 150, 'every bad event was dead-lettered');
  const letters = await fx.raw.xrange(stream.keys.dead, '-', '+');
  assert.equal(letters.length, 40, 'only the newest 40 are kept');
  assert.equal((await stream.info()).dead, 40);
  // The newest ones: the last dead letter written is still there.
  assert.equal(letters.at(-1)![1][1], dead.at(-1));
  assert.ok(ids.length === 300);
});

test('deadMaxLen 0 keeps every dead letter; a bad value is a ValidationError naming deadMaxLen', async () => {
  const { stream, p } = setup({ deadMaxLen: 0 });
  await p.ready();
  await stream.appendMany(Array.from({ length: 120 }, (_, i) => ({ i, bad: true })));
  await settled(stream);
  assert.equal(await fx.raw.xlen(stream.keys.dead), 120);
  for (const deadMaxLen of [-1, 1.5, '10'])
    assert.throws(
      () =>
        new StreamProcessor(stream, 'g', {
          connection: fx.url,
          sink: picky,
          deadMaxLen: deadMaxLen as number,
        }),
      { name: 'ValidationError', field: 'deadMaxLen' } as object,
    );
});
