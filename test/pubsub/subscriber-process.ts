/**
 * A Channel subscriber in its own process, for the cross-process delivery test.
 *
 *   node --import tsx test/pubsub/subscriber-process.ts
 *
 * Environment: REDIS_URL, CHANNEL (exact), PATTERN (glob), PREFIX (optional).
 * stdout: `ready` once both subscriptions are confirmed, then one line per message:
 * `exact <channel> <json>` or `pattern <channel> <json>`.
 */
import { pino } from 'pino';
import { Channel } from '../../src/pubsub/index.js';

const url = process.env.REDIS_URL;
const exact = process.env.CHANNEL;
const pattern = process.env.PATTERN;
if (!url || !exact || !pattern) {
  console.error('subscriber-process: REDIS_URL, CHANNEL and PATTERN are required');
  process.exit(2);
}

const channel = new Channel({
  connection: url,
  prefix: process.env.PREFIX,
  logger: pino({ level: 'silent' }),
});
await channel.subscribe(exact, (message, ch) => console.log(`exact ${ch} ${JSON.stringify(message)}`));
await channel.subscribe(pattern, (message, ch) => console.log(`pattern ${ch} ${JSON.stringify(message)}`), {
  pattern: true,
});
console.log('ready');
process.on('SIGTERM', () => {
  void channel.close().then(() => process.exit(0));
});
