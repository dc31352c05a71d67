import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a test's Redis that can cut a client off, as a long network
 * cut or a Redis kill does to the calls in flight: `cut()` drops every connection and
 * holds new ones until `restore()` (or for `holdMs` if given). `loseReplyWith(marker)`
 * loses the first reply carrying `marker` (Redis ran the command; the client never
 * hears back) and cuts.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private marker: string | undefined;
  private holdMs: number | undefined;
  /** A reply carrying the marker was lost. */
  lostReply = false;

  constructor(private readonly upstreamPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  listen(): Promise<number> {
    return new Promise((r) =>
      this.server.listen(0, '127.0.0.1', () => r((this.server.address() as { port: number }).port)),
    );
  }

  loseReplyWith(marker: string, holdMs: number): void {
    this.marker = marker;
    this.holdMs = holdMs;
  }

  cut(holdMs?: number): void {
    this.held ??= new Promise((r) => {
      this.release = r;
    });
    for (const s of this.sockets) s.destroy();
    if (holdMs !== undefined) setTimeout(() => this.restore(), holdMs);
  }

  restore(): void {
    this.release?.();
    this.held = undefined;
    this.release = undefined;
  }

  close(): void {
    this.restore();
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  private async accept(client: Socket): Promise<void> {
    this.sockets.add(client);
    client.pause();
    client.on('error', () => {});
    await this.held;
    if (client.destroyed) return;
    const upstream = connect(this.upstreamPort, '127.0.0.1');
    this.sockets.add(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (this.marker !== undefined && !this.lostReply && d.includes(this.marker)) {
        this.lostReply = true;
        this.cut(this.holdMs);
        return;
      }
      client.write(d);
    });
    for (const s of [client, upstream]) {
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.resume();
  }
}
