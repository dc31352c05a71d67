/**
 * A sandboxed processor's child process: imports the processor file named in argv,
 * runs one job at a time as the parent asks, and reports back over IPC. It exits
 * when the parent goes away.
 */
import { pathToFileURL } from 'node:url';
import type { FromChild, SandboxJob, ToChild } from './protocol.js';

type Processor = (
  job: SandboxJob & { updateProgress(v: unknown): Promise<void>; log(l: string): Promise<void> },
) => unknown;

const send = (m: FromChild) => process.send?.(m);
process.on('disconnect', () => process.exit(0));

const file = process.argv[2]!;
// Listening before the import resolves: a job sent meanwhile waits for it.
const loading = import(file.startsWith('file:') ? file : pathToFileURL(file).href).then(
  (mod: { default?: Processor }) => {
    if (typeof mod.default !== 'function')
      throw new Error(`${file} has no default export function (job) => result`);
    return mod.default;
  },
);

process.on('message', async (m: ToChild) => {
  if (m.type !== 'run') return;
  let processor: Processor;
  try {
    processor = await loading;
  } catch (err) {
    send({ type: 'load-error', message: (err as Error).message });
    return;
  }
  const job = {
    ...m.job,
    updateProgress: async (value: unknown) => {
      send({ type: 'progress', value });
    },
    log: async (line: string) => {
      send({ type: 'log', line: String(line) });
    },
  };
  try {
    const result = await processor(job);
    send({ type: 'done', result });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: 'error', error: { name: e.name, message: e.message, stack: e.stack } });
  }
});
