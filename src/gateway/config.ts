import { ValidationError } from '../util/errors.js';
import { DANGEROUS, parseAllowList } from './commands.js';

export interface GatewayConfig {
  /** Bearer tokens any of which may run commands (each at least 16 characters). */
  tokens: string[];
  /** Dangerous commands let through (see commands.ts), upper case. */
  allow: Set<string>;
  /** Largest body read, in bytes (413 past it). */
  bodyLimit: number;
  /** Most commands in one /pipeline or /multi-exec. */
  maxCommands: number;
  /** How long a request's commands may take before a 504. */
  commandTimeoutMs: number;
  /** How long a client may take to send its whole request. */
  requestTimeoutMs: number;
}

export const MIN_TOKEN_LENGTH = 16;

export const GATEWAY_DEFAULTS = {
  bodyLimit: 1024 * 1024,
  maxCommands: 1000,
  commandTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
};

/** Checks what a caller gave (library use) and fills in the defaults. */
export function gatewayConfig(
  input: Partial<Omit<GatewayConfig, 'allow'>> & { tokens: string[]; allow?: Iterable<string> },
): GatewayConfig {
  if (!Array.isArray(input.tokens) || input.tokens.length === 0)
    throw new ValidationError(
      'tokens',
      'at least one token is required: the gateway never runs unauthenticated',
    );
  for (const t of input.tokens)
    if (typeof t !== 'string' || t.length < MIN_TOKEN_LENGTH || /\s/.test(t))
      throw new ValidationError(
        'tokens',
        `each token must be at least ${MIN_TOKEN_LENGTH} characters, without spaces`,
      );
  const allow = new Set([...(input.allow ?? [])].map((a) => a.toUpperCase()));
  for (const a of allow)
    if (!(DANGEROUS as readonly string[]).includes(a) && !DANGEROUS.some((d) => d.startsWith(`${a} `)))
      throw new ValidationError(
        'allow',
        `${JSON.stringify(a.slice(0, 40))} is not a refused command: use ${DANGEROUS.join(', ')}`,
      );
  const positive = (field: keyof typeof GATEWAY_DEFAULTS) => {
    const v = input[field] ?? GATEWAY_DEFAULTS[field];
    if (!Number.isSafeInteger(v) || v <= 0) throw new ValidationError(field, 'must be a positive integer');
    return v;
  };
  return {
    tokens: [...input.tokens],
    allow,
    bodyLimit: positive('bodyLimit'),
    maxCommands: positive('maxCommands'),
    commandTimeoutMs: positive('commandTimeoutMs'),
    requestTimeoutMs: positive('requestTimeoutMs'),
  };
}

const int = (env: NodeJS.ProcessEnv, name: string) => {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ValidationError(name, 'must be a positive integer');
  return n;
};

/** From the environment: HOPPER_GATEWAY_TOKENS (comma-separated), HOPPER_GATEWAY_ALLOW, limits. */
export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const tokens = (env.HOPPER_GATEWAY_TOKENS ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  if (tokens.length === 0)
    throw new ValidationError(
      'HOPPER_GATEWAY_TOKENS',
      'set at least one token (16+ characters): the gateway never runs unauthenticated',
    );
  try {
    return gatewayConfig({
      tokens,
      allow: parseAllowList(env.HOPPER_GATEWAY_ALLOW),
      bodyLimit: int(env, 'HOPPER_GATEWAY_BODY_LIMIT'),
      maxCommands: int(env, 'HOPPER_GATEWAY_MAX_COMMANDS'),
      commandTimeoutMs: int(env, 'HOPPER_GATEWAY_COMMAND_TIMEOUT_MS'),
      requestTimeoutMs: int(env, 'HOPPER_GATEWAY_REQUEST_TIMEOUT_MS'),
    });
  } catch (err) {
    // Name the variable the operator set, not the option it became.
    const variable = { tokens: 'HOPPER_GATEWAY_TOKENS', allow: 'HOPPER_GATEWAY_ALLOW' } as Record<
      string,
      string
    >;
    if (err instanceof ValidationError && variable[err.field])
      throw new ValidationError(variable[err.field]!, err.message.slice(err.field.length + 2));
    throw err;
  }
}
