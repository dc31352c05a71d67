import { createHash } from 'node:crypto';
import { ValidationError } from '../util/errors.js';

/**
 * What a token may do. `submit`: add jobs and track events, and read the jobs it added.
 * `read`: the metrics summary (without failed jobs' data and stacks), Prometheus, the
 * OpenAPI document. `metrics`: `GET /metrics` only (a scraper). `admin`: everything,
 * any job, failure data and stacks. `work`: pull jobs and report their outcomes (HTTP workers).
 */
export const SCOPES = ['submit', 'read', 'metrics', 'admin', 'work'] as const;
export type Scope = (typeof SCOPES)[number];

/** A configured bearer token. `name` is what the server stores and logs; the secret never leaves memory. */
export interface ApiToken {
  name: string;
  secret: string;
  scopes: Scope[];
}

export const MIN_SECRET_LENGTH = 16;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The name of a token configured without one (the old HOPPER_API_TOKENS form): a short
 * digest, so jobs can be stamped with an owner that reveals nothing usable.
 */
export function anonymousName(secret: string): string {
  return `t-${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`;
}

function checkSecret(variable: string, secret: string): void {
  // Messages never quote the secret.
  if (secret.length < MIN_SECRET_LENGTH || /[\s;]/.test(secret))
    throw new ValidationError(
      variable,
      `each token must be at least ${MIN_SECRET_LENGTH} characters, without spaces or ;`,
    );
}

/** `a,b,c`: the old form (HOPPER_API_TOKENS, HOPPER_METRICS_TOKENS), every token with `scopes`. */
export function plainTokens(variable: string, value: string | undefined, scopes: Scope[]): ApiToken[] {
  return (value ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map((secret) => {
      checkSecret(variable, secret);
      return { name: anonymousName(secret), secret, scopes };
    });
}

/**
 * HOPPER_TOKENS: one entry per token, `name:secret:scope,scope`, entries separated by `;`
 * or new lines. The secret may hold `:` (the name ends at the first, the scopes start
 * after the last).
 */
export function namedTokens(variable: string, value: string | undefined): ApiToken[] {
  const out: ApiToken[] = [];
  for (const raw of (value ?? '').split(/[;\n]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const first = entry.indexOf(':');
    const last = entry.lastIndexOf(':');
    if (first < 0 || last === first)
      throw new ValidationError(variable, 'each entry must be name:secret:scope[,scope...]');
    const name = entry.slice(0, first);
    if (!NAME.test(name))
      throw new ValidationError(variable, 'token names are 1 to 64 letters, digits, _ . or -');
    const secret = entry.slice(first + 1, last);
    checkSecret(`${variable} (${name})`, secret);
    const scopes = entry
      .slice(last + 1)
      .split(',')
      .map((s) => s.trim());
    for (const s of scopes)
      if (!(SCOPES as readonly string[]).includes(s))
        throw new ValidationError(
          `${variable} (${name})`,
          `unknown scope ${JSON.stringify(s.slice(0, 20))}: use ${SCOPES.join(', ')}`,
        );
    out.push({ name, secret, scopes: [...new Set(scopes as Scope[])] });
  }
  return out;
}

/** Two entries with one secret would make the scopes a request gets depend on the order. */
export function checkDistinct(variable: string, tokens: ApiToken[]): ApiToken[] {
  const secrets = new Set<string>();
  const names = new Set<string>();
  for (const t of tokens) {
    if (secrets.has(t.secret)) throw new ValidationError(variable, `token ${t.name} is configured twice`);
    if (names.has(t.name)) throw new ValidationError(variable, `two tokens are named ${t.name}`);
    secrets.add(t.secret);
    names.add(t.name);
  }
  return tokens;
}

export const hasScope = (scopes: readonly Scope[], wanted: readonly Scope[]): boolean =>
  scopes.includes('admin') || wanted.some((s) => scopes.includes(s));
