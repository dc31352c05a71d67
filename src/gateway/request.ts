import type { Argument } from './commands.js';

/** A request the client got wrong: answered 400 with `{ error }`, nothing run. */
export class BadRequest extends Error {}

/** One command as JSON: a non-empty array of strings and numbers (booleans as text). */
export function checkCommand(value: unknown, where: string): Argument[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new BadRequest(`ERR ${where} must be a non-empty JSON array: ["COMMAND", "arg", ...]`);
  return value.map((a, i) => {
    if (typeof a === 'string') return a;
    if (typeof a === 'number' && Number.isFinite(a)) return a;
    if (typeof a === 'boolean') return String(a);
    throw new BadRequest(`ERR ${where}[${i}] must be a string or a number`);
  });
}

/** `/pipeline` and `/multi-exec`: an array of commands. */
export function checkBatch(value: unknown, maxCommands: number): Argument[][] {
  if (!Array.isArray(value) || value.length === 0)
    throw new BadRequest('ERR the body must be a non-empty JSON array of commands');
  if (value.length > maxCommands)
    throw new BadRequest(`ERR at most ${maxCommands} commands in one request, got ${value.length}`);
  return value.map((c, i) => checkCommand(c, `command ${i}`));
}

export function parseJson(body: Buffer | undefined): unknown {
  try {
    return JSON.parse(body?.toString('utf8') ?? '');
  } catch {
    throw new BadRequest('ERR the body is not valid JSON');
  }
}

/**
 * The path form: `/set/foo/bar?EX=100` is SET foo bar EX 100; a POST body (any bytes) is
 * the last argument before the query's, as Upstash documents for JSON and binary values.
 */
export function pathCommand(
  path: string,
  query: Record<string, unknown>,
  body: Buffer | undefined,
): Argument[] {
  const parts = path
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        throw new BadRequest('ERR the path is not valid percent-encoding');
      }
    });
  if (parts.length === 0) throw new BadRequest('ERR no command in the path');
  const command: Argument[] = parts;
  if (body && body.length > 0) command.push(body);
  for (const [k, v] of Object.entries(query)) {
    if (k === '_token') continue;
    command.push(k);
    if (v !== '' && v !== undefined) command.push(String(v));
  }
  return command;
}
