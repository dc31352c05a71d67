import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { SpoolFullError } from './errors.js';
import { decodeFrame, encodeFrame } from './frame.js';
import { acquireLock } from './lock.js';
import type { CheckedSpoolOptions } from './options.js';

/** One spooled call: the producer run and sequence number it was made under, when, and its payload. */
export interface SpoolRecord {
  run: string;
  seq: number;
  ts: number;
  body: string;
}

/** A record read back, with the position just past it (what `ack` takes). */
export interface ReadRecord extends SpoolRecord {
  seg: number;
  end: number;
}

export interface SpoolLogStats {
  /** Records not yet acknowledged (replayed). */
  depth: number;
  /** Bytes of the spool's segment files on disk. */
  bytes: number;
  /** Add time (ms) of the oldest record not yet acknowledged, or null when empty. */
  oldest: number | null;
  /** Records skipped because their bytes were damaged (CRC mismatch), since open. */
  corrupt: number;
}

const SEGMENT = /^(\d{10})\.seg$/;
const segName = (n: number) => `${String(n).padStart(10, '0')}.seg`;
/** One read hands back at most this many bytes of a segment. */
const READ_CHUNK = 4 * 1024 * 1024;

/**
 * The spool on disk: an append-only log of length-prefixed, CRC32-checked records in
 * numbered segment files, and an `ack` file holding how far replay got (segment and
 * byte offset). Segments wholly behind the ack are deleted. On open, a torn record at
 * the end (a write cut short by a crash) is cut off, and writing continues in a new
 * segment. All file calls are synchronous: a spooled add is on disk (in the OS's cache
 * at least) before it resolves, so a killed process loses nothing it confirmed.
 */
export class SpoolLog {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly fsync: CheckedSpoolOptions['fsync'];
  private readonly release: () => void;
  private segments: number[] = [];
  private sizes = new Map<number, number>();
  private writeSeg = 0;
  private fd = -1;
  private ackSeg = 0;
  private ackOff = 0;
  private depth = 0;
  /** Add times of unacknowledged records, run-length encoded: [ts, count] pairs from `ageHead`. */
  private ages: [number, number][] = [];
  private ageHead = 0;
  private corrupt = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    options: CheckedSpoolOptions,
    private readonly onCorrupt: (message: string) => void = () => {},
  ) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.fsync = options.fsync;
    this.segmentBytes = Math.max(64 * 1024, Math.min(64 * 1024 * 1024, Math.floor(options.maxBytes / 8)));
    mkdirSync(this.dir, { recursive: true });
    this.release = acquireLock(this.dir);
    try {
      this.recover();
    } catch (err) {
      this.release();
      throw err;
    }
    if (this.fsync === 'interval') {
      this.timer = setInterval(() => this.sync(), 1000);
      this.timer.unref();
    }
  }

  /** Appends records in order; throws SpoolFullError (writing none of them) past maxBytes. */
  append(records: SpoolRecord[]): void {
    if (this.closed) throw new Error(`spool ${this.dir} is closed`);
    const frames = records.map((r) => encodeFrame(Buffer.from(`${r.run}\n${r.seq}\n${r.ts}\n${r.body}`)));
    const size = frames.reduce((n, f) => n + f.length, 0);
    if (this.bytes() + size > this.maxBytes) throw new SpoolFullError(this.dir, this.maxBytes);
    if (this.sizes.get(this.writeSeg)! >= this.segmentBytes) this.roll();
    const buf = frames.length === 1 ? frames[0]! : Buffer.concat(frames, size);
    const before = this.sizes.get(this.writeSeg)!;
    try {
      let at = 0;
      while (at < buf.length) at += writeSync(this.fd, buf, at);
    } catch (err) {
      // A partial write (disk full) must not leave half a record for later ones to follow.
      try {
        ftruncateSync(this.fd, before);
      } catch {}
      throw err;
    }
    this.sizes.set(this.writeSeg, before + size);
    this.depth += records.length;
    const ts = records[0]!.ts;
    const last = this.ages[this.ages.length - 1];
    if (last && this.ages.length > this.ageHead && last[0] === ts) last[1] += records.length;
    else this.ages.push([ts, records.length]);
    if (this.fsync === 'always') fdatasyncSync(this.fd);
    else this.dirty = true;
  }

  /** Up to `max` records after the acknowledged position, in order. */
  read(max: number): ReadRecord[] {
    for (;;) {
      const seg = this.ackSeg;
      const off = this.ackOff;
      const size = this.sizes.get(seg) ?? 0;
      if (off >= size) {
        if (seg === this.writeSeg) return [];
        this.moveAck(this.nextSegment(seg), 0);
        continue;
      }
      let buf = this.readSegment(seg, off, Math.min(size - off, READ_CHUNK));
      const first = buf.length >= 8 ? 8 + buf.readUInt32LE(0) : 0;
      if (first > buf.length && first <= size - off) buf = this.readSegment(seg, off, first); // one record over a chunk
      const out: ReadRecord[] = [];
      let at = 0;
      while (out.length < max && at < buf.length) {
        const f = decodeFrame(buf, at, this.maxBytes);
        if (typeof f === 'string') {
          // The chunk ended inside a record, or damage: hand back what came before it first.
          if (out.length > 0) return out;
          this.skipDamaged(seg, off + at, size);
          break;
        }
        out.push({ ...parse(f.body), seg, end: off + f.next });
        at = f.next;
      }
      if (out.length > 0) return out;
    }
  }

  /** Marks everything up to and including `last` replayed: `count` records. */
  ack(last: ReadRecord, count: number): void {
    this.depth = Math.max(0, this.depth - count);
    let n = count;
    while (n > 0 && this.ageHead < this.ages.length) {
      const head = this.ages[this.ageHead]!;
      const take = Math.min(n, head[1]);
      head[1] -= take;
      n -= take;
      if (head[1] === 0) this.ageHead++;
    }
    if (this.ageHead > 1024 && this.ageHead * 2 > this.ages.length) {
      this.ages = this.ages.slice(this.ageHead);
      this.ageHead = 0;
    }
    this.moveAck(last.seg, last.end);
    // Drained: start a fresh segment so the replayed bytes leave the disk.
    if (last.seg === this.writeSeg && last.end === this.sizes.get(this.writeSeg) && last.end > 0) {
      this.roll();
      this.moveAck(this.writeSeg, 0);
    }
  }

  stats(): SpoolLogStats {
    const head = this.ages[this.ageHead];
    return { depth: this.depth, bytes: this.bytes(), oldest: head ? head[0] : null, corrupt: this.corrupt };
  }

  /** Flushes written records to the disk (the `interval` policy's timer calls it). */
  sync(): void {
    if (!this.dirty || this.fd < 0) return;
    this.dirty = false;
    try {
      fdatasyncSync(this.fd);
    } catch {}
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.dirty = true;
    this.sync();
    closeSync(this.fd);
    this.fd = -1;
    this.release();
  }

  private bytes(): number {
    let n = 0;
    for (const s of this.sizes.values()) n += s;
    return n;
  }

  private recover(): void {
    this.segments = readdirSync(this.dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    try {
      const [seg, off] = readFileSync(join(this.dir, 'ack'), 'utf8').trim().split(' ').map(Number);
      this.ackSeg = seg!;
      this.ackOff = off!;
    } catch {
      this.ackSeg = this.segments[0] ?? 0;
      this.ackOff = 0;
    }
    for (const s of this.segments) {
      if (s < this.ackSeg) {
        unlinkSync(join(this.dir, segName(s)));
        continue;
      }
      const path = join(this.dir, segName(s));
      const data = readFileSync(path);
      let at = s === this.ackSeg ? Math.min(this.ackOff, data.length) : 0;
      while (at < data.length) {
        const f = decodeFrame(data, at, this.maxBytes);
        if (typeof f === 'string') break;
        const r = parse(f.body);
        const last = this.ages[this.ages.length - 1];
        if (last && last[0] === r.ts) last[1]++;
        else this.ages.push([r.ts, 1]);
        this.depth++;
        at = f.next;
      }
      if (at < data.length) {
        if (s === this.segments[this.segments.length - 1]) {
          // A record cut short (or garbled) at the very end: a write the crash interrupted.
          const fd = openSync(path, 'r+');
          ftruncateSync(fd, at);
          closeSync(fd);
        } else {
          this.corrupt++;
          this.onCorrupt(
            `spool ${this.dir}: segment ${segName(s)} is damaged at byte ${at}; the rest of it is skipped`,
          );
        }
      }
      this.sizes.set(s, s === this.segments[this.segments.length - 1] ? at : data.length);
    }
    this.segments = this.segments.filter((s) => s >= this.ackSeg);
    if (this.segments[0] !== this.ackSeg) {
      this.ackSeg = this.segments[0] ?? 0;
      this.ackOff = 0;
    }
    this.writeSeg = (this.segments[this.segments.length - 1] ?? 0) + 1;
    this.openSegment(this.writeSeg);
    if (this.ackSeg === 0) this.ackSeg = this.writeSeg;
    this.moveAck(this.ackSeg, this.ackOff);
  }

  private openSegment(n: number): void {
    this.fd = openSync(join(this.dir, segName(n)), 'a');
    this.segments.push(n);
    this.sizes.set(n, 0);
    if (this.fsync === 'always') syncDir(this.dir);
  }

  private roll(): void {
    this.sync();
    closeSync(this.fd);
    this.writeSeg++;
    this.openSegment(this.writeSeg);
  }

  private nextSegment(s: number): number {
    return this.segments.find((x) => x > s) ?? this.writeSeg;
  }

  private moveAck(seg: number, off: number): void {
    this.ackSeg = seg;
    this.ackOff = off;
    const tmp = join(this.dir, 'ack.tmp');
    writeFileSync(tmp, `${seg} ${off}\n`);
    renameSync(tmp, join(this.dir, 'ack'));
    for (const s of this.segments.filter((x) => x < seg)) {
      try {
        unlinkSync(join(this.dir, segName(s)));
      } catch {}
      this.sizes.delete(s);
    }
    this.segments = this.segments.filter((x) => x >= seg);
  }

  private readSegment(seg: number, from: number, length: number): Buffer {
    const fd = openSync(join(this.dir, segName(seg)), 'r');
    try {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, from + got);
        if (n === 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  }

  /** Damaged bytes mid-log: the rest of that segment cannot be trusted, so replay skips it. */
  private skipDamaged(seg: number, at: number, size: number): void {
    this.corrupt++;
    this.onCorrupt(
      `spool ${this.dir}: segment ${segName(seg)} is damaged at byte ${at}; skipping its remaining ${size - at} bytes`,
    );
    if (seg === this.writeSeg) this.roll();
    this.moveAck(this.nextSegment(seg), 0);
  }
}

function parse(body: Buffer): SpoolRecord {
  const text = body.toString('utf8');
  const a = text.indexOf('\n');
  const b = text.indexOf('\n', a + 1);
  const c = text.indexOf('\n', b + 1);
  return {
    run: text.slice(0, a),
    seq: Number(text.slice(a + 1, b)),
    ts: Number(text.slice(b + 1, c)),
    body: text.slice(c + 1),
  };
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    fstatSync(fd);
    fdatasyncSync(fd);
    closeSync(fd);
  } catch {}
}
