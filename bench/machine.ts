/** The machine line every benchmark report starts with. */
import { availableParallelism, cpus, type as osType, release, totalmem } from 'node:os';

export function describeMachine(redisVersion: string): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const memGiB = (totalmem() / 2 ** 30).toFixed(0);
  return [
    `${availableParallelism()} CPUs (nproc), ${model}, ${memGiB} GiB RAM`,
    `${osType()} ${release()}`,
    `Node ${process.version}`,
    `redis-server ${redisVersion} on loopback`,
  ].join('; ');
}
