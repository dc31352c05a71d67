import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SpoolFullError } from '../../src/spool/errors.js';
import { SpoolLog } from '../../src/spool/log.js';
import { validateSpoolOptions } from '../../src/spool/options.js';

const tmp = mkdtempSync(join(tmpdir(), 'hopper-spool-log-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;

function open(dir: string, maxBytes = 64 * 1024, messages: string[] = []) {
  return new SpoolLog(validateSpoolOptions('spool', { dir, maxBytes, fsync: 'never' }), (m) =>
    messages.push(m),
  );
}
const rec = (seq: number, body = `{"n":${seq}}`) => ({ run: 'r1', seq, ts: 1000 + seq, body });
const segments = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort();

test('records come back in order after a reopen; acknowledged ones do not; a torn tail is cut off', () => {
  const dir = join(tmp, `d${++dirs}`);
  const log = open(dir);
  log.append([rec(1), rec(2)]);
  log.append([rec(3)]);
  const first = log.read(2);
  assert.deepEqual(
    first.map((r) => r.seq),
    [1, 2],
  );
  log.ack(first[1]!, 2);
  assert.equal(log.stats().depth, 1);
  assert.equal(log.stats().oldest, 1003);
  log.close();
  // A crash in the middle of a write: half a header at the end of the last segment.
  appendFileSync(join(dir, segments(dir).at(-1)!), Buffer.from([9, 0, 0]));
  const again = open(dir);
  assert.equal(again.stats().depth, 1);
  again.append([rec(4)]);
  const rest: [number, string][] = [];
  // A read stops at a segment's end: read and acknowledge until nothing is left.
  for (let batch = again.read(10); batch.length > 0; batch = again.read(10)) {
    rest.push(...batch.map((r): [number, string] => [r.seq, r.body]));
    again.ack(batch.at(-1)!, batch.length);
  }
  assert.deepEqual(rest, [
    [3, '{"n":3}'],
    [4, '{"n":4}'],
  ]);
  again.close();
});

test('damaged bytes mid-log: the rest of that segment is skipped and reported, later segments replay', () => {
  const dir = join(tmp, `d${++dirs}`);
  const log = open(dir);
  log.append([rec(1), rec(2)]);
  log.close();
  const second = open(dir); // writes to a new segment
  second.append([rec(3)]);
  second.close();
  const [older] = segments(dir);
  const bytes = readFileSync(join(dir, older!));
  bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff; // inside record 2's body
  writeFileSync(join(dir, older!), bytes);
  const messages: string[] = [];
  const third = open(dir, 64 * 1024, messages);
  const seen: number[] = [];
  for (let batch = third.read(10); batch.length > 0; batch = third.read(10)) {
    seen.push(...batch.map((r) => r.seq));
    third.ack(batch.at(-1)!, batch.length);
  }
  assert.deepEqual(seen, [1, 3]);
  assert.ok(third.stats().corrupt >= 1);
  assert.match(messages.join('\n'), /damaged/);
  third.close();
});

test('past maxBytes append throws SpoolFullError and writes nothing; replayed segments are deleted', () => {
  const dir = join(tmp, `d${++dirs}`);
  const log = open(dir);
  const big = 'x'.repeat(1000);
  let n = 0;
  assert.throws(() => {
    for (;;) log.append([rec(++n, JSON.stringify(big))]);
  }, SpoolFullError);
  const depth = log.stats().depth;
  assert.equal(depth, n - 1);
  assert.ok(log.stats().bytes <= 64 * 1024);
  let total = 0;
  for (let batch = log.read(7); batch.length > 0; batch = log.read(7)) {
    total += batch.length;
    log.ack(batch.at(-1)!, batch.length);
  }
  assert.equal(total, depth);
  assert.equal(log.stats().depth, 0);
  assert.equal(log.stats().oldest, null);
  assert.ok(log.stats().bytes === 0, `bytes left ${log.stats().bytes}`);
  assert.equal(segments(dir).length, 1);
  log.append([rec(++n)]); // room again
  log.close();
});
