import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiToken, Scope } from '../server/tokens.js';

export type Role = 'admin' | 'read';

export interface Session {
  /** The token's name (never its secret). */
  name: string;
  role: Role;
  /** Expiry, ms. */
  exp: number;
  /** Random per login: the CSRF token is derived from it. */
  nonce: string;
}

export const COOKIE = 'hopper_console';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const digest = (s: string) => createHash('sha256').update(s).digest();

export function roleOf(scopes: readonly Scope[]): Role | null {
  if (scopes.includes('admin')) return 'admin';
  if (scopes.includes('read')) return 'read';
  return null;
}

/**
 * Sessions are signed cookies, not server state: every process of `hopper serve`
 * (HTTP_WORKERS) accepts them, and the key is derived from the configured token
 * secrets, so changing the tokens ends every session. Each request also checks
 * that the session's token is still configured with its role.
 */
export class Sessions {
  private readonly key: Buffer;
  private readonly known: { digest: Buffer; token: ApiToken }[];

  constructor(
    private readonly tokens: ApiToken[],
    readonly ttlMs: number,
    secret?: string,
  ) {
    const material =
      secret ??
      tokens
        .map((t) => t.secret)
        .sort()
        .join('\0');
    // No tokens (auth off) and no secret: a key of this process only.
    this.key = material ? digest(`hopper-console-v1\0${material}`) : randomBytes(32);
    this.known = tokens.map((t) => ({ digest: digest(t.secret), token: t }));
  }

  /**
   * The token presented at login, compared as SHA-256 digests against every configured
   * token (constant time, whichever matches), like the HTTP API's bearer check.
   */
  login(presented: string): Session | 'unknown' | 'no-scope' {
    const d = digest(presented);
    let match: ApiToken | undefined;
    for (const k of this.known) if (timingSafeEqual(d, k.digest)) match = k.token;
    if (!match || presented.length === 0) return 'unknown';
    const role = roleOf(match.scopes);
    if (!role) return 'no-scope';
    return { name: match.name, role, exp: Date.now() + this.ttlMs, nonce: b64(randomBytes(16)) };
  }

  seal(s: Session): string {
    const body = b64(JSON.stringify(s));
    return `${body}.${this.sign(body)}`;
  }

  /** The session a cookie holds, if its signature, expiry and token still hold. */
  open(cookie: string | undefined): Session | null {
    if (!cookie) return null;
    const dot = cookie.indexOf('.');
    if (dot < 0) return null;
    const body = cookie.slice(0, dot);
    const sig = Buffer.from(cookie.slice(dot + 1));
    const want = Buffer.from(this.sign(body));
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return null;
    let s: Session;
    try {
      s = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Session;
    } catch {
      return null;
    }
    if (typeof s.exp !== 'number' || s.exp < Date.now()) return null;
    const token = this.tokens.find((t) => t.name === s.name);
    if (!token) return null;
    const role = roleOf(token.scopes);
    if (!role || (s.role === 'admin' && role !== 'admin')) return null;
    return s;
  }

  /** The double-submit CSRF token of a session: the page sends it back in a header on every action. */
  csrf(s: Session): string {
    return this.sign(`csrf\0${s.nonce}`);
  }

  checkCsrf(s: Session, presented: unknown): boolean {
    if (typeof presented !== 'string') return false;
    const a = Buffer.from(presented);
    const b = Buffer.from(this.csrf(s));
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
