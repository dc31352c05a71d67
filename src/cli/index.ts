import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { clearCommand } from './clear.js';
import { dashboardCommand } from './dashboard.js';
import { demoCommand } from './demo.js';
import { reportError } from './errors.js';
import { jobCommand } from './job.js';
import { jobsCommand } from './jobs.js';
import { monitorCommand } from './monitor.js';
import { pauseCommand, resumeCommand } from './pause.js';
import { pingCommand } from './ping.js';
import { promoteCommand } from './promote.js';
import { redriveCommand } from './redrive.js';
import { removeCommand } from './remove.js';
import { restGatewayCommand } from './rest-gateway.js';
import { retryCommand } from './retry.js';
import { serveCommand } from './serve.js';
import { statsCommand } from './stats.js';
import { streamsCommand } from './streams.js';

/** Same relative path from src/cli and dist/cli, so both the source and the build find it. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(): Command {
  return new Command('hopper')
    .description('Hopper: Redis-backed job queue tools')
    .version(packageVersion())
    .addCommand(pingCommand())
    .addCommand(statsCommand())
    .addCommand(clearCommand())
    .addCommand(monitorCommand())
    .addCommand(jobsCommand())
    .addCommand(jobCommand())
    .addCommand(retryCommand())
    .addCommand(promoteCommand())
    .addCommand(removeCommand())
    .addCommand(pauseCommand())
    .addCommand(resumeCommand())
    .addCommand(streamsCommand())
    .addCommand(redriveCommand())
    .addCommand(demoCommand())
    .addCommand(serveCommand())
    .addCommand(restGatewayCommand())
    .addCommand(dashboardCommand())
    .showSuggestionAfterError();
}

/**
 * Exits once stdout and stderr have flushed. Exiting explicitly makes the CLI end
 * even if a library leaves a timer or socket open; waiting for the flush keeps
 * the last lines when stdout is a pipe (asynchronous on some platforms).
 */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

try {
  await buildProgram().parseAsync(process.argv);
  exitAfterFlush(process.exitCode === undefined ? 0 : Number(process.exitCode));
} catch (err) {
  reportError(err);
  exitAfterFlush(1);
}
