// The dockerode-shaped facade: Docker and its objects (Container, Image, Network, Volume, Exec, Service,
// Task, Node, Secret, Config, Plugin), each method a call of tug's WIT through lib/wit.js. Every method
// returns a Promise, or takes a Node-style callback as its last argument instead, as dockerode's do.

import { INTERFACES, call, engine, guard, toAuth } from './wit.js';
import { _track } from './globals.js';
import { NotOfferedError, ProgressError, DockerError } from './errors.js';
import { FrameStream, AttachStream, JsonStream, ByteStream, sendUpload, demuxStream, demux } from './streams.js';

const finishUpload = (up) => INTERFACES.types.Upload.finish(up);
const finishProgress = (up) => INTERFACES.types.ProgressUpload.finish(up);

/** Makes `names` of `cls` accept a trailing Node-style callback instead of returning a promise. */
function callbackable(cls, names) {
  for (const n of names) {
    const f = cls.prototype[n];
    cls.prototype[n] = function (...args) {
      if (args.length && typeof args[args.length - 1] === 'function') {
        const cb = args.pop();
        _track(Promise.resolve().then(() => f.apply(this, args)).then((v) => cb(null, v), (e) => cb(e)));
        return undefined;
      }
      return f.apply(this, args);
    };
  }
}

const asyncMethods = (cls) => Object.getOwnPropertyNames(cls.prototype)
  .filter((n) => n !== 'constructor' && !n.startsWith('_') && typeof cls.prototype[n] === 'function' &&
    cls.prototype[n].constructor.name === 'AsyncFunction');

function notOffered(api, why) { throw new NotOfferedError(api, why); }

const HOST_PATH = 'a plugin has no access to host files: pass the bytes (a Buffer, Uint8Array, or an async iterable of chunks, e.g. tar.pack([...]))';

function assertBytes(api, file) {
  if (typeof file === 'string') notOffered(`${api}(path)`, HOST_PATH);
  if (file && typeof file === 'object' && !(file instanceof Uint8Array) && !ArrayBuffer.isView(file) &&
      typeof file[Symbol.asyncIterator] !== 'function' && typeof file[Symbol.iterator] !== 'function') {
    notOffered(`${api}({context, src})`, HOST_PATH);
  }
  if (file == null) throw new TypeError(`${api}: no data given`);
}

function seconds(v) { return v instanceof Date ? Math.floor(v.getTime() / 1000) : v; }

/** Logs (container, service, task): a Buffer without `follow` (multiplexed unless the TTY is on, as
 * dockerode's), else a FrameStream. */
async function logsOf(reader, fn, opts) {
  const intoStream = INTERFACES.types.FrameReader.intoStream;
  if (opts.follow && opts.follow !== 'false' && opts.follow !== '0') return new FrameStream(reader, fn, { wait: true, intoStream });
  return new FrameStream(reader, fn, { wait: false, intoStream }).collect();
}

function splitSpec(opts, queryKeys) {
  const spec = {}, query = { ...(opts?._query || {}) };
  for (const [k, v] of Object.entries(opts || {})) {
    if (k === '_query' || k === 'authconfig' || k === 'abortSignal') continue;
    if (queryKeys.includes(k)) query[k] = v; else spec[k] = v;
  }
  return { spec: opts?._body ?? spec, query };
}

function authArgs(auth, opts) {
  // dockerode's (auth, opts) methods: with one argument it is opts, its `authconfig` the auth.
  if (opts === undefined) return [auth?.authconfig, auth ?? {}];
  return [auth, opts ?? {}];
}

class Base {
  constructor(docker) { Object.defineProperty(this, '_docker', { value: docker, enumerable: false }); this.modem = docker.modem; }
  _call(key, ...args) { return this._docker._call(key, ...args); }
}

export class Container extends Base {
  constructor(docker, id) { super(docker); this.id = id; }
  async inspect(opts = {}) { return this._call('containers.inspect', this.id, opts); }
  async start(opts = {}) { this._call('containers.start', this.id, opts); }
  async stop(opts = {}) { this._call('containers.stop', this.id, opts); }
  async restart(opts = {}) { this._call('containers.restart', this.id, opts); }
  async kill(opts = {}) { this._call('containers.kill', this.id, opts); }
  async pause() { this._call('containers.pause', this.id); }
  async unpause() { this._call('containers.unpause', this.id); }
  async rename(opts = {}) { this._call('containers.rename', this.id, String(opts.name)); }
  async update(opts = {}) { return this._call('containers.update', this.id, JSON.stringify(opts)); }
  async top(opts = {}) { return this._call('containers.top', this.id, opts); }
  async changes() { return this._call('containers.changes', this.id); }
  async wait(opts = {}) { return this._call('containers.wait', this.id, opts); }
  async remove(opts = {}) { this._call('containers.remove', this.id, opts); }
  async resize(opts = {}) { this._call('containers.resize', this.id, Number(opts.h ?? opts.height), Number(opts.w ?? opts.width)); }
  async infoArchive(opts = {}) { return this._call('containers.archive-info', this.id, String(opts.path)); }
  async listCheckpoint() { return this._call('containers.checkpoint-list', this.id); }
  async createCheckpoint(opts = {}) { this._call('containers.checkpoint-create', this.id, JSON.stringify(opts)); }
  async deleteCheckpoint(checkpoint) { this._call('containers.checkpoint-delete', this.id, String(checkpoint)); }
  /** `{follow: true}` → a FrameStream; otherwise a Buffer (multiplexed unless TTY; see `demux`). */
  async logs(opts = {}) {
    const o = { ...opts, since: seconds(opts.since), until: seconds(opts.until) };
    return logsOf(this._call('container-streams.logs', this.id, o), 'container-streams.logs', opts);
  }
  /** `{stream: false}` → one sample; otherwise a JsonStream of samples. */
  async stats(opts = {}) {
    if (opts.stream === false || opts.stream === 0 || opts.stream === 'false') {
      return this._call('containers.stats', this.id, opts);
    }
    return new JsonStream(this._call('container-streams.stats', this.id), 'container-streams.stats');
  }
  async export() { return new ByteStream(this._call('container-streams.export', this.id), 'container-streams.export'); }
  async attach(opts = {}) {
    return new AttachStream(this._call('container-streams.attach', this.id, opts), 'container-streams.attach');
  }
  /** A ByteStream of the tar archive of `opts.path`, with `stat` (the path's stat JSON). */
  async getArchive(opts = {}) {
    const a = this._call('container-streams.get-archive', this.id, String(opts.path));
    const s = new ByteStream(a.content, 'container-streams.get-archive');
    try { s.stat = JSON.parse(a.stat); } catch { s.stat = a.stat; }
    return s;
  }
  /** Extracts the tar `file` (bytes or an async iterable of chunks) into `opts.path`. */
  async putArchive(file, opts = {}) {
    assertBytes('container.putArchive', file);
    const fn = 'container-streams.put-archive';
    const up = this._call(fn, this.id, String(opts.path ?? '/'), opts);
    return sendUpload(up, file, fn, finishUpload);
  }
  async exec(opts = {}) {
    const r = this._call('exec.create', this.id, JSON.stringify(opts));
    return new Exec(this._docker, r.Id);
  }
  /** ImageCommit of this container; `opts` are the query (`repo`, `tag`, `comment`, `author`, `pause`,
   * `changes`), `opts.config` (or `_body`) the image's container configuration. */
  async commit(opts = {}) {
    const config = opts._body ?? opts.config;
    return this._call('images.commit', this.id, config === undefined ? undefined : JSON.stringify(config), opts);
  }
}
callbackable(Container, asyncMethods(Container));

export class Exec extends Base {
  constructor(docker, id) { super(docker); this.id = id; }
  async inspect() { return this._call('exec.inspect', this.id); }
  async resize(opts = {}) { this._call('exec.resize', this.id, Number(opts.h ?? opts.height), Number(opts.w ?? opts.width)); }
  /** `{Detach: true}` starts it detached; otherwise an AttachStream (write stdin with `{stdin: true}`). */
  async start(opts = {}) {
    if (opts.Detach || opts.detach) { this._call('exec.start-detached', this.id); return undefined; }
    const o = { Tty: opts.Tty ?? opts.tty, stdin: Boolean(opts.stdin) };
    return new AttachStream(this._call('exec-streams.start', this.id, o), 'exec-streams.start');
  }
}
callbackable(Exec, asyncMethods(Exec));

export class Image extends Base {
  constructor(docker, name) { super(docker); this.name = name; }
  async inspect() { return this._call('images.inspect', this.name); }
  async history() { return this._call('images.history', this.name); }
  /** `{repo, tag}`. */
  async tag(opts = {}) { this._call('images.tag', this.name, String(opts.repo), opts); }
  async remove(opts = {}) { return this._call('images.remove', this.name, opts); }
  /** A ByteStream of `docker save` of this image. */
  async get() { return new ByteStream(this._call('image-streams.save', this.name), 'image-streams.save'); }
  async distribution(opts = {}) { return this._call('distribution.inspect', this.name, toAuth(opts.authconfig)); }
  /** A JsonStream of push progress; `opts.tag` (else every tag), auth as `opts.authconfig` or `auth`. */
  push(opts = {}, callback, auth) {
    if (typeof opts === 'function') { callback = opts; opts = {}; }
    const p = (async () => {
      // `repo:tag` pushes that tag (the engine takes the tag apart from the name).
      let [name, tag] = splitRepoTag(this.name, false);
      if (opts.tag != null) tag = opts.tag;
      return new JsonStream(this._call('image-streams.push', name, { ...opts, tag },
        toAuth(auth ?? opts.authconfig)), 'image-streams.push');
    })();
    if (typeof callback === 'function') { _track(p.then((s) => callback(null, s), (e) => callback(e))); return undefined; }
    return p;
  }
}
callbackable(Image, asyncMethods(Image));

export class Network extends Base {
  constructor(docker, id) { super(docker); this.id = id; }
  async inspect(opts = {}) { return this._call('networks.inspect', this.id, opts); }
  async remove() { this._call('networks.remove', this.id); }
  async connect(opts = {}) { this._call('networks.connect', this.id, JSON.stringify(opts)); }
  async disconnect(opts = {}) { this._call('networks.disconnect', this.id, JSON.stringify(opts)); }
}
callbackable(Network, asyncMethods(Network));

export class Volume extends Base {
  constructor(docker, name) { super(docker); this.name = name; }
  async inspect() { return this._call('volumes.inspect', this.name); }
  async remove(opts = {}) { this._call('volumes.remove', this.name, opts); }
}
callbackable(Volume, asyncMethods(Volume));

export class Service extends Base {
  constructor(docker, id) { super(docker); this.id = id; }
  async inspect(opts = {}) { return this._call('services.inspect', this.id, opts); }
  async remove() { this._call('services.remove', this.id); }
  /** dockerode's `update([auth,] opts)`: `opts.version` (and `registryAuthFrom`, `rollback`) the query, the
   * rest the new spec. */
  async update(auth, opts) {
    [auth, opts] = authArgs(auth, opts);
    const { spec, query } = splitSpec(opts, ['version', 'registryAuthFrom', 'rollback']);
    return this._call('services.update', this.id, JSON.stringify(spec), query, toAuth(auth));
  }
  async logs(opts = {}) {
    return logsOf(this._call('service-streams.logs', this.id, { ...opts, since: seconds(opts.since) }), 'service-streams.logs', opts);
  }
}
callbackable(Service, asyncMethods(Service));

export class Task extends Base {
  constructor(docker, id) { super(docker); this.id = id; }
  async inspect() { return this._call('tasks.inspect', this.id); }
  async logs(opts = {}) {
    return logsOf(this._call('task-streams.logs', this.id, { ...opts, since: seconds(opts.since) }), 'task-streams.logs', opts);
  }
}
callbackable(Task, asyncMethods(Task));

export class Node extends Base {
  constructor(docker, id) { super(docker); this.id = id; }
  async inspect() { return this._call('nodes.inspect', this.id); }
  async update(opts = {}) {
    const { spec, query } = splitSpec(opts, ['version']);
    this._call('nodes.update', this.id, JSON.stringify(spec), query);
  }
  async remove(opts = {}) { this._call('nodes.remove', this.id, opts); }
}
callbackable(Node, asyncMethods(Node));

class SpecObject extends Base {
  constructor(docker, id, iface) { super(docker); this.id = id; Object.defineProperty(this, '_iface', { value: iface }); }
  async inspect() { return this._call(`${this._iface}.inspect`, this.id); }
  async remove() { this._call(`${this._iface}.remove`, this.id); }
  /** `opts.version` the query, the rest the new spec. */
  async update(opts = {}) {
    const { spec, query } = splitSpec(opts, ['version']);
    this._call(`${this._iface}.update`, this.id, JSON.stringify(spec), query);
  }
}
callbackable(SpecObject, asyncMethods(SpecObject));
export class Secret extends SpecObject { constructor(docker, id) { super(docker, id, 'secrets'); } }
export class Config extends SpecObject { constructor(docker, id) { super(docker, id, 'configs'); } }

export class Plugin extends Base {
  constructor(docker, name, remote) { super(docker); this.name = name; this.remote = remote ?? name; }
  async inspect() { return this._call('plugins.inspect', this.name); }
  async remove(opts = {}) { this._call('plugins.remove', this.name, opts); }
  async privileges(opts = {}) { return this._call('plugins.privileges', this.remote, toAuth(opts.authconfig)); }
  async enable(opts = {}) { this._call('plugins.enable', this.name, opts); }
  async disable(opts = {}) { this._call('plugins.disable', this.name, opts); }
  async configure(opts = {}) { this._call('plugins.set', this.name, JSON.stringify(opts._body ?? opts.settings ?? opts)); }
  /** Installs the plugin: `opts.remote` (else this plugin's remote), `opts.name`, the accepted
   * privileges as `opts._body` (else the ones `privileges()` lists). A JsonStream of progress. */
  async pull(opts = {}) {
    const remote = opts.remote ?? this.remote;
    const privileges = opts._body ?? opts.privileges ?? this._call('plugins.privileges', remote, toAuth(opts.authconfig));
    return new JsonStream(this._call('plugin-streams.pull', remote, JSON.stringify(privileges),
      { name: opts.name ?? this.name }, toAuth(opts.authconfig)), 'plugin-streams.pull');
  }
  async push(opts = {}) {
    return new JsonStream(this._call('plugin-streams.push', this.name, toAuth(opts.authconfig)), 'plugin-streams.push');
  }
  async upgrade(auth, opts) {
    [auth, opts] = authArgs(auth, opts);
    const remote = opts.remote ?? this.remote;
    const privileges = opts._body ?? opts.privileges ?? this._call('plugins.privileges', remote, toAuth(auth));
    return new JsonStream(this._call('plugin-streams.upgrade', this.name, remote, JSON.stringify(privileges), toAuth(auth)), 'plugin-streams.upgrade');
  }
}
callbackable(Plugin, asyncMethods(Plugin));

/** `docker.modem`: what of docker-modem a script uses: `followProgress` and `demuxStream`. */
export class Modem {
  constructor(docker) { Object.defineProperty(this, '_docker', { value: docker, enumerable: false }); }
  followProgress(stream, onFinished, onProgress) { return followProgress(stream, onFinished, onProgress); }
  demuxStream(stream, stdout, stderr) { return demuxStream(stream, stdout, stderr); }
  dial() { notOffered('modem.dial', 'tug has no raw HTTP access to the engine: every call is a typed WIT function'); }
}

/**
 * dockerode's followProgress: reads a progress JsonStream to its end, calling `onProgress(event)` for each
 * document, then `onFinished(err, output)` with every document. Unlike dockerode, a document carrying
 * `error`/`errorDetail` (a failed pull, push or build) makes `err` a ProgressError with that message (the
 * output still holds every document). Without `onFinished` it returns a promise of the output, rejected
 * with that error.
 */
export function followProgress(stream, onFinished, onProgress) {
  const p = (async () => {
    const output = [];
    let err = null;
    try {
      for await (const ev of stream) {
        output.push(ev);
        if (!err && ev && (ev.errorDetail || ev.error)) {
          const message = ev.errorDetail?.message ?? ev.error;
          err = new ProgressError(message, { json: ev, statusCode: ev.errorDetail?.code, fn: stream._fn });
        }
        if (onProgress) onProgress(ev);
      }
    } catch (e) {
      err = e;
    }
    return [err, output];
  })();
  if (typeof onFinished === 'function') {
    _track(p.then(([err, output]) => onFinished(err, output)));
    return undefined;
  }
  return p.then(([err, output]) => { if (err) { err.output = output; throw err; } return output; });
}

/** `repo:tag` → [repo, tag]; a digest stays in the name; `latest` when there is no tag. */
function splitRepoTag(ref, defaultLatest = true) {
  if (ref.includes('@')) return [ref, undefined];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, defaultLatest ? 'latest' : undefined];
}

/** The emitter dockerode's `run` returns in its callback form. */
class Hub {
  constructor() { this._l = new Map(); }
  on(event, fn) {
    if (!this._l.has(event)) this._l.set(event, []);
    this._l.get(event).push(fn);
    return this;
  }
  once(event, fn) {
    const w = (...a) => { this.off(event, w); fn(...a); };
    return this.on(event, w);
  }
  off(event, fn) {
    const l = this._l.get(event);
    if (l) this._l.set(event, l.filter((f) => f !== fn));
    return this;
  }
  emit(event, ...args) {
    for (const f of this._l.get(event) ?? []) f(...args);
    return this._l.has(event);
  }
}

export class Docker {
  /** Options of dockerode (socketPath, host, …) are ignored: a tug plugin reaches the engine `tug run` was
   * given. `{engine: name}` picks another engine the host configured (as `Docker.open(name)`). */
  constructor(opts = {}) {
    Object.defineProperty(this, '_engineName', { value: opts?.engine, writable: true, enumerable: false });
    this.modem = new Modem(this);
  }
  /** A Docker on the engine the host configured under `name`. */
  static open(name) { return new Docker({ engine: name }); }
  /** The names of the engines the run was given (`engines.names`), `default` first: each opens with
   * `Docker.open(name)`. */
  static engineNames() { return INTERFACES.engines.names(); }
  _call(key, ...args) { return call(engine(this._engineName), key, ...args); }

  /** The engine's name as tug knows it, and the API version tug speaks to it. */
  async engineInfo() {
    const e = engine(this._engineName);
    return { name: guard('engine.name', () => e.name()), apiVersion: guard('engine.api-version', () => e.apiVersion()) };
  }

  // --- system ---
  async ping() { this._call('system.ping'); return 'OK'; }
  async version() { return this._call('system.version'); }
  async info() { return this._call('system.info'); }
  async df() { return this._call('system.data-usage'); }
  async checkAuth(opts = {}) { return this._call('system.auth', toAuth(opts)); }
  /** A JsonStream of event objects; `{since, until, filters}` (Dates or UNIX seconds). */
  async getEvents(opts = {}) {
    const o = { ...opts, since: seconds(opts.since), until: seconds(opts.until) };
    return new JsonStream(this._call('system-streams.events', o), 'system-streams.events');
  }

  // --- containers ---
  getContainer(id) { return new Container(this, id); }
  async listContainers(opts = {}) { return this._call('containers.list', opts); }
  /** `opts` is the create body plus `name` and `platform`; resolves a Container. */
  async createContainer(opts = {}) {
    const { name, platform, abortSignal, authconfig, ...body } = opts;
    const r = this._call('containers.create', JSON.stringify(body), { name, platform });
    const c = this.getContainer(r.Id);
    if (r.Warnings?.length) c.warnings = r.Warnings;
    return c;
  }
  async pruneContainers(opts = {}) { return this._call('containers.prune', opts); }
  /**
   * dockerode's run: creates a container (`Tty: true` unless `createOptions` says otherwise), attaches,
   * starts it, writes its output into `streamo` (a writable, or `[stdout, stderr]` to demultiplex; may be
   * null), waits for it to exit, and resolves `[waitResult, container]`. The container is not removed
   * unless `createOptions.HostConfig.AutoRemove`.
   */
  run(image, cmd, streamo, createOptions, startOptions, callback) {
    if (typeof createOptions === 'function') { callback = createOptions; createOptions = undefined; }
    else if (typeof startOptions === 'function') { callback = startOptions; startOptions = undefined; }
    if (typeof callback !== 'function') return this._run(image, cmd, streamo, createOptions, startOptions, null);
    // dockerode's callback form: `callback(err, data, container)`, and an emitter of 'container', 'stream',
    // 'start' and 'data' as the run goes.
    const hub = new Hub();
    _track(this._run(image, cmd, streamo, createOptions, startOptions, hub)
      .then(([data, container]) => callback(null, data, container), (e) => callback(e, null, e.container)));
    return hub;
  }

  async _run(image, cmd, streamo, createOptions = {}, startOptions = {}, hub) {
    const opts = {
      Hostname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: true,
      OpenStdin: false, StdinOnce: false, Env: null, Cmd: cmd, Image: image, Volumes: {}, VolumesFrom: [],
      ...createOptions,
    };
    const container = await this.createContainer(opts);
    hub?.emit('container', container);
    let stream;
    try {
      stream = await container.attach({ stream: true, stdout: true, stderr: true });
    } catch (e) {
      e.container = container;
      throw e;
    }
    hub?.emit('stream', stream);
    const pump = (async () => {
      if (Array.isArray(streamo)) {
        for await (const f of stream.frames()) {
          const s = f.stream === 'stderr' ? streamo[1] : streamo[0];
          if (s) s.write(f);
        }
      } else {
        for await (const f of stream.frames()) if (streamo) streamo.write(f);
      }
    })();
    try {
      await container.start(startOptions);
    } catch (e) {
      stream.destroy();
      await pump.catch(() => {});
      e.container = container;
      throw e;
    }
    hub?.emit('start', container);
    await pump;
    const data = await container.wait();
    hub?.emit('data', data);
    return [data, container];
  }

  // --- exec ---
  getExec(id) { return new Exec(this, id); }

  // --- images ---
  getImage(name) { return new Image(this, name); }
  /** `docker save` of several images (`names`, or `{names}`) as one tar: a ByteStream. */
  async getImages(opts) {
    const names = Array.isArray(opts) ? opts : [].concat(opts?.names ?? []);
    return new ByteStream(this._call('image-streams.save-all', names.map(String)), 'image-streams.save-all');
  }
  async listImages(opts = {}) { return this._call('images.list', opts); }
  async searchImages(opts = {}) { return this._call('images.search', String(opts.term), opts); }
  async pruneImages(opts = {}) { return this._call('images.prune', opts); }
  async pruneBuilder(opts = {}) { return this._call('images.build-prune', opts); }
  /** dockerode's pull(repoTag, [opts], [callback], [auth]): a JsonStream of progress. */
  pull(repoTag, opts, callback, auth) {
    if (typeof opts === 'function') { auth = callback; callback = opts; opts = {}; }
    opts = opts || {};
    const p = (async () => {
      const [repo, tag] = splitRepoTag(String(repoTag));
      const o = { ...opts, tag: opts.tag ?? tag };
      return new JsonStream(this._call('image-streams.pull', repo, o, toAuth(auth ?? opts.authconfig)), 'image-streams.pull');
    })();
    if (typeof callback === 'function') { _track(p.then((s) => callback(null, s), (e) => callback(e))); return undefined; }
    return p;
  }
  /** Pulls every tag of `repo`. */
  pullAll(repo, opts, callback, auth) {
    if (typeof opts === 'function') { auth = callback; callback = opts; opts = {}; }
    return this.pull(`${repo}`.replace(/:[^/:]*$/, ''), { ...opts, tag: undefined }, callback, auth);
  }
  /** dockerode's createImage([auth,] opts): `fromImage` pulls. */
  async createImage(auth, opts) {
    [auth, opts] = authArgs(auth, opts);
    if (opts.fromSrc) notOffered('createImage({fromSrc})', 'importing from a URL is not in tug\'s WIT; use importImage(bytes, opts) with the tar');
    const ref = opts.tag ? `${opts.fromImage}:${opts.tag}` : String(opts.fromImage);
    return this.pull(ref, { platform: opts.platform }, undefined, auth);
  }
  /** Builds from a tar build context in memory (bytes or an async iterable of chunks; see `tar.pack`).
   * Resolves a JsonStream of build progress. `opts.registryconfig`: `{address: auth}`. */
  async buildImage(file, opts = {}) {
    assertBytes('buildImage', file);
    const fn = 'image-streams.build';
    const rc = opts.registryconfig ? Object.entries(opts.registryconfig).map(([k, a]) => [k, toAuth(a)]) : undefined;
    const o = { ...opts };
    if (Array.isArray(o.t) === false && typeof o.t === 'string') o.t = [o.t];
    const up = this._call(fn, o, rc);
    return new JsonStream(await sendUpload(up, file, fn, finishProgress), fn);
  }
  /** Loads images from a `docker save` tar (bytes or chunks); a JsonStream of progress. */
  async loadImage(file, opts = {}) {
    assertBytes('loadImage', file);
    const fn = 'image-streams.load';
    return new JsonStream(await sendUpload(this._call(fn, opts), file, fn, finishProgress), fn);
  }
  /** Imports a root filesystem tar (bytes or chunks) as an image (`repo`, `tag`, `message`, `changes`). */
  async importImage(file, opts = {}) {
    assertBytes('importImage', file);
    const fn = 'image-streams.import';
    return new JsonStream(await sendUpload(this._call(fn, opts), file, fn, finishProgress), fn);
  }

  // --- networks ---
  getNetwork(id) { return new Network(this, id); }
  async listNetworks(opts = {}) { return this._call('networks.list', opts); }
  async createNetwork(opts = {}) { const r = this._call('networks.create', JSON.stringify(opts)); return this.getNetwork(r.Id); }
  async pruneNetworks(opts = {}) { return this._call('networks.prune', opts); }

  // --- volumes ---
  getVolume(name) { return new Volume(this, name); }
  async listVolumes(opts = {}) { return this._call('volumes.list', opts); }
  async createVolume(opts = {}) { const r = this._call('volumes.create', JSON.stringify(opts)); return this.getVolume(r.Name); }
  async pruneVolumes(opts = {}) { return this._call('volumes.prune', opts); }

  // --- swarm ---
  async swarmInit(opts = {}) { return this._call('swarm.init', JSON.stringify(opts)); }
  async swarmJoin(opts = {}) { this._call('swarm.join', JSON.stringify(opts)); }
  async swarmLeave(opts = {}) { this._call('swarm.leave', opts); }
  async swarmUpdate(opts = {}) {
    const { spec, query } = splitSpec(opts, ['version', 'rotateWorkerToken', 'rotateManagerToken', 'rotateManagerUnlockKey']);
    this._call('swarm.update', JSON.stringify(spec), query);
  }
  async swarmInspect() { return this._call('swarm.inspect'); }
  async swarmUnlockKey() { return this._call('swarm.unlock-key'); }
  async swarmUnlock(opts = {}) { this._call('swarm.unlock', JSON.stringify(opts)); }

  getService(id) { return new Service(this, id); }
  async listServices(opts = {}) { return this._call('services.list', opts); }
  /** dockerode's createService([auth,] opts); resolves a Service. */
  async createService(auth, opts) {
    [auth, opts] = authArgs(auth, opts);
    const { authconfig, ...spec } = opts;
    const r = this._call('services.create', JSON.stringify(spec), toAuth(auth));
    return this.getService(r.ID ?? r.Id);
  }
  getTask(id) { return new Task(this, id); }
  async listTasks(opts = {}) { return this._call('tasks.list', opts); }
  getNode(id) { return new Node(this, id); }
  async listNodes(opts = {}) { return this._call('nodes.list', opts); }
  getSecret(id) { return new Secret(this, id); }
  async listSecrets(opts = {}) { return this._call('secrets.list', opts); }
  async createSecret(opts = {}) { const r = this._call('secrets.create', JSON.stringify(opts)); return this.getSecret(r.ID ?? r.Id); }
  getConfig(id) { return new Config(this, id); }
  async listConfigs(opts = {}) { return this._call('configs.list', opts); }
  async createConfig(opts = {}) { const r = this._call('configs.create', JSON.stringify(opts)); return this.getConfig(r.ID ?? r.Id); }

  // --- plugins ---
  getPlugin(name, remote) { return new Plugin(this, name, remote); }
  async listPlugins(opts = {}) { return this._call('plugins.list', opts); }
  /** Creates a plugin `opts.name` from a tar (bytes or chunks) of its rootfs and config.json. */
  async createPlugin(opts = {}, file) {
    assertBytes('createPlugin', file ?? opts.file);
    const fn = 'plugin-streams.create';
    await sendUpload(this._call(fn, String(opts.name)), file ?? opts.file, fn, finishUpload);
    return this.getPlugin(opts.name);
  }

  followProgress(stream, onFinished, onProgress) { return followProgress(stream, onFinished, onProgress); }
}
callbackable(Docker, asyncMethods(Docker));

export { demuxStream, demux, DockerError };
