import { Command } from 'commander';
import { type AdminOptions, withQueue, writeJson } from './admin-queue.js';
import { printable } from './printable.js';
import { prefixOption, urlOption } from './target.js';

function toggle(pause: boolean) {
  return async (queueName: string, opts: AdminOptions): Promise<void> => {
    const paused = await withQueue(queueName, opts, async (q) => {
      await (pause ? q.pause() : q.resume());
      return q.isPaused();
    });
    if (opts.json) return writeJson({ queue: queueName, paused });
    process.stdout.write(
      pause
        ? `Queue ${printable(queueName)} is paused: workers start no new job until \`hopper resume\`.\n`
        : `Queue ${printable(queueName)} is running again.\n`,
    );
  };
}

const command = (pause: boolean, description: string) =>
  new Command(pause ? 'pause' : 'resume')
    .description(description)
    .argument('<queue>', 'queue name')
    .addOption(urlOption())
    .addOption(prefixOption())
    .option('--json', 'print { "queue": name, "paused": bool }')
    .action(toggle(pause));

export const pauseCommand = () =>
  command(true, 'stop workers starting jobs of a queue (running jobs finish)');
export const resumeCommand = () => command(false, 'let workers start jobs of a paused queue again');
