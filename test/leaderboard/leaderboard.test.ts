import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Leaderboard, ValidationError, weekOf } from '../../src/index.js';
import { RedisFixture } from '../helpers/redis-fixture.js';

const fx = new RedisFixture({ closeAfterEach: true });
let n = 0;
const board = (opts: ConstructorParameters<typeof Leaderboard>[1] = {}) =>
  fx.track(new Leaderboard(`lb-${++n}`, { connection: fx.url, ...opts }));

test('top N best first, rank, around a member, size', async () => {
  const lb = board();
  for (const [m, s] of [
    ['a', 10],
    ['b', 40],
    ['c', 30],
    ['d', 20],
    ['e', 50],
  ] as const)
    await lb.set(m, s);
  assert.deepEqual(await lb.top(3), [
    { member: 'e', score: 50, rank: 1 },
    { member: 'b', score: 40, rank: 2 },
    { member: 'c', score: 30, rank: 3 },
  ]);
  assert.deepEqual(await lb.rank('d'), { member: 'd', score: 20, rank: 4 });
  assert.equal(await lb.rank('nobody'), null);
  assert.deepEqual(
    (await lb.around('c', 1)).map((s) => `${s.rank}:${s.member}`),
    ['2:b', '3:c', '4:d'],
  );
  assert.deepEqual(
    (await lb.around('e', 2)).map((s) => s.member),
    ['e', 'b', 'c'],
  );
  assert.deepEqual(await lb.around('nobody', 2), []);
  assert.equal(await lb.size(), 5);
  await lb.remove('e');
  assert.equal((await lb.top(1))[0]!.member, 'b');
});

test('increment adds to every window; daily and weekly boards are their own and expire', async () => {
  const lb = board();
  const monday = new Date('2026-11-30T10:00:00Z');
  const tuesday = new Date('2026-12-01T10:00:00Z');
  const nextMonday = new Date('2026-12-07T10:00:00Z');
  await lb.increment('alice', 5, monday);
  await lb.increment('bob', 3, monday);
  assert.equal(await lb.increment('bob', 4, tuesday), 7);
  await lb.increment('alice', 1, nextMonday);

  const names = async (window: 'all' | 'daily' | 'weekly', at: Date) =>
    (await lb.top(10, { window, at })).map((s) => `${s.member}=${s.score}`);
  assert.deepEqual(await names('all', monday), ['bob=7', 'alice=6']);
  assert.deepEqual(await names('daily', monday), ['alice=5', 'bob=3']);
  assert.deepEqual(await names('daily', tuesday), ['bob=4']);
  assert.deepEqual(await names('weekly', tuesday), ['bob=7', 'alice=5']);
  assert.deepEqual(await names('weekly', nextMonday), ['alice=1']);

  // Keys as documented, day and week keys with a TTL, the all-time key without.
  const keys = (await fx.raw.keys(`{hopper:lb:lb-${n}}:*`)).sort();
  assert.deepEqual(keys, [
    `{hopper:lb:lb-${n}}:all`,
    `{hopper:lb:lb-${n}}:day:2026-11-30`,
    `{hopper:lb:lb-${n}}:day:2026-12-01`,
    `{hopper:lb:lb-${n}}:day:2026-12-07`,
    `{hopper:lb:lb-${n}}:week:2026-W49`,
    `{hopper:lb:lb-${n}}:week:2026-W50`,
  ]);
  assert.equal(await fx.raw.ttl(`{hopper:lb:lb-${n}}:all`), -1);
  const dayTtl = await fx.raw.ttl(`{hopper:lb:lb-${n}}:day:2026-11-30`);
  assert.ok(dayTtl > 7 * 86_400 && dayTtl <= 8 * 86_400, String(dayTtl));
  const weekTtl = await fx.raw.ttl(`{hopper:lb:lb-${n}}:week:2026-W49`);
  assert.ok(weekTtl > 34 * 86_400 && weekTtl <= 35 * 86_400, String(weekTtl));
});

test('ISO weeks: the week belongs to the year of its Thursday', () => {
  assert.equal(weekOf(new Date('2026-12-06T23:59:59Z')), '2026-W49'); // a Sunday
  assert.equal(weekOf(new Date('2026-12-07T00:00:00Z')), '2026-W50'); // the Monday after
  assert.equal(weekOf(new Date('2021-01-03T12:00:00Z')), '2020-W53');
  assert.equal(weekOf(new Date('2024-12-30T12:00:00Z')), '2025-W01');
});

test('only the windows asked for are written', async () => {
  const lb = board({ windows: ['daily'] });
  await lb.set('x', 1, new Date('2026-12-06T00:00:00Z'));
  assert.deepEqual(await fx.raw.keys(`{hopper:lb:lb-${n}}:*`), [`{hopper:lb:lb-${n}}:day:2026-12-06`]);
});

test('bad input is refused naming the field, and nothing is written', async () => {
  const lb = board();
  const cases: [() => Promise<unknown>, string][] = [
    [() => lb.set('', 1), 'member'],
    [() => lb.set('x'.repeat(1025), 1), 'member'],
    [() => lb.set('m', Number.NaN), 'score'],
    [() => lb.increment('m', Number.POSITIVE_INFINITY), 'by'],
    [() => lb.set('m', 1, new Date('nope')), 'at'],
    [() => lb.top(0), 'count'],
    [() => lb.top(1001), 'count'],
    [() => lb.around('m', 1.5), 'count'],
    [() => lb.top(1, { window: 'monthly' as never }), 'opts.window'],
  ];
  for (const [call, field] of cases)
    await assert.rejects(
      call,
      (err: unknown) => err instanceof ValidationError && err.field === field,
      field,
    );
  assert.deepEqual(await fx.raw.keys(`{hopper:lb:lb-${n}}:*`), []);
  assert.throws(() => new Leaderboard('a{b}'), ValidationError);
  assert.throws(() => new Leaderboard('ok', { windows: [] }), ValidationError);
});
