import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { FlowProducer, Queue } from '../../src/index.js';
import { QueueFixture } from '../helpers/queue-fixture.js';
import { startRedis } from '../helpers/redis-server.js';
import { quiet, uniqueName, waitFor } from '../helpers/worker-process.js';
import { ROOT, runCli } from './run.js';

const fx = new QueueFixture({ closeAfterEach: true });
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

// A private tmux server: the tests never touch a user's sessions.
const socket = uniqueName('hopper-monitor-test');
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
after(() => {
  if (hasTmux) spawnSync('tmux', ['-L', socket, 'kill-server']);
});

interface Snapshot {
  queues: { name: string; counts: Record<string, number>; paused: boolean }[];
  redis: { pingMs: number; usedMemory: string; warnings: string[] };
}

test('monitor in a terminal draws the counts, follows new jobs and leaves the terminal clean on q', {
  skip: !hasTmux && 'tmux not installed',
}, async () => {
  const q = fx.queue('mon-tty');
  await q.addBulk(Array.from({ length: 7 }, (_, i) => ({ name: 'send', data: { i } })));
  await q.add('later', {}, { delay: 600_000 });
  await q.pause();
  const session = uniqueName('mon');
  const command = `node bin/hopper.js monitor ${q.name} --url ${fx.url} --interval 200; echo MONITOR-EXIT=$?`;
  tmux('new-session', '-d', '-x', '120', '-y', '30', '-s', session, '-c', ROOT, `${command}; sleep 60`);
  const screen = () => tmux('capture-pane', '-p', '-t', session);
  const row = (text: string) => text.split('\n').find((l) => l.startsWith(q.name) && /\s(yes|no)$/.test(l));

  const first = await waitFor('the monitor to draw', () => row(screen()) ?? '', 15_000);
  // waiting delayed active reserved completed failed paused
  assert.match(first, /\s7\s+1\s+0\s+0\s+0\s+0\s+0\s+yes$/);
  const drawn = screen();
  assert.match(drawn, /^Hopper monitor .* every 200 ms .*\(q to quit\)$/m);
  assert.match(drawn, /^Redis: ping \d+\.\d\d ms, memory used \S+/m);
  assert.match(drawn, /^warning: Redis persistence is off/m);
  assert.match(drawn, /^THROUGHPUT AND LATENCY/m);

  await q.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: 'send', data: { i } })));
  await waitFor(
    'the new jobs on screen',
    () => /\s12\s+1\s+0\s+0\s+0\s+0\s+0\s+yes$/.test(row(screen()) ?? ''),
    10_000,
  );
  const trend = await waitFor('the trend row', () =>
    screen()
      .split('\n')
      .find((l) => l.startsWith(q.name) && /\+5\s+0\s+0\s+0\s+0\s+0\s+0$/.test(l)),
  );
  assert.ok(trend);

  tmux('send-keys', '-t', session, 'q');
  const end = await waitFor('the monitor to exit', () => (/MONITOR-EXIT=\d+/.test(screen()) ? screen() : ''));
  assert.match(end, /MONITOR-EXIT=0/);
  // Back on the normal screen (the alternate one left), cursor shown, nothing of the frame left behind.
  assert.doesNotMatch(end, /Hopper monitor|TRENDS/);
  assert.equal(tmux('display-message', '-p', '-t', session, '#{alternate_on} #{cursor_flag}').trim(), '0 1');
  const raw = tmux('capture-pane', '-p', '-e', '-t', session);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escape codes are what must not be left
  assert.doesNotMatch(raw, /\x1b/);
  tmux('kill-session', '-t', session);
});

test('Ctrl-C ends the monitor as cleanly as q', { skip: !hasTmux && 'tmux not installed' }, async () => {
  const q = fx.queue('mon-ctrlc');
  await q.add('x', {});
  const session = uniqueName('mon');
  const command = `node bin/hopper.js monitor --url ${fx.url} --interval 200; echo MONITOR-EXIT=$?`;
  tmux('new-session', '-d', '-x', '120', '-y', '30', '-s', session, '-c', ROOT, `${command}; sleep 60`);
  const screen = () => tmux('capture-pane', '-p', '-t', session);
  await waitFor('the monitor to draw', () => screen().includes(q.name), 15_000);
  tmux('send-keys', '-t', session, 'C-c');
  const end = await waitFor('the monitor to exit', () => (/MONITOR-EXIT=\d+/.test(screen()) ? screen() : ''));
  assert.match(end, /MONITOR-EXIT=0/);
  assert.equal(tmux('display-message', '-p', '-t', session, '#{alternate_on} #{cursor_flag}').trim(), '0 1');
  tmux('kill-session', '-t', session);
});

test('Redis going away is shown on screen, the monitor recovers when it returns, and q still quits', {
  skip: !hasTmux && 'tmux not installed',
}, async () => {
  const own = await startRedis();
  try {
    const q = new Queue(uniqueName('mon-down'), { connection: own.url, logger: quiet });
    await q.add('x', {});
    await q.close();
    const session = uniqueName('mon');
    const command = `node bin/hopper.js monitor --url ${own.url} --interval 200; echo MONITOR-EXIT=$?`;
    tmux('new-session', '-d', '-x', '120', '-y', '30', '-s', session, '-c', ROOT, `${command}; sleep 60`);
    const screen = () => tmux('capture-pane', '-p', '-t', session);
    await waitFor('the monitor to draw', () => screen().includes('JOBS'), 15_000);
    await own.kill9();
    const down = await waitFor(
      'the error on screen',
      () => (/^Redis error at .* \(retrying\)$/m.test(screen()) ? screen() : ''),
      15_000,
    );
    assert.match(down, /^the figures below are from \d\d:\d\d:\d\d UTC$/m);
    await own.restart();
    await waitFor('the monitor to recover', () => /^Hopper monitor /m.test(screen()), 20_000);
    await own.kill9(); // q must quit even while Redis does not answer
    tmux('send-keys', '-t', session, 'q');
    const end = await waitFor(
      'the monitor to exit',
      () => (/MONITOR-EXIT=\d+/.test(screen()) ? screen() : ''),
      10_000,
    );
    assert.match(end, /MONITOR-EXIT=0/);
    assert.equal(
      tmux('display-message', '-p', '-t', session, '#{alternate_on} #{cursor_flag}').trim(),
      '0 1',
    );
    tmux('kill-session', '-t', session);
  } finally {
    await own.stop();
  }
});

test('--json --once prints one JSON line with the counts Redis holds', async () => {
  const q = fx.queue('mon-json');
  await q.addBulk(Array.from({ length: 3 }, () => ({ name: 'x', data: {} })));
  const r = await runCli(fx.url, ['monitor', q.name, '--json', '--once']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const snap = JSON.parse(lines[0]!) as Snapshot;
  assert.equal(snap.queues.length, 1);
  assert.equal(snap.queues[0]!.name, q.name);
  assert.equal(snap.queues[0]!.counts.waiting, 3);
  assert.equal(snap.queues[0]!.paused, false);
  assert.ok(snap.redis.warnings.some((w) => /persistence is off/.test(w)));
});

test('the monitor counts flow parents waiting for their children (CHILDREN column and JSON)', async () => {
  const q = fx.queue('mon-flow');
  const flows = new FlowProducer({ connection: fx.connection });
  try {
    await flows.add({ name: 'parent', queue: q.name, children: [{ name: 'child', queue: q.name }] });
  } finally {
    await flows.close();
  }
  const json = await runCli(fx.url, ['monitor', q.name, '--json', '--once']);
  assert.equal((JSON.parse(json.stdout) as Snapshot).queues[0]!.counts.waitingChildren, 1);
  const text = (await runCli(fx.url, ['monitor', q.name, '--once'])).stdout;
  assert.match(
    text,
    /^QUEUE\s+WAITING\s+DELAYED\s+ACTIVE\s+RESERVED\s+COMPLETED\s+FAILED\s+CHILDREN\s+PAUSED$/m,
  );
  assert.match(text, new RegExp(`^${q.name}\\s+1\\s+0\\s+0\\s+0\\s+0\\s+0\\s+1\\s+no$`, 'm'));
});

test('a queue named on the command line that nobody registered is flagged, and not registered by the monitor', async () => {
  const q = fx.queue('mon-known');
  await q.add('x', {});
  const typo = `${q.name}-typo`;
  const json = await runCli(fx.url, ['monitor', q.name, typo, '--json', '--once']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual((JSON.parse(json.stdout) as { unregistered: string[] }).unregistered, [typo]);
  const text = await runCli(fx.url, ['monitor', q.name, typo, '--once']);
  assert.match(text.stdout, new RegExp(`^note: no producer or worker has used queue "${typo}" yet`, 'm'));
  assert.equal(await fx.raw.sismember('hopper:queues', typo), 0);
});

test('--json with an interval prints one line per refresh until SIGTERM, then exits 0', async () => {
  const q = fx.queue('mon-json-loop');
  await q.add('x', {});
  const child = spawn(
    process.execPath,
    ['bin/hopper.js', 'monitor', q.name, '--json', '--interval', '100', '--url', fx.url],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  try {
    await waitFor('three refreshes', () => out.split('\n').length > 3, 15_000);
  } catch (err) {
    child.kill('SIGKILL'); // a monitor left running would keep the test runner waiting
    throw err;
  }
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  const lines = out.trim().split('\n');
  assert.ok(lines.length >= 3);
  for (const line of lines) assert.equal((JSON.parse(line) as Snapshot).queues[0]!.counts.waiting, 1);
});

test('monitor rejects a bad --interval before connecting', async () => {
  const r = await runCli(fx.url, ['monitor', '--interval', 'fast', '--once']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--interval must be a whole number from 100 to 3600000, got "fast"/);
});
