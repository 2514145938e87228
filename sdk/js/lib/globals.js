// Node-style globals for tug plugins, injected by `tug build` (esbuild `--inject`): `process`, `Buffer`,
// and timer functions that keep the plugin alive while a timer is pending, as Node's event loop does.
//
// Nothing here calls a WIT import while the module is evaluated: top-level code runs at build time (wizer),
// where an import call traps. Until `runMain` starts the script, `process.argv` and `process.env` are
// placeholders; afterwards they are read (once) from wasi:cli/environment.

import { getArguments, getEnvironment } from 'wasi:cli/environment@0.2.12';
import { exitWithCode } from 'wasi:cli/exit@0.2.12';
import { getStdout } from 'wasi:cli/stdout@0.2.12';
import { getStderr } from 'wasi:cli/stderr@0.2.12';
import { Buffer, toBytes } from './buffer.js';

export { Buffer };

const nativeSetTimeout = globalThis.setTimeout;
const nativeClearTimeout = globalThis.clearTimeout;

let started = false;
/** Marks the start of the script (called by `runMain`): from now on imports may be called. */
export function _markStarted() { started = true; startTime = performance.now(); }

const WRITE_MAX = 4096; // wasi blocking-write-and-flush takes at most 4096 bytes per call
let stdoutHandle = null;
let stderrHandle = null;

function writeTo(which, chunk, enc) {
  if (!started) return;
  const bytes = toBytes(chunk, typeof enc === 'string' ? enc : undefined);
  let h;
  if (which === 1) h = stdoutHandle ??= getStdout();
  else h = stderrHandle ??= getStderr();
  for (let off = 0; off < bytes.length; off += WRITE_MAX) {
    h.blockingWriteAndFlush(bytes.subarray(off, Math.min(off + WRITE_MAX, bytes.length)));
  }
}

/** Writes to the plugin's stderr at once (no buffering), in chunks of at most 4096 bytes. */
export function writeStderr(text) { writeTo(2, text); }

function makeWritable(fd) {
  return {
    fd,
    isTTY: false,
    columns: 80,
    writable: true,
    write(chunk, enc, cb) {
      writeTo(fd, chunk, enc);
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') queueMicrotask(() => done(null));
      return true;
    },
    end(chunk, enc, cb) {
      if (chunk !== undefined && typeof chunk !== 'function') writeTo(fd, chunk, enc);
      const done = [chunk, enc, cb].find((x) => typeof x === 'function');
      if (done) queueMicrotask(() => done(null));
    },
    on() { return this; }, once() { return this; }, off() { return this; }, emit() { return false; },
    removeListener() { return this; },
  };
}

let argvCache = null;
let envCache = null;
let startTime = 0;

export const process = {
  title: 'tug',
  platform: 'wasi',
  arch: 'wasm32',
  version: 'v0.0.0-tug',
  versions: { tug: '0.1.0' },
  release: { name: 'tug' },
  pid: 1,
  ppid: 0,
  execArgv: [],
  execPath: '/tug',
  exitCode: undefined,
  /** `['tug', <plugin name>, ...the arguments after \`--\`]`, as Node's `[node, script, ...args]`. */
  get argv() {
    if (!started) return ['tug', 'plugin'];
    if (!argvCache) {
      const args = getArguments();
      argvCache = ['tug', args[0] ?? 'plugin', ...args.slice(1)];
    }
    return argvCache;
  },
  set argv(v) { argvCache = v; },
  /** The environment tug passes (`tug run --env`), nothing else. */
  get env() {
    if (!started) return {};
    if (!envCache) {
      envCache = {};
      for (const [k, v] of getEnvironment()) envCache[k] = v;
    }
    return envCache;
  },
  set env(v) { envCache = v; },
  stdout: makeWritable(1),
  stderr: makeWritable(2),
  stdin: { fd: 0, isTTY: false, on() { return this; }, once() { return this; } },
  /** Ends the plugin at once with `code` (default `process.exitCode`, else 0); output is flushed first. */
  exit(code) {
    const c = code ?? process.exitCode ?? 0;
    exitWithCode(Number(c) & 0xff);
  },
  abort() { exitWithCode(134); },
  cwd() { return '/'; },
  chdir() { throw new Error('process.chdir is not offered in a tug plugin'); },
  uptime() { return (performance.now() - startTime) / 1000; },
  hrtime: Object.assign(
    (prev) => {
      const t = performance.now();
      const s = Math.floor(t / 1000), ns = Math.floor((t % 1000) * 1e6);
      if (!prev) return [s, ns];
      let ds = s - prev[0], dns = ns - prev[1];
      if (dns < 0) { ds -= 1; dns += 1e9; }
      return [ds, dns];
    },
    { bigint: () => BigInt(Math.floor(performance.now() * 1e6)) },
  ),
  memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }),
  nextTick(fn, ...args) { queueMicrotask(() => fn(...args)); },
  emitWarning(w) { writeTo(2, `Warning: ${w?.message ?? w}\n`); },
  // Signals and process events do not reach a plugin: listeners are accepted and never called.
  on() { return process; }, once() { return process; }, off() { return process; },
  addListener() { return process; }, removeListener() { return process; }, removeAllListeners() { return process; },
  listeners() { return []; }, emit() { return false; },
};

// --- timers: like Node, a pending timer keeps the plugin running (runMain waits for them) ---------------

const liveTimers = new Set();
let fatalHandler = (e) => { throw e; };
/** Sets what happens when a timer callback or a background task throws (runMain: print and exit 1). */
export function _setFatalHandler(fn) { fatalHandler = fn; }

class Timeout {
  constructor(fn, ms, args, repeat) {
    this._fn = fn; this._args = args; this._ms = Math.max(0, Number(ms) || 0); this._repeat = repeat;
    this._ref = true; this._native = null;
    liveTimers.add(this);
    this._arm();
  }
  _arm() {
    this._native = nativeSetTimeout(() => {
      if (!this._repeat) liveTimers.delete(this);
      try { this._fn(...this._args); } catch (e) { fatalHandler(e); }
      if (this._repeat && liveTimers.has(this)) this._arm();
    }, this._ms);
  }
  _clear() { liveTimers.delete(this); if (this._native !== null) nativeClearTimeout(this._native); }
  unref() { this._ref = false; return this; }
  ref() { this._ref = true; return this; }
  hasRef() { return this._ref; }
  refresh() { if (this._native !== null) nativeClearTimeout(this._native); liveTimers.add(this); this._arm(); return this; }
  [Symbol.toPrimitive]() { return this._native; }
}

export function setTimeout(fn, ms, ...args) { return new Timeout(fn, ms, args, false); }
export function setInterval(fn, ms, ...args) { return new Timeout(fn, ms, args, true); }
export function setImmediate(fn, ...args) { return new Timeout(fn, 0, args, false); }
export function clearTimeout(t) { if (t instanceof Timeout) t._clear(); else if (t != null) nativeClearTimeout(t); }
export const clearInterval = clearTimeout;
export const clearImmediate = clearTimeout;

const background = new Set();
/** Keeps the plugin alive until `promise` settles; a rejection is fatal (Node's uncaught exception). */
export function _track(promise) {
  const p = Promise.resolve(promise).then(
    () => { background.delete(p); },
    (e) => { background.delete(p); fatalHandler(e); },
  );
  background.add(p);
  return promise;
}

/** Whether a referenced timer or a tracked background task is still pending. */
export function _pending() {
  if (background.size) return true;
  for (const t of liveTimers) if (t._ref) return true;
  return false;
}

/** Whether any timer is armed (referenced or not): then a stream must not block the event loop. */
export function _timersArmed() { return liveTimers.size > 0; }

/** Waits a few milliseconds on a native timer (not tracked). */
export function _sleepNative(ms) { return new Promise((r) => nativeSetTimeout(r, ms)); }
