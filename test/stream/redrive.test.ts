import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamKeys } from '../../src/stream/keys.js';
import { redriveDeadLetters } from '../../src/stream/redrive.js';
import { RedisFixture } from '../helpers/redis-fixture.js';

const fx = new RedisFixture();

/** A dead letter with the fields dead-letter.lua writes. */
const deadLetter = (dead: string, group: string, data: string) =>
  fx.raw.xadd(
    dead,
    '*',
    'id',
    '1-0',
    'stream',
    's',
    'group',
    group,
    'data',
    data,
    'deliveries',
    '5',
    'error',
    'boom',
    'consumer',
    'c',
  );

test('redrive appends each dead event back as a one-event entry and deletes its dead letter; --group filters', async () => {
  const keys = streamKeys('hopper', 'redrive-test');
  await deadLetter(keys.dead, 'a', '{"n":1}');
  await deadLetter(keys.dead, 'b', '{"n":2}');
  await deadLetter(keys.dead, 'a', '{"n":3}');

  assert.equal(await redriveDeadLetters(fx.raw, keys, { group: 'a' }), 2);
  const entries = (await fx.raw.xrange(keys.stream, '-', '+')) as [string, string[]][];
  assert.deepEqual(
    entries.map(([, f]) => f),
    [
      ['d', '{"n":1}'],
      ['d', '{"n":3}'],
    ],
  );
  const left = (await fx.raw.xrange(keys.dead, '-', '+')) as [string, string[]][];
  assert.equal(left.length, 1);
  assert.equal(left[0]![1][left[0]![1].indexOf('group') + 1], 'b');

  assert.equal(await redriveDeadLetters(fx.raw, keys), 1);
  assert.equal(await fx.raw.xlen(keys.dead), 0);
  assert.equal(await fx.raw.xlen(keys.stream), 3);
  assert.equal(await redriveDeadLetters(fx.raw, keys), 0);
});

test('redrive pages through more dead letters than one page, skipping other groups', async () => {
  const keys = streamKeys('hopper', 'redrive-pages');
  for (let i = 0; i < 1200; i++) await deadLetter(keys.dead, i % 3 === 0 ? 'x' : 'y', `{"i":${i}}`);
  assert.equal(await redriveDeadLetters(fx.raw, keys, { group: 'x' }), 400);
  assert.equal(await fx.raw.xlen(keys.dead), 800);
  assert.equal(await fx.raw.xlen(keys.stream), 400);
});
