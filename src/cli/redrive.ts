import { Command } from 'commander';
import { findStreams } from '../stream/find.js';
import { streamKeys } from '../stream/keys.js';
import { redriveDeadLetters } from '../stream/redrive.js';
import { validateName } from '../stream/validate.js';
import { type AdminOptions, confirmOrRefuse, writeJson } from './admin-queue.js';
import { CliError } from './errors.js';
import { printable } from './printable.js';
import { connect, prefixOption, resolveTarget, urlOption } from './target.js';

interface RedriveOptions extends AdminOptions {
  group?: string;
}

async function redrive(stream: string, opts: RedriveOptions): Promise<void> {
  try {
    validateName('stream', stream);
    if (opts.group !== undefined) validateName('--group', opts.group);
  } catch (err) {
    throw new CliError(`bad name: ${(err as Error).message}`);
  }
  const name = printable(stream);
  const target = resolveTarget(opts.url);
  const client = await connect(target);
  try {
    const known = await findStreams(client, opts.prefix);
    if (!known.includes(stream)) {
      const list =
        known.length > 0 ? `known streams: ${known.map(printable).join(', ')}` : 'no streams exist';
      throw new CliError(`unknown stream "${name}" under prefix "${printable(opts.prefix)}" (${list})`);
    }
    const keys = streamKeys(opts.prefix, stream);
    const dead = await client.xlen(keys.dead);
    const scope = opts.group === undefined ? '' : ` of group ${printable(opts.group)}`;
    // Every group of the stream reads a redriven event again, not only the one that gave up on it.
    await confirmOrRefuse(
      `move the dead letters${scope} of stream ${name} (${dead} in all) back into the stream, for every group to read again`,
      opts,
    );
    const moved = await redriveDeadLetters(client, keys, { group: opts.group });
    if (opts.json) return writeJson({ stream, redriven: moved });
    process.stdout.write(
      `Moved ${moved} dead-lettered event${moved === 1 ? '' : 's'}${scope} back into stream ${name}.\n`,
    );
  } finally {
    client.disconnect();
  }
}

export function redriveCommand(): Command {
  return new Command('redrive')
    .description('move dead-lettered events back into their stream (asks first unless --yes)')
    .argument('<stream>', 'event stream name')
    .option('--group <group>', 'only the dead letters of this consumer group')
    .option('-y, --yes', 'do not ask for confirmation')
    .addOption(urlOption())
    .addOption(prefixOption())
    .option('--json', 'print { "stream": name, "redriven": n }')
    .action(redrive);
}
