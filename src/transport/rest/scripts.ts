import { createHash } from 'node:crypto';

/** A Lua script defined on a REST client: sent by EVALSHA, loaded on NOSCRIPT. */
export interface RestScript {
  lua: string;
  sha: string;
}

export const scriptOf = (lua: string): RestScript => ({
  lua,
  sha: createHash('sha1').update(lua).digest('hex'),
});

export const isNoScript = (err: unknown): boolean =>
  err instanceof Error && err.message.startsWith('NOSCRIPT');

/** `EVALSHA sha numKeys ...keysAndArgs`: ioredis' calling convention for defined commands. */
export const evalsha = (s: RestScript, args: string[]): string[] => ['evalsha', s.sha, ...args];

export const load = (s: RestScript): string[] => ['script', 'load', s.lua];
