// The one place the SDK calls tug's WIT: engines opened lazily and reused, dockerode-style options turned
// into the WIT options records (from the generated table in _wit.js), JSON answers parsed, and the WIT
// `error` variant turned into the SDK's errors.

import { INTERFACES, FUNCTIONS, RECORDS } from './_wit.js';
import { fromComponentError } from './errors.js';

export { INTERFACES };

const engineCache = new Map();

/** The engine named `name` (the run's default engine when undefined), opened on first use and kept. */
export function engine(name) {
  const key = name ?? '';
  let e = engineCache.get(key);
  if (!e) {
    try {
      e = name == null ? INTERFACES.engines.default() : INTERFACES.engines.open(name);
    } catch (err) {
      throw fromComponentError(err, name == null ? 'engines.default' : 'engines.open');
    }
    engineCache.set(key, e);
  }
  return e;
}

function truthy(v) {
  if (typeof v === 'string') return v !== '' && v !== '0' && v.toLowerCase() !== 'false';
  return Boolean(v);
}

/** Filters as the WIT takes them (`[[key, [values]]]`) from dockerode's forms: an object
 * (`{status: ['exited']}`, `{label: {'a=b': true}}`, `{name: 'x'}`), its JSON text, or already a list. */
export function toFilters(v) {
  if (typeof v === 'string') v = v.trim() === '' ? {} : JSON.parse(v);
  if (Array.isArray(v)) return v.map(([k, vals]) => [String(k), (Array.isArray(vals) ? vals : [vals]).map(String)]);
  const out = [];
  for (const [k, vals] of Object.entries(v || {})) {
    if (vals == null) continue;
    let list;
    if (Array.isArray(vals)) list = vals.map(String);
    else if (typeof vals === 'object') list = Object.keys(vals).filter((x) => vals[x]);
    else list = [String(vals)];
    out.push([k, list]);
  }
  return out;
}

function toPairs(v) {
  if (typeof v === 'string') v = JSON.parse(v);
  if (Array.isArray(v)) return v.map(([k, x]) => [String(k), String(x)]);
  return Object.entries(v || {}).map(([k, x]) => [k, String(x)]);
}

function coerce(v, type, where) {
  switch (type) {
    case 'bool': return truthy(v);
    case 's64': case 'u64': case 's32': case 'u32': case 'u16': case 'u8': {
      const n = typeof v === 'bigint' ? v : Number(v);
      if (typeof n === 'number' && !Number.isFinite(n)) throw new TypeError(`${where}: not a number: ${v}`);
      return n;
    }
    case 'string': return String(v);
    case 'json': return typeof v === 'string' ? v : JSON.stringify(v);
    case 'filters': return toFilters(v);
    case 'list<string>': return (Array.isArray(v) ? v : [v]).map(String);
    case 'list<tuple<string, string>>': return toPairs(v);
    default: return v;
  }
}

/** The WIT options record `key` (`containers.list-options`) from dockerode-style options: each field is
 * looked up by its Engine API query name (`ps_args`, `detachKeys`), then by its camelCase name; what the
 * record does not know is ignored; values are coerced to the field's WIT type. */
export function toRecord(key, opts) {
  const out = {};
  if (opts == null || typeof opts !== 'object') return out;
  const fields = RECORDS[key];
  for (let i = 0; i < fields.length; i++) {
    const [js, query, type] = fields[i];
    let v = opts[query];
    if (v === undefined && js !== query) v = opts[js];
    if (v === undefined || v === null) continue;
    out[js] = coerce(v, type, `${key}.${query}`);
  }
  return out;
}

/**
 * Calls WIT function `key` (`containers.inspect`) on engine `e` with `args` (after the engine). An argument
 * in the place of the function's options record is converted with `toRecord`. A `json` answer is parsed
 * (undefined when empty); errors are SDK errors.
 */
export function call(e, key, ...args) {
  const f = FUNCTIONS[key];
  if (!f) throw new Error(`tug SDK: unknown WIT function ${key}`);
  const [iface] = key.split('.', 1);
  if (f.options) {
    const idx = f.params.findIndex(([, t]) => f.options === `${iface}.${t}`);
    if (idx >= 0) args[idx] = toRecord(f.options, args[idx]);
  }
  let out;
  try {
    out = INTERFACES[iface][f.js](e, ...args);
  } catch (err) {
    throw fromComponentError(err, key);
  }
  if (f.returns === 'json') return out === '' || out === undefined ? undefined : JSON.parse(out);
  return out;
}

/** Runs `fn` (a method call on a WIT resource) and turns a WIT error into an SDK error named `what`. */
export function guard(what, fn) {
  try {
    return fn();
  } catch (err) {
    throw fromComponentError(err, what);
  }
}

/** dockerode's auth config (`{username, password, serveraddress, identitytoken, registrytoken}`, any case)
 * as the WIT `auth-config` record; undefined when none is given. */
export function toAuth(a) {
  if (!a || typeof a !== 'object') return undefined;
  const pick = (...names) => {
    for (const n of names) for (const k of Object.keys(a)) if (k.toLowerCase() === n) return a[k];
    return undefined;
  };
  let username = pick('username'), password = pick('password');
  const basic = pick('auth');
  if (basic && !username) {
    const text = atob(basic);
    const i = text.indexOf(':');
    if (i >= 0) { username = text.slice(0, i); password = text.slice(i + 1); }
  }
  const out = {
    username, password,
    identityToken: pick('identitytoken'),
    registryToken: pick('registrytoken'),
    serverAddress: pick('serveraddress'),
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}
