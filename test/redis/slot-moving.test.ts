import assert from 'node:assert/strict';
import { test } from 'node:test';
import { notRunOnCluster, whileSlotMoves } from '../../src/redis/slot-moving.js';

test('errors Redis answers without running the command are recognised, others are not', () => {
  for (const m of [
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'ASK 6146 127.0.0.1:7001',
    'MOVED 6146 127.0.0.1:7001',
    'CLUSTERDOWN The cluster is down',
    'Too many Cluster redirections. Last error: ReplyError: TRYAGAIN Multiple keys request during rehashing of slot',
    'Too many Cluster redirections. Last error: ReplyError: MOVED 6146 127.0.0.1:42533',
  ])
    assert.equal(notRunOnCluster(new Error(m)), true, m);
  for (const m of [
    'ERR Error running script: boom',
    'Connection is closed.',
    'Too many Cluster redirections. Last error: Error: Connection is closed.',
    'WRONGTYPE Operation against a key holding the wrong kind of value',
  ])
    assert.equal(notRunOnCluster(new Error(m)), false, m);
  assert.equal(notRunOnCluster(undefined), false);
});

test('whileSlotMoves resends on a Cluster only, and only errors of a command not run', async () => {
  const cluster = { isCluster: true };
  let calls = 0;
  const moving = async () => {
    if (++calls < 3) throw new Error('TRYAGAIN Multiple keys request during rehashing of slot');
    return 'ran';
  };
  assert.equal(await whileSlotMoves(cluster, moving), 'ran');
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(whileSlotMoves({}, moving), /TRYAGAIN/, "one server: the error is the caller's");
  assert.equal(calls, 1);
  calls = 0;
  const failing = async () => {
    calls++;
    throw new Error('ERR Error running script');
  };
  await assert.rejects(whileSlotMoves(cluster, failing), /ERR Error running script/);
  assert.equal(calls, 1, 'a script error is not resent: it may have written');
});
