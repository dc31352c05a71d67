import type { FastifyInstance } from 'fastify';
import { createConsoleServer } from '../../src/console/index.js';
import { loadConfig } from '../../src/server/config.js';
import { quiet } from '../helpers/worker-process.js';

export const ADMIN = 'admin-secret-0123456789abcdef';
export const VIEWER = 'viewer-secret-0123456789abcdef';
export const SUBMITTER = 'submit-secret-0123456789abcdef';
export const TOKENS = `ops:${ADMIN}:admin;viewer:${VIEWER}:read;producer:${SUBMITTER}:submit`;

/** `hopper dashboard` in this process on a free port, configured as from the environment. */
export async function startConsole(
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<{ app: FastifyInstance; origin: string; base: string }> {
  const config = loadConfig({
    REDIS_URL: redisUrl,
    HOPPER_TOKENS: TOKENS,
    HOST: '127.0.0.1',
    PORT: '0',
    ...env,
  });
  const app = createConsoleServer(config, quiet);
  const origin = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
  return { app, origin, base: `${origin}${config.dashboardPath}` };
}

export interface Login {
  cookie: string;
  csrf: string;
  role: string;
}

/** Logs in over HTTP as the page does; returns the session cookie and CSRF token. */
export async function login(base: string, token: string): Promise<Login> {
  const origin = new URL(base).origin;
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ token }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { csrf: string; role: string };
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  return { cookie, csrf: body.csrf, role: body.role };
}

/** A console API call with the session; `headers` override (to forge requests). */
export async function call(
  base: string,
  s: Login | null,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: JSON replies, read field by field in the tests
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/api/${path}`, {
    method,
    headers: {
      origin: new URL(base).origin,
      ...(s ? { cookie: s.cookie, 'x-hopper-csrf': s.csrf } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed };
}
