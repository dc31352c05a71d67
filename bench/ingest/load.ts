/**
 * The HTTP load generator for bench:ingest: wrk when it is on PATH (a C program, so it
 * takes less of the 2 shared cores than autocannon, which runs in Node), autocannon
 * otherwise (a dev dependency, so the bench runs on a fresh checkout). BENCH_LOADGEN=
 * autocannon|wrk picks one explicitly.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

export interface LoadSpec {
  url: string;
  token: string;
  body: string;
  connections: number;
  seconds: number;
}

export interface LoadResult {
  /** Answers with a 2xx status. */
  ok: number;
  /** Non-2xx answers, socket errors and timeouts. */
  failed: number;
  seconds: number;
  p50: number;
  p99: number;
}

export interface LoadGenerator {
  /** As printed in the results, e.g. "wrk 4.1.0 (1 thread)". */
  name: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

const run = promisify(execFile);
const require = createRequire(import.meta.url);

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, command);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
export async function loadGenerator(): Promise<LoadGenerator> {
  const wanted = process.env.BENCH_LOADGEN;
  if (wanted && wanted !== 'wrk' && wanted !== 'autocannon')
    throw new Error(`BENCH_LOADGEN must be wrk or autocannon, got ${wanted}`);
  const wrk = wanted === 'autocannon' ? undefined : onPath('wrk');
  if (wanted === 'wrk' && !wrk) throw new Error('BENCH_LOADGEN=wrk but wrk is not on PATH');
  return wrk ? await wrkGenerator(wrk) : autocannonGenerator();
}

/** autocannon ships no types; this is the part of its API used here. */
interface AutocannonResult {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number };
}

function autocannonGenerator(): LoadGenerator {
  const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;
  const version = (require('autocannon/package.json') as { version: string }).version;
  return {
    name: `autocannon ${version} (in the orchestrator process${process.env.BENCH_LOADGEN ? '' : '; wrk was not found'})`,
    async run(spec) {
      const r = await autocannon({
        url: spec.url,
        method: 'POST',
        connections: spec.connections,
        duration: spec.seconds,
        headers: { authorization: `Bearer ${spec.token}`, 'content-type': 'application/json' },
        body: spec.body,
      });
      return {
        ok: r['2xx'],
        failed: r.non2xx + r.errors + r.timeouts,
        seconds: r.duration,
        p50: r.latency.p50,
        p99: r.latency.p99,
      };
    },
  };
}

async function wrkGenerator(bin: string): Promise<LoadGenerator> {
  // `wrk -v` prints its version and exits 1.
  const version = await run(bin, ['-v']).then(
    (r) => r.stdout,
    (err: { stdout?: string }) => err.stdout ?? '',
  );
  const label = /wrk (\S+)/.exec(version)?.[1] ?? 'unknown version';
  return {
    name: `wrk ${label} (1 thread, its own process)`,
    async run(spec) {
      const dir = mkdtempSync(join(tmpdir(), 'hopper-wrk-'));
      const script = join(dir, 'post.lua');
      writeFileSync(
        script,
        [
          'wrk.method = "POST"',
          'wrk.headers["Content-Type"] = "application/json"',
          `wrk.headers["Authorization"] = ${luaString(`Bearer ${spec.token}`)}`,
          `wrk.body = ${luaString(spec.body)}`,
        ].join('\n'),
      );
      try {
        const { stdout } = await run(
          bin,
          ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--latency', '-s', script, spec.url],
          { maxBuffer: 1 << 20 },
        );
        return parseWrk(stdout);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latency(out: string, pct: string): number {
  const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
  if (!m) throw new Error(`wrk printed no ${pct}% latency:\n${out}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** wrk's text report: totals, non-2xx, socket errors, --latency percentiles. */
export function parseWrk(out: string): LoadResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  if (!total) throw new Error(`could not read wrk's report:\n${out}`);
  const requests = Number(total[1]);
  const seconds = (Number(total[2]) * UNIT_MS[total[3]!]!) / 1000;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    ok: requests - non2xx,
    failed: non2xx + errors,
    seconds,
    p50: latency(out, '50'),
    p99: latency(out, '99'),
  };
}
