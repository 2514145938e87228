// Errors of the SDK. Every WIT call goes through `fromComponentError`, which turns the `error` variant of
// tug's WIT (thrown by componentize-js as a ComponentError, which is not an `Error`) into one of these:
// `Error` subclasses with dockerode's fields `statusCode`, `reason` and `json`, and its message format
// `(HTTP code 404) no such container - No such container: x`.

/** Base of the errors of an Engine API call: dockerode's error fields, and `function`, the WIT function. */
export class DockerError extends Error {
  constructor(message, { statusCode, reason, json, fn, tag } = {}) {
    super(message);
    this.name = new.target.name;
    this.statusCode = statusCode;
    this.reason = reason;
    this.json = json;
    /** The WIT function that failed, e.g. `containers.inspect`. */
    this.function = fn;
    /** The WIT error case, e.g. `not-found`. */
    this.tag = tag;
  }
}
/** 404: no such container, image, network, volume… */
export class NotFoundError extends DockerError {}
/** 409: the name is in use, the container is running or paused… */
export class ConflictError extends DockerError {}
/** 400: the engine rejected a parameter. */
export class BadRequestError extends DockerError {}
/** 304: the container was already started or stopped. */
export class NotModifiedError extends DockerError {}
/** The engine's API version cannot serve the call (400). */
export class ApiVersionError extends DockerError {}
/** tug refused an argument before the engine saw it (400): malformed JSON, an out-of-range value… */
export class InvalidArgumentError extends DockerError {}
/** Bytes from a registry did not match their digest or size (500). */
export class IntegrityError extends DockerError {}
/** The connection to the engine failed or broke (no HTTP status, as dockerode's socket errors). */
export class TransportError extends DockerError {}
/** The call did not finish within its time limit. */
export class TimeoutError extends DockerError {}
/** A pull, push or build reported an error in its progress stream (`errorDetail`). */
export class ProgressError extends DockerError {}

/**
 * The run's policy refused the call before anything reached the engine (status 403). `rule` is the
 * policy rule (`containers.privileged`), `field` the part of the request at fault (`HostConfig.Privileged`,
 * or undefined for the whole call), `reason` a sentence saying why.
 */
export class DeniedError extends DockerError {
  constructor(rule, field, reason, fn) {
    const where = field ? ` at \`${field}\`` : '';
    const msg = `tug policy denied ${fn || 'the call'} (rule \`${rule}\`${where}): ${reason}`;
    super(msg, { statusCode: 403, reason: 'denied by tug policy', json: { message: msg, rule, field, reason }, fn, tag: 'denied' });
    this.rule = rule;
    this.field = field;
    this.denialReason = reason;
  }
}

/** A dockerode API that tug does not offer; the message says why. */
export class NotOfferedError extends Error {
  constructor(api, why) {
    super(`${api} is not offered by tug: ${why}`);
    this.name = 'NotOfferedError';
    this.api = api;
  }
}

// What dockerode says for a status, per kind of object (its per-call `statusCodes` maps).
const KIND = {
  containers: 'container', 'container-streams': 'container', exec: 'no such exec instance',
  'exec-streams': 'no such exec instance', images: 'image', 'image-streams': 'image', networks: 'network',
  volumes: 'volume', services: 'service', 'service-streams': 'service', tasks: 'task', 'task-streams': 'task',
  nodes: 'node', secrets: 'secret', configs: 'config', plugins: 'plugin', 'plugin-streams': 'plugin',
  distribution: 'image', swarm: 'swarm', system: 'engine', 'system-streams': 'engine', engines: 'engine',
};

function reasonFor(status, fn) {
  const iface = (fn || '').split('.')[0];
  const name = (fn || '').split('.')[1];
  switch (status) {
    case 304:
      if (name === 'start') return 'container already started';
      if (name === 'stop') return 'container already stopped';
      return 'not modified';
    case 400: return 'bad parameter';
    case 401: return 'unauthorized';
    case 403: return 'forbidden';
    case 404: {
      const k = KIND[iface];
      if (!k) return 'not found';
      return k.startsWith('no such') ? k : `no such ${k}`;
    }
    case 406: return 'not running';
    case 409: return 'conflict';
    case 500: return 'server error';
    case 503: return 'node is not part of a swarm';
    default: return 'unexpected';
  }
}

function httpError(Cls, status, message, fn, tag) {
  const reason = reasonFor(status, fn);
  return new Cls(`(HTTP code ${status}) ${reason} - ${message}`, {
    statusCode: status, reason, json: { message }, fn, tag,
  });
}

/** Whether `e` is componentize-js's ComponentError carrying a WIT variant. */
export function isComponentError(e) {
  return e != null && typeof e === 'object' && !(e instanceof DockerError) && e.payload != null &&
    typeof e.payload === 'object' && typeof e.payload.tag === 'string';
}

/** Turns a thrown WIT `error` (ComponentError) of function `fn` into an SDK error; anything else as is. */
export function fromComponentError(e, fn) {
  if (!isComponentError(e)) return e;
  const { tag, val } = e.payload;
  switch (tag) {
    case 'not-found': return httpError(NotFoundError, 404, val, fn, tag);
    case 'conflict': return httpError(ConflictError, 409, val, fn, tag);
    case 'bad-request': return httpError(BadRequestError, 400, val, fn, tag);
    case 'not-modified': {
      const reason = reasonFor(304, fn);
      return new NotModifiedError(`(HTTP code 304) ${reason} - ${reason}`, { statusCode: 304, reason, json: null, fn, tag });
    }
    case 'denied': return new DeniedError(val.rule, val.field ?? undefined, val.reason, fn);
    case 'api': return httpError(DockerError, val.status, val.message, fn, tag);
    case 'api-version': return httpError(ApiVersionError, 400, val, fn, tag);
    case 'invalid-argument': return httpError(InvalidArgumentError, 400, val, fn, tag);
    case 'integrity': return httpError(IntegrityError, 500, val, fn, tag);
    case 'transport': return new TransportError(`${fn}: connection to the engine failed: ${val}`, { fn, tag });
    case 'timeout': return new TimeoutError(`${fn}: timed out: ${val}`, { fn, tag });
    // wasi:io stream errors: `closed` is an end of stream, `last-operation-failed` carries an io error.
    case 'closed': return new TransportError(`${fn}: stream closed`, { fn, tag });
    case 'last-operation-failed': {
      let detail = '';
      try { detail = val?.toDebugString?.() ?? ''; } catch { /* ignore */ }
      try { val?.[Symbol.dispose]?.(); } catch { /* ignore */ }
      return new TransportError(`${fn}: stream failed${detail ? `: ${detail}` : ''}`, { fn, tag });
    }
    default: return new DockerError(`${fn}: ${tag}${val !== undefined ? `: ${JSON.stringify(val)}` : ''}`, { fn, tag });
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
let decoded = null;

/** The bundle's source map (`tug build` appends `globalThis.__tugSourceMap = {sources, mappings}`),
 * decoded on first use: per generated line, its segments `[column, source, line, column]` (0-based). */
function sourceMap() {
  if (decoded !== null) return decoded;
  const map = globalThis.__tugSourceMap;
  decoded = { sources: map?.sources ?? [], lines: [] };
  if (!map || typeof map.mappings !== 'string') return decoded;
  let src = 0, line = 0, col = 0;
  for (const text of map.mappings.split(';')) {
    const segs = [];
    let gen = 0;
    for (const seg of text ? text.split(',') : []) {
      const f = [];
      let value = 0, shift = 0;
      for (let i = 0; i < seg.length; i++) {
        const d = B64.indexOf(seg[i]);
        value += (d & 31) << shift;
        if (d & 32) { shift += 5; continue; }
        f.push(value & 1 ? -(value >>> 1) : value >>> 1);
        value = 0; shift = 0;
      }
      gen += f[0];
      if (f.length >= 4) {
        src += f[1]; line += f[2]; col += f[3];
        segs.push([gen, src, line, col]);
      }
    }
    decoded.lines.push(segs);
  }
  return decoded;
}

/** `bundle.js:LINE:COL` (1-based, as the JS engine reports it) → `[source, line, column]` in the
 * script's own files, or undefined. */
function original(line, col) {
  const m = sourceMap();
  const segs = m.lines[line - 1];
  if (!segs || segs.length === 0) return undefined;
  let hit = segs[0];
  for (const s of segs) { if (s[0] <= col - 1) hit = s; else break; }
  return [m.sources[hit[1]], hit[2] + 1, hit[3] + 1];
}

/** A stack frame `name@file:line:col` as Node prints it, mapped to the script's own file and line; null
 * for a frame inside tug's SDK or the component's glue (`tug build` names SDK files `tug-sdk/…`). */
function frame(line) {
  const m = /^(.*?)@(.*)$/.exec(line);
  if (!m) return `    ${line}`;
  let name = m[1] || '<anonymous>';
  let where = m[2];
  const at = /^(.*):(\d+):(\d+)$/.exec(where);
  if (at && /(^|\/)bundle\.js$/.test(at[1])) {
    const o = original(Number(at[2]), Number(at[3]));
    // Not from a source file: esbuild's own module helpers.
    if (!o) return null;
    {
      if (/^tug-(sdk|entry)/.test(o[0])) return null;
      where = `${o[0]}:${o[1]}:${o[2]}`;
      // esbuild's module wrappers are named by path (`script.js`, `src/app.ts/<`): the module's top level.
      if (/\.[cm]?[jt]s(\/<)*$/.test(name)) name = '<top level>';
    }
  } else if (at && /\/sources\/initializer\.js$/.test(at[1])) {
    return null;
  }
  return `    at ${name} (${where})`;
}

/** Node-like text for an uncaught error: `Uncaught Name: message`, then the stack as `    at …` lines,
 * in the script's own files and lines (frames inside tug's SDK are left out). */
export function formatUncaught(e) {
  if (isComponentError(e)) e = fromComponentError(e, 'a WIT call');
  if (e instanceof Error || (e && typeof e === 'object' && 'message' in e && 'stack' in e)) {
    const name = e.name || 'Error';
    let out = `Uncaught ${name}: ${e.message}\n`;
    if (e instanceof DeniedError) out += `  denied: rule ${e.rule}, field ${e.field ?? '-'}: ${e.denialReason}\n`;
    const stack = typeof e.stack === 'string' ? e.stack.trim() : '';
    const lines = stack ? stack.split('\n') : [];
    let frames;
    try {
      frames = lines.map(frame).filter((f) => f !== null);
    } catch {
      frames = lines.map((l) => `    ${l}`);
    }
    for (const f of frames) out += `${f}\n`;
    return out;
  }
  let text;
  try { text = typeof e === 'string' ? `'${e}'` : JSON.stringify(e) ?? String(e); } catch { text = String(e); }
  return `Uncaught ${text}\n`;
}
