import type { Redis } from 'ioredis';
import { scrubError } from './redact.js';

type Rejecting = { reject?: (err: unknown) => void };

const wrapped = new WeakSet<object>();
const guarded = new WeakSet<Redis>();

/**
 * The one place where errors leave Hopper's Redis layer clean: every command this client
 * sends (its own, pipelines', scripts', and the AUTH/HELLO handshake) has its rejection
 * scrubbed of the client's password before any caller sees it, and so is every 'error'
 * event. The failed AUTH's error object is the one ioredis then rejects every queued
 * command with, so scrubbing it where it is made covers getCounts, pause, publish... alike.
 */
export function guardSecrets<T extends Redis>(client: T): T {
  if (guarded.has(client)) return client;
  guarded.add(client);
  // A Cluster keeps its node credentials under redisOptions.
  const options = () =>
    (client as { isCluster?: boolean }).isCluster
      ? ((client.options as { redisOptions?: { password?: string; username?: string } }).redisOptions ?? {})
      : client.options;
  const secrets = () => [options().password, options().username];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: Rejecting, ...rest: unknown[]) => {
    const reject = command.reject;
    // A pipeline may re-create a command's promise (and its reject) before resending it.
    if (typeof reject === 'function' && !wrapped.has(reject)) {
      const clean = (err: unknown) => reject(scrubError(err, secrets()));
      wrapped.add(clean);
      command.reject = clean;
    }
    return (send as (...a: unknown[]) => unknown)(command, ...rest);
  }) as T['sendCommand'];
  const emit = client.emit.bind(client);
  client.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'error') scrubError(args[0], secrets());
    return emit(event, ...args);
  }) as T['emit'];
  return client;
}
