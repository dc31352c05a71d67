import { setMaxListeners } from 'node:events';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { reconnectDelay } from '../../redis/connection.js';
import { RestReplyError, RestRequestError, RestUnavailableError } from './errors.js';

/** Most bytes of a reply read; a larger one is an error, not an unbounded buffer. */
const MAX_REPLY_BYTES = 256 * 1024 * 1024;

/** A transport failure or a 5xx: worth another try. */
class Retryable extends Error {}

/**
 * Posts commands to an Upstash-compatible endpoint over keep-alive connections (node:http:
 * less per-request overhead than fetch), asks for base64 replies (binary-safe) and decodes
 * them, and retries transport failures and 5xx answers with jittered exponential backoff.
 * A retried request may have run before its answer was lost, as a command resent by
 * ioredis after a reconnect may: Hopper's writes are idempotent by request id.
 */
export class RestHttp {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly base: URL;
  private readonly auth: string;
  private readonly closed = new AbortController();
  /** Called when a request fails in transport and when one succeeds again after that. */
  onDown: (err: Error) => void = () => {};
  onUp: () => void = () => {};
  private down = false;

  constructor(
    url: string,
    token: string,
    private readonly timeoutMs: number,
    private readonly retries: number,
  ) {
    this.base = new URL(`${url}/`);
    const https = this.base.protocol === 'https:';
    this.agent = https
      ? new HttpsAgent({ keepAlive: true, noDelay: true })
      : new HttpAgent({ keepAlive: true, noDelay: true });
    this.send = https ? httpsRequest : httpRequest;
    this.auth = `Bearer ${token}`;
    // Every request in flight listens for close(): many at once is normal here.
    setMaxListeners(0, this.closed.signal);
  }

  /** `path` '' for one command, 'pipeline' or 'multi-exec' for many. */
  async post(path: string, body: unknown, binary = false, retries = this.retries): Promise<unknown> {
    const payload = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      if (this.closed.signal.aborted) throw new RestUnavailableError('the client is closed');
      try {
        const reply = await this.once(path, payload, binary);
        if (this.down) {
          this.down = false;
          this.onUp();
        }
        return reply;
      } catch (err) {
        // A reply error (4xx) still proves the endpoint is up.
        if (!(err instanceof Retryable)) {
          if (this.down && err instanceof RestReplyError) {
            this.down = false;
            this.onUp();
          }
          throw err;
        }
        if (!this.down) {
          this.down = true;
          this.onDown(err);
        }
        if (attempt >= retries)
          throw new RestUnavailableError(`the REST endpoint did not answer: ${err.message}`);
        await sleep(reconnectDelay(attempt), undefined, { signal: this.closed.signal }).catch(() => {});
      }
    }
  }

  close(): void {
    this.closed.abort();
    this.agent.destroy();
  }

  private once(path: string, payload: string, binary: boolean): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = this.send(
        new URL(path, this.base),
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            authorization: this.auth,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            'upstash-encoding': 'base64',
          },
          timeout: this.timeoutMs,
          signal: this.closed.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_REPLY_BYTES) res.destroy(new Error(`reply larger than ${MAX_REPLY_BYTES} bytes`));
            else chunks.push(c);
          });
          res.on('error', (e) => reject(new Retryable(e.message)));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            let json: { result?: unknown; error?: unknown } | undefined;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              json = undefined;
            }
            const error = typeof json?.error === 'string' ? json.error : undefined;
            if (status >= 500 || (status === 0 && !json))
              return reject(new Retryable(`HTTP ${status}${error ? `: ${error}` : ''}`));
            // Redis's own answer to the command (or a refusal of it): what ioredis would reject with.
            if (status === 400 && error) return reject(new RestReplyError(error));
            if (status !== 200 || json === undefined)
              return reject(new RestRequestError(status, error ?? 'unexpected reply'));
            resolve(decode(Array.isArray(json) ? json : json.result, binary));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) =>
        reject(
          this.closed.signal.aborted
            ? new RestUnavailableError('the client is closed')
            : new Retryable(e.message),
        ),
      );
      req.end(payload);
    });
  }
}

/**
 * Base64 strings back to text (or to Buffers for ioredis' `...Buffer` variants: exact
 * bytes), a plain "OK" as is; pipeline entries keep their `{ result | error }` shape.
 */
function decode(value: unknown, binary: boolean): unknown {
  if (typeof value === 'string') {
    if (value === 'OK') return binary ? Buffer.from(value) : value;
    const bytes = Buffer.from(value, 'base64');
    return binary ? bytes : bytes.toString('utf8');
  }
  if (Array.isArray(value)) return value.map((v) => decode(v, binary));
  if (value && typeof value === 'object') {
    const o = value as { result?: unknown; error?: unknown };
    return 'error' in o ? { error: o.error } : { result: decode(o.result, binary) };
  }
  return value;
}
