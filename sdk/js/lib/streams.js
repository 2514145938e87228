// Streams of the SDK, over tug's WIT resources. Each is an async iterable that releases its handles when it
// ends, is broken off (`break`, `return()`), fails, or is destroyed (`destroy()`, `Symbol.dispose`,
// `Symbol.asyncDispose`). A little of Node's stream surface is there for dockerode scripts: `on('data' |
// 'end' | 'error' | 'close')`, `pipe(dest)`, `destroy()`.
//
// Waiting: a WIT `next` call blocks the whole plugin, timers included. Streams that may wait long (followed
// logs, attach and exec output, events, progress) first poll the handle's pollable with a 10 ms timeout and
// yield to the event loop between polls, so timers and other tasks run while nothing arrives.

import { poll } from 'wasi:io/poll@0.2.12';
import { subscribeDuration } from 'wasi:clocks/monotonic-clock@0.2.12';
import { Buffer, toBytes } from './buffer.js';
import { _track, _sleepNative, _timersArmed } from './globals.js';
import { guard } from './wit.js';
import { fromComponentError, isComponentError, TransportError } from './errors.js';

const MAX_FRAME = 1 << 20; // bytes asked of each frame-reader call
const READ_CHUNK = 65536n; // bytes asked of each input-stream read
const MAX_READ = BigInt(MAX_FRAME); // bytes asked of each read of a frame-reader's input-stream
const WRITE_MAX = 4096; // wasi blocking-write-and-flush takes at most 4096 bytes per call
const KINDS = ['stdin', 'stdout', 'stderr', 'system'];
const KIND_BYTE = { stdin: 0, stdout: 1, stderr: 2, system: 3 };
const decoder = new TextDecoder();

/** One piece of a process's output: a Buffer of its bytes with `stream` ('stdout' | 'stderr' | …);
 * `data` is the Buffer itself, so `const {stream, data} = frame` works. */
export class Frame extends Buffer {
  get data() { return this; }
}

function dispose(h) {
  if (h) { try { h[Symbol.dispose](); } catch { /* already gone */ } }
}

let waiting = 0; // streams in waitReady now

/**
 * Waits until `s._h` has something to read, yielding to the event loop meanwhile. After one turn of the
 * event loop (every microtask has run), when no timer is armed and no other stream is waiting, nothing
 * else can become runnable but through this stream's data: it blocks in `poll` on the handle alone, which
 * spares a timer and a turn of the loop per wait (logs are read as fast as they come). Otherwise it polls
 * with a 10 ms timeout and lets timers and other tasks run between polls.
 */
async function waitReady(s) {
  const p = s._poll ??= s._h.subscribe();
  if (p.ready()) return;
  waiting += 1;
  try {
    while (s._h !== null && !p.ready()) {
      await _sleepNative(0);
      if (s._h === null) return;
      if (waiting === 1 && !_timersArmed()) {
        poll([p]);
        return;
      }
      const t = subscribeDuration(10_000_000n);
      try { poll([p, t]); } finally { t[Symbol.dispose](); }
    }
  } finally {
    waiting -= 1;
  }
}

const DONE = Object.freeze({ value: undefined, done: true });

/**
 * An async iterator over stream `s` that costs one settled promise per item when data is ready (an async
 * generator's resumption costs the interpreter much more): `buffered()` gives an item already at hand, or
 * undefined; `step()` reads without waiting and gives `{value, done}`. It waits (`waitReady`) only when
 * the handle is not ready, and releases the handles at the end, on `return()`, `throw()` or an error.
 */
function readyIterator(s, step, buffered = () => undefined) {
  const slow = async () => {
    try {
      await waitReady(s);
    } catch (e) { s._close(); throw e; }
    if (s._h === null) return DONE;
    return next();
  };
  const next = () => {
    try {
      const b = buffered();
      if (b !== undefined) return Promise.resolve({ value: b, done: false });
      if (s._h === null) return Promise.resolve(DONE);
      if (s._wait) {
        const p = s._poll ??= s._h.subscribe();
        if (!p.ready()) return slow();
      }
      const r = step();
      if (r.done) s._close();
      return Promise.resolve(r);
    } catch (e) {
      s._close();
      return Promise.reject(e);
    }
  };
  return {
    next,
    return() { s._close(); return Promise.resolve(DONE); },
    throw(e) { s._close(); return Promise.reject(e); },
    [Symbol.asyncIterator]() { return this; },
  };
}

/** Base of the SDK's streams: handle release, events, pipe. */
class HandleStream {
  constructor(handle, fn) {
    this._h = handle;
    this._fn = fn;
    this._poll = null;
    this._listeners = null;
    this._flowing = false;
    this._ended = false;
    this.destroyed = false;
  }
  /** Releases the handles (idempotent). */
  _close() {
    if (this.destroyed) return;
    this.destroyed = true;
    this._closeChildren();
    dispose(this._poll); this._poll = null;
    dispose(this._h); this._h = null;
    this.emit('close');
  }
  _closeChildren() {}
  _end() {
    if (!this._ended) { this._ended = true; this.emit('end'); }
    this._close();
  }
  destroy(err) { this._close(); if (err) this.emit('error', err); return this; }
  [Symbol.dispose]() { this._close(); }
  async [Symbol.asyncDispose]() { this._close(); }

  on(event, fn) {
    (this._listeners ??= new Map());
    if (!this._listeners.has(event)) this._listeners.set(event, []);
    this._listeners.get(event).push(fn);
    if (event === 'data' && !this._flowing) this._startFlow();
    return this;
  }
  once(event, fn) {
    const w = (...a) => { this.off(event, w); fn(...a); };
    return this.on(event, w);
  }
  off(event, fn) {
    const l = this._listeners?.get(event);
    if (l) { const i = l.indexOf(fn); if (i >= 0) l.splice(i, 1); }
    return this;
  }
  removeListener(event, fn) { return this.off(event, fn); }
  addListener(event, fn) { return this.on(event, fn); }
  removeAllListeners(event) { if (event) this._listeners?.delete(event); else this._listeners?.clear(); return this; }
  emit(event, ...args) {
    const l = this._listeners?.get(event);
    if (!l || l.length === 0) return false;
    for (const fn of [...l]) fn(...args);
    return true;
  }
  resume() { if (!this._flowing) this._startFlow(); return this; }
  pause() { return this; }
  setEncoding(enc) { this._encoding = enc; return this; }

  /** The chunks 'data' events and `pipe` pass on (Buffers). */
  _rawChunks() { throw new Error('abstract'); }

  _startFlow() {
    this._flowing = true;
    _track((async () => {
      await null;
      try {
        for await (const chunk of this._rawChunks()) {
          this.emit('data', this._encoding ? chunk.toString(this._encoding) : chunk);
        }
      } catch (e) {
        if (!this.emit('error', e)) throw e;
      }
    })());
  }

  /** Writes every chunk into `dest` (anything with `write`); calls `dest.end()` at the end unless
   * `{end: false}` or `dest` is process.stdout/stderr. Returns `dest`. */
  pipe(dest, { end = true } = {}) {
    this._flowing = true;
    _track((async () => {
      try {
        for await (const chunk of this._rawChunks()) dest.write(chunk);
        if (end && typeof dest.end === 'function' && dest.fd !== 1 && dest.fd !== 2) dest.end();
      } catch (e) {
        if (!this.emit('error', e)) throw e;
      }
    })());
    return dest;
  }

  /** Reads the whole stream into one Buffer. */
  async collect() {
    const parts = [];
    for await (const c of this._rawChunks()) parts.push(c);
    return Buffer.concat(parts);
  }
}

/**
 * Output of a process: followed logs, attach, exec. Iterating gives `Frame`s (demultiplexed: a Buffer with
 * `stream` 'stdout' | 'stderr'); `raw()` gives Buffers in the Engine API's wire format (8-byte headers
 * before each frame unless `tty`), which is also what 'data' events and `pipe` carry, as in dockerode.
 */
export class FrameStream extends HandleStream {
  /**
   * `handle` is a frame-reader or an attached-socket. `intoStream` (a frame-reader's `into-stream`) turns
   * the reader into a wasi input-stream of the wire format at once: a JavaScript guest copies a stream
   * read into its memory for about 1 ns a byte, and lifts a `list<u8>` result for about 20.
   */
  constructor(handle, fn, { wait = true, intoStream } = {}) {
    super(handle, fn);
    this._wait = wait;
    this._tty = undefined;
    this._in = false; // reading an input-stream
    if (intoStream) {
      this._tty = guard(fn, () => handle.tty());
      this._h = guard(fn, () => intoStream(handle));
      this._in = true;
    }
    this._rm = this._in || typeof handle.readMultiplexed === 'function';
  }
  /** Whether the process has a TTY (then all output is raw 'stdout' bytes, without headers). */
  get tty() {
    if (this._tty === undefined) this._tty = this._h ? guard(this._fn, () => this._h.tty()) : false;
    return this._tty;
  }

  /** A wire-format chunk (waiting for one if none has arrived), or undefined at the end. */
  _wireSync(h) {
    if (!this._in) {
      const c = guard(this._fn, () => h.readMultiplexed(MAX_FRAME));
      if (c === undefined) this._end();
      return c;
    }
    try {
      return h.blockingRead(MAX_READ);
    } catch (e) {
      if (isComponentError(e) && e.payload.tag === 'closed') { this._end(); return undefined; }
      throw fromComponentError(e, this._fn);
    }
  }

  /** The next chunk in wire format without waiting for readiness, or undefined at the end. */
  _chunkSync() {
    const h = this._h;
    if (h === null) return undefined;
    if (this._rm) return this._wireSync(h);
    const f = guard(this._fn, () => h.next(MAX_FRAME));
    if (f === undefined) { this._end(); return undefined; }
    if (this.tty) return f.data;
    const out = new Uint8Array(8 + f.data.length);
    out[0] = KIND_BYTE[f.stream];
    out[4] = f.data.length >>> 24; out[5] = f.data.length >>> 16; out[6] = f.data.length >>> 8; out[7] = f.data.length;
    out.set(f.data, 8);
    return out;
  }

  /** Reads the whole stream into one Buffer (wire format); without waiting when not followed. */
  async collect() {
    if (this._wait) return super.collect();
    const parts = [];
    try {
      this.tty; // asked before the handle goes
      for (let c; (c = this._chunkSync()) !== undefined;) parts.push(c);
    } finally { this._close(); }
    return Buffer.concat(parts);
  }

  _rawChunks() { return this.raw(); }
  /**
   * Buffers in the Engine API's wire format (multiplexed unless `tty`), each holding every frame that had
   * arrived (`read-multiplexed`). A hand-written iterator, as `frames()`: a settled promise per chunk
   * that is ready.
   */
  raw() {
    return readyIterator(this, () => {
      const c = this._chunkSync();
      return c === undefined ? DONE : { value: Buffer._wrap(c), done: false };
    });
  }

  /** Reads what is there without waiting for readiness: a wire-format chunk (readMultiplexed, or the
   * input-stream), a Frame
   * (next), or undefined at the end. */
  _readSync() {
    const h = this._h;
    if (h === null) return undefined;
    if (this._rm) return this._wireSync(h);
    const f = guard(this._fn, () => h.next(MAX_FRAME));
    if (f === undefined) { this._end(); return undefined; }
    const d = f.data;
    Object.setPrototypeOf(d, Frame.prototype);
    d.stream = f.stream;
    return d;
  }

  /**
   * Demultiplexed frames. A hand-written iterator rather than an async generator: when data is ready,
   * `next()` reads synchronously and returns a settled promise, which costs the interpreter much less per
   * frame than a generator's resumption.
   */
  frames() {
    const self = this;
    const tty = this.tty;
    let queue = null, qi = 0, rest = null;
    // Frames of one wire-format chunk into `queue`.
    const parse = (c) => {
      queue = []; qi = 0;
      if (tty) {
        const fr = new Frame(c.buffer, c.byteOffset, c.byteLength);
        fr.stream = 'stdout';
        queue.push(fr);
        return;
      }
      if (rest !== null) {
        const j = new Uint8Array(rest.length + c.length); j.set(rest); j.set(c, rest.length);
        c = j; rest = null;
      }
      const buf = c.buffer, base = c.byteOffset, n = c.length;
      let off = 0;
      while (off + 8 <= n) {
        const len = ((c[off + 4] << 24) >>> 0) + ((c[off + 5] << 16) | (c[off + 6] << 8) | c[off + 7]);
        if (off + 8 + len > n) break;
        const fr = new Frame(buf, base + off + 8, len);
        fr.stream = KINDS[c[off]] ?? 'stdout';
        queue.push(fr);
        off += 8 + len;
      }
      if (off < n) rest = c.subarray(off);
    };
    // The next frame without waiting, or DONE; with `readMultiplexed` a chunk may hold no whole frame.
    const step = () => {
      for (;;) {
        if (queue !== null && qi < queue.length) return { value: queue[qi++], done: false };
        const x = self._readSync();
        if (x === undefined) return DONE;
        if (!self._rm) return { value: x, done: false };
        parse(x);
      }
    };
    return readyIterator(self, step, () => (queue !== null && qi < queue.length ? queue[qi++] : undefined));
  }
  [Symbol.asyncIterator]() { return this.frames(); }

  /** Reads to the end and returns `{stdout, stderr}` as Buffers. */
  async demux() {
    const out = [], err = [];
    for await (const f of this.frames()) (f.stream === 'stderr' ? err : out).push(f);
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  }
  /** Reads to the end and returns stdout and stderr as one string (UTF-8). */
  async text() {
    const parts = [];
    for await (const f of this.frames()) parts.push(f);
    return decoder.decode(Buffer.concat(parts));
  }
}

/** A hijacked connection to a process (exec start, attach): a FrameStream you can also write stdin to. */
export class AttachStream extends FrameStream {
  constructor(handle, fn) {
    super(handle, fn, { wait: true });
    this._stdin = null;
    this._stdinClosed = false;
    this.writable = true;
  }
  _closeChildren() { dispose(this._stdin); this._stdin = null; }
  /** Writes to the process's stdin (it must have been started or attached with stdin). */
  write(chunk, enc, cb) {
    if (this._h === null || this._stdinClosed) throw new TransportError(`${this._fn}: stdin is closed`, { fn: this._fn });
    const bytes = toBytes(chunk, typeof enc === 'string' ? enc : undefined);
    const h = this._h;
    const os = this._stdin ??= guard(this._fn, () => h.stdin());
    for (let off = 0; off < bytes.length; off += WRITE_MAX) {
      guard(this._fn, () => os.blockingWriteAndFlush(bytes.subarray(off, Math.min(off + WRITE_MAX, bytes.length))));
    }
    const done = typeof enc === 'function' ? enc : cb;
    if (typeof done === 'function') queueMicrotask(() => done(null));
    return true;
  }
  /** Optionally writes a last chunk, then closes stdin (the process reads end-of-file); output goes on. */
  end(chunk, enc, cb) {
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') this.write(chunk, enc);
    if (this._h !== null && !this._stdinClosed) {
      this._stdinClosed = true;
      dispose(this._stdin); this._stdin = null;
      const h = this._h;
      guard(this._fn, () => h.closeStdin());
    }
    const done = [chunk, enc, cb].find((x) => typeof x === 'function');
    if (done) queueMicrotask(() => done(null));
    return this;
  }
  /** Resizes the process's TTY: `{h, w}`. */
  async resize(opts = {}) {
    const h = this._h;
    if (h) guard(this._fn, () => h.resize(Number(opts.h ?? opts.height), Number(opts.w ?? opts.width)));
  }
}

/** A stream of JSON documents (progress, events, stats): iterating gives the parsed objects; 'data' events
 * and `pipe` carry each document's text and a newline as a Buffer, as the Engine API sends it. */
export class JsonStream extends HandleStream {
  constructor(handle, fn) { super(handle, fn); }
  /** The next document's text, or undefined at the end. */
  async _nextText() {
    if (this._h === null) return undefined;
    await waitReady(this);
    if (this._h === null) return undefined;
    const h = this._h;
    const t = guard(this._fn, () => h.next());
    if (t === undefined) { this._end(); return undefined; }
    return t;
  }
  async *[Symbol.asyncIterator]() {
    try {
      for (let t; (t = await this._nextText()) !== undefined;) yield JSON.parse(t);
    } finally { this._close(); }
  }
  async *_rawChunks() {
    try {
      for (let t; (t = await this._nextText()) !== undefined;) yield Buffer.from(`${t}\n`);
    } finally { this._close(); }
  }
  /** Reads to the end and returns every document. */
  async toArray() {
    const out = [];
    for await (const d of this) out.push(d);
    return out;
  }
}

/** Bytes from a wasi input-stream (a tar archive, an export, an image save): iterating gives Buffers. */
export class ByteStream extends HandleStream {
  constructor(handle, fn, closeAlso) { super(handle, fn); this._also = closeAlso; }
  _closeChildren() { dispose(this._also); this._also = null; }
  async *_rawChunks() {
    try {
      for (;;) {
        const h = this._h;
        if (h === null) return;
        let c;
        try {
          c = h.blockingRead(READ_CHUNK);
        } catch (e) {
          if (isComponentError(e) && e.payload.tag === 'closed') { this._end(); return; }
          throw fromComponentError(e, this._fn);
        }
        if (c.length) yield Buffer._wrap(c);
      }
    } finally { this._close(); }
  }
  [Symbol.asyncIterator]() { return this._rawChunks(); }
}

/** Writes `data` (bytes, a string, a Buffer, or a sync/async iterable of them, e.g. a ByteStream) into a
 * wasi output-stream, at most 4096 bytes per call. */
export async function writeAll(os, data, fn) {
  const put = (chunk) => {
    const bytes = toBytes(chunk);
    for (let off = 0; off < bytes.length; off += WRITE_MAX) {
      const part = bytes.subarray(off, Math.min(off + WRITE_MAX, bytes.length));
      guard(fn, () => os.blockingWriteAndFlush(part));
    }
  };
  if (typeof data === 'string' || data instanceof Uint8Array || ArrayBuffer.isView(data) || data instanceof ArrayBuffer) {
    put(data);
  } else if (data && typeof data[Symbol.asyncIterator] === 'function') {
    for await (const c of data) put(c);
  } else if (data && typeof data[Symbol.iterator] === 'function') {
    for (const c of data) put(c);
  } else {
    throw new TypeError(`${fn}: expected bytes, a string or an iterable of chunks`);
  }
}

/** Streams `data` into the body of `up` (an `upload` or `progress-upload`), then finishes it with
 * `finish(up)` (which consumes the handle) and returns what it returns. If the engine stops reading the body,
 * its answer (the real error) wins over the broken write. */
export async function sendUpload(up, data, fn, finish) {
  let body = null, writeErr = null;
  try {
    body = guard(fn, () => up.body());
    await writeAll(body, data, fn);
  } catch (e) {
    writeErr = e;
  } finally {
    dispose(body);
  }
  const out = guard(fn, () => finish(up));
  if (writeErr) { dispose(out?.[Symbol.dispose] ? out : null); throw writeErr; }
  return out;
}

/** dockerode's `modem.demuxStream(stream, stdout, stderr)`: writes each frame's bytes to `stdout.write` or
 * `stderr.write`. `stream` is a FrameStream, a multiplexed Buffer (from `logs({follow: false})`), or an
 * async iterable of wire-format chunks. Returns a promise settled when the stream ends. */
export function demuxStream(stream, stdout, stderr) {
  const sink = (kind, data) => {
    const s = kind === 'stderr' ? stderr : stdout;
    if (s && typeof s.write === 'function') s.write(data);
  };
  if (stream instanceof Uint8Array) {
    for (const f of splitMultiplexed(stream)) sink(f.stream, f);
    return Promise.resolve();
  }
  if (stream instanceof FrameStream) {
    return _track((async () => {
      try {
        for await (const f of stream.frames()) sink(f.stream, f);
      } catch (e) {
        if (!stream.emit('error', e)) throw e;
      }
    })());
  }
  return _track((async () => {
    let rest = new Uint8Array(0);
    for await (const chunk of stream) {
      const c = rest.length ? Buffer.concat([rest, toBytes(chunk)]) : toBytes(chunk);
      const frames = splitMultiplexed(c, true);
      for (const f of frames) sink(f.stream, f);
      rest = c.subarray(frames.consumed);
    }
  })());
}

/** Splits a buffer in the multiplexed wire format into Frames. Without a valid header at the start, the
 * whole buffer is one 'stdout' frame (as docker-modem does with a TTY stream). */
export function splitMultiplexed(buf, partial = false) {
  const c = toBytes(buf);
  const out = [];
  let off = 0;
  while (off + 8 <= c.length) {
    const kind = c[off];
    if (kind > 3 || c[off + 1] || c[off + 2] || c[off + 3]) break;
    const len = ((c[off + 4] << 24) >>> 0) + ((c[off + 5] << 16) | (c[off + 6] << 8) | c[off + 7]);
    if (off + 8 + len > c.length) break;
    const fr = new Frame(c.buffer, c.byteOffset + off + 8, len);
    fr.stream = KINDS[kind];
    out.push(fr);
    off += 8 + len;
  }
  if (!partial && off < c.length) {
    if (off === 0) {
      const fr = new Frame(c.buffer, c.byteOffset, c.length);
      fr.stream = 'stdout';
      out.push(fr);
      off = c.length;
    }
  }
  out.consumed = off;
  return out;
}

/** `{stdout, stderr}` Buffers of a multiplexed Buffer (what `container.logs({follow: false})` resolves to
 * when the container has no TTY). */
export function demux(buf) {
  const out = [], err = [];
  for (const f of splitMultiplexed(buf)) (f.stream === 'stderr' ? err : out).push(f);
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}
