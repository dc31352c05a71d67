/**
 * Secrets never reach logs or thrown errors. ioredis errors may carry the AUTH
 * command and its arguments (`command.args`), and URLs carry passwords.
 */

const MASK = '***';

/**
 * A URL with its credentials masked: everything between `scheme://` and the LAST `@`
 * (a password may hold `@`, `/`, `:` or `%`, so neither the first `@` nor the first `/`
 * bounds it). The user name before the first `:` stays. Works on strings that are not
 * valid URLs too: the error for an unparsable URL must not echo the password either.
 */
export function redactUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)@/is.exec(url);
  if (!m) return url;
  const cred = m[2]!;
  const colon = cred.indexOf(':');
  const user = colon > 0 ? cred.slice(0, colon) : '';
  return `${m[1]}${user ? `${user}:` : ''}${MASK}@${url.slice(m[0].length)}`;
}

/** A URL's decoded password (the raw text if it does not decode), or undefined when it has none or does not parse. */
export function urlPassword(url: string): string | undefined {
  let raw: string;
  try {
    raw = new URL(url).password;
  } catch {
    return undefined;
  }
  if (!raw) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Free text with every `scheme://...@...` run (up to whitespace) masked as by redactUrl. */
export function redactText(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/\S*@\S*/gi, (u) => redactUrl(u));
}

/** The forms a secret may take in text: as given and percent-encoded (as in a URL). */
function forms(secrets: readonly (string | undefined)[]): string[] {
  const out = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    out.add(s);
    out.add(encodeURIComponent(s));
  }
  return [...out];
}

function maskIn(text: string, secrets: readonly string[]): string {
  let out = redactText(text);
  for (const s of secrets) out = out.split(s).join(MASK);
  return out;
}

/** Commands whose arguments after these positions are credentials, whatever they hold. */
const CREDENTIAL_COMMANDS = new Set(['auth', 'hello', 'migrate', 'acl', 'config']);

function maskArgs(name: string, args: unknown[], secrets: readonly string[]): unknown[] {
  if (CREDENTIAL_COMMANDS.has(name.toLowerCase())) {
    // HELLO 3 AUTH user pass: the protocol version may stay, the rest goes.
    if (name.toLowerCase() === 'hello') return args.map((a, i) => (i === 0 ? a : MASK));
    return args.map(() => MASK);
  }
  return args.map((a) => {
    const text = typeof a === 'string' ? a : Buffer.isBuffer(a) ? a.toString('latin1') : undefined;
    return text !== undefined && secrets.some((s) => text.includes(s)) ? MASK : a;
  });
}

/**
 * Removes secrets from `err` IN PLACE and returns it: message and stack masked, the
 * arguments of `command` (ioredis attaches `{ name, args }`, and for a failed AUTH or
 * HELLO they are the credentials) masked, other string properties and nested errors
 * (`cause`, `previousErrors`, `lastNodeError`) likewise. In place because one ioredis
 * error object reaches several places at once: every queued command's rejection, a
 * pipeline's results and the client's 'error' event.
 */
export function scrubError<T>(err: T, secrets: readonly (string | undefined)[], depth = 0): T {
  if (err === null || typeof err !== 'object' || depth > 3) return err;
  const all = forms(secrets);
  const e = err as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(e)) {
    let value: unknown;
    try {
      value = e[key];
    } catch {
      continue;
    }
    let clean: unknown = value;
    if (typeof value === 'string') clean = maskIn(value, all);
    else if (key === 'command' && value && typeof value === 'object') {
      const c = value as { name?: unknown; args?: unknown };
      const name = typeof c.name === 'string' ? c.name : '';
      clean = { name, args: Array.isArray(c.args) ? maskArgs(name, c.args, all) : [] };
    } else if (Array.isArray(value)) {
      for (const item of value) if (item instanceof Error) scrubError(item, secrets, depth + 1);
      continue;
    } else if (value instanceof Error) {
      scrubError(value, secrets, depth + 1);
      continue;
    } else continue;
    if (clean === value) continue;
    try {
      e[key] = clean;
    } catch {
      // A read-only property: leave it (none of ioredis's are).
    }
  }
  return err;
}

/** A copy of `err` (message and stack only) without command arguments and with any secrets masked. */
export function redactError(err: unknown, secrets: (string | undefined)[] = []): Error {
  const source = err instanceof Error ? err : new Error(String(err));
  const all = forms(secrets);
  const clean = new Error(maskIn(source.message, all));
  clean.name = source.name;
  if (source.stack) clean.stack = maskIn(source.stack, all);
  return clean;
}
