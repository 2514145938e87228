// Types of tug-sdk, the dockerode-shaped client of tug plugins. Engine API documents (inspect results,
// lists, create bodies) are typed loosely (`EngineObject`): they are the daemon's JSON, passed through.
/// <reference path="./globals.d.ts" />

/** A JSON document of the Engine API, as the daemon sent it. */
export type EngineObject = { [key: string]: any };
/** Filters: `{status: ['exited']}`, `{label: {'a=b': true}}`, or their JSON text. */
export type Filters = string | { [key: string]: string[] | string | { [value: string]: boolean } };
/** Node-style callback. */
export type Callback<T> = (err: Error | null, result?: T) => void;
/** A registry credential, as dockerode's `authconfig`. */
export interface AuthConfig {
  username?: string; password?: string; auth?: string; email?: string; serveraddress?: string;
  identitytoken?: string; registrytoken?: string;
}
/** Bytes the SDK can send: a Buffer/Uint8Array, a string, or a (async) iterable of chunks (e.g. a ByteStream). */
export type Body = Uint8Array | string | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
/** Anything with `write` (a Writable, `process.stdout`, your own sink). */
export interface Sink { write(chunk: Uint8Array): unknown }

// ---------------------------------------------------------------- errors
/** An Engine API call failed; `statusCode`, `reason`, `json` as dockerode's errors. */
export class DockerError extends Error {
  statusCode?: number;
  reason?: string;
  json?: any;
  /** The WIT function that failed, e.g. `containers.inspect`. */
  function?: string;
  /** The WIT error case, e.g. `not-found`. */
  tag?: string;
}
export class NotFoundError extends DockerError { statusCode: 404 }
export class ConflictError extends DockerError { statusCode: 409 }
export class BadRequestError extends DockerError { statusCode: 400 }
export class NotModifiedError extends DockerError { statusCode: 304 }
export class ApiVersionError extends DockerError {}
export class InvalidArgumentError extends DockerError {}
export class IntegrityError extends DockerError {}
export class TransportError extends DockerError {}
export class TimeoutError extends DockerError {}
/** A pull, push or build reported `errorDetail` in its progress. `output`: every progress document. */
export class ProgressError extends DockerError { output?: any[] }
/** tug's policy refused the call (statusCode 403). */
export class DeniedError extends DockerError {
  statusCode: 403;
  /** The policy rule, e.g. `containers.privileged`. */
  rule: string;
  /** The request field at fault, e.g. `HostConfig.Privileged`; undefined for the whole call. */
  field?: string;
  /** Why, in a sentence. */
  denialReason: string;
}
/** A dockerode API tug does not offer (the message says why). */
export class NotOfferedError extends Error { api: string }

// ---------------------------------------------------------------- buffers and streams
export { Buffer } from './globals';
import { Buffer } from './globals';

/** A piece of a process's output: the bytes (a Buffer) with the stream it came on. */
export interface Frame extends Buffer {
  readonly stream: 'stdout' | 'stderr' | 'stdin' | 'system';
  /** The frame itself, so `const {stream, data} = frame` works. */
  readonly data: Buffer;
}

interface StreamEvents<Chunk> {
  on(event: 'data', fn: (chunk: Chunk) => void): this;
  on(event: 'end' | 'close', fn: () => void): this;
  on(event: 'error', fn: (err: Error) => void): this;
  on(event: string, fn: (...args: any[]) => void): this;
  once(event: string, fn: (...args: any[]) => void): this;
  off(event: string, fn: (...args: any[]) => void): this;
  removeListener(event: string, fn: (...args: any[]) => void): this;
  /** Writes every chunk to `dest`; ends it unless `{end: false}` or it is process.stdout/stderr. */
  pipe<T extends Sink>(dest: T, opts?: { end?: boolean }): T;
  /** Releases the stream's handles. */
  destroy(err?: Error): this;
  readonly destroyed: boolean;
  [Symbol.dispose](): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Output of a process (followed logs, attach, exec): iterate for demultiplexed Frames. */
export interface FrameStream extends StreamEvents<Buffer>, AsyncIterable<Frame> {
  /** Whether the process has a TTY (output is then raw, all 'stdout'). */
  readonly tty: boolean;
  frames(): AsyncIterableIterator<Frame>;
  /** Chunks in the Engine API's wire format (8-byte headers unless `tty`), as dockerode's stream gives. */
  raw(): AsyncIterableIterator<Buffer>;
  /** Reads to the end: the wire-format bytes. */
  collect(): Promise<Buffer>;
  /** Reads to the end: stdout and stderr apart. */
  demux(): Promise<{ stdout: Buffer; stderr: Buffer }>;
  /** Reads to the end: all output as text. */
  text(): Promise<string>;
}
/** A hijacked connection (exec start, attach): also write stdin, then `end()` to close it. */
export interface AttachStream extends FrameStream {
  write(chunk: Uint8Array | string, cb?: (err?: Error | null) => void): boolean;
  write(chunk: Uint8Array | string, encoding?: string, cb?: (err?: Error | null) => void): boolean;
  /** Closes stdin (the process reads end-of-file); output keeps flowing. */
  end(chunk?: Uint8Array | string, cb?: () => void): this;
  resize(opts: { h: number; w: number }): Promise<void>;
}
/** JSON documents (progress, events, stats): iterate for the parsed objects. */
export interface JsonStream<T = EngineObject> extends StreamEvents<Buffer>, AsyncIterable<T> {
  toArray(): Promise<T[]>;
  collect(): Promise<Buffer>;
}
/** Bytes (a tar archive, an export, an image save): iterate for Buffers. */
export interface ByteStream extends StreamEvents<Buffer>, AsyncIterable<Buffer> {
  collect(): Promise<Buffer>;
  /** getArchive only: the path's stat (`name`, `size`, `mode`, `mtime`, `linkTarget`). */
  stat?: EngineObject;
}

/** Progress document of a pull, push or build. */
export interface ProgressEvent {
  status?: string; id?: string; progress?: string; progressDetail?: { current?: number; total?: number };
  stream?: string; aux?: EngineObject; error?: string; errorDetail?: { code?: number; message: string };
  [key: string]: any;
}

// ---------------------------------------------------------------- options
export interface ListContainersOptions { all?: boolean | number; limit?: number; size?: boolean; filters?: Filters }
export interface LogsOptions {
  follow?: boolean | number; stdout?: boolean | number; stderr?: boolean | number; since?: number | string | Date;
  until?: number | string | Date; timestamps?: boolean | number; tail?: number | string; details?: boolean;
}
export interface ContainerCreateOptions {
  name?: string; platform?: string; Image?: string; Cmd?: string[] | string; Entrypoint?: string[] | string;
  Env?: string[] | null; Tty?: boolean; OpenStdin?: boolean; StdinOnce?: boolean; AttachStdin?: boolean;
  AttachStdout?: boolean; AttachStderr?: boolean; WorkingDir?: string; User?: string; Labels?: { [k: string]: string };
  HostConfig?: EngineObject; NetworkingConfig?: EngineObject; ExposedPorts?: EngineObject; Volumes?: EngineObject;
  [key: string]: any;
}
export interface ExecCreateOptions {
  Cmd: string[]; AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean; Tty?: boolean;
  Env?: string[]; User?: string; WorkingDir?: string; Privileged?: boolean; DetachKeys?: string; [key: string]: any;
}
export interface ExecStartOptions { hijack?: boolean; stdin?: boolean; Detach?: boolean; Tty?: boolean }
export interface BuildImageOptions {
  t?: string | string[]; dockerfile?: string; q?: boolean; nocache?: boolean; pull?: boolean | string; rm?: boolean;
  forcerm?: boolean; buildargs?: { [k: string]: string }; labels?: { [k: string]: string }; target?: string;
  platform?: string; networkmode?: string; cachefrom?: string[]; memory?: number; shmsize?: number;
  registryconfig?: { [address: string]: AuthConfig }; [key: string]: any;
}

// ---------------------------------------------------------------- objects
type Cb<T> = Callback<T>;

export class Container {
  readonly id: string;
  modem: Modem;
  warnings?: string[];
  inspect(opts?: { size?: boolean }): Promise<EngineObject>;
  inspect(cb: Cb<EngineObject>): void;
  start(opts?: { detachKeys?: string }): Promise<void>;
  start(cb: Cb<void>): void;
  stop(opts?: { t?: number }): Promise<void>;
  stop(cb: Cb<void>): void;
  restart(opts?: { t?: number }): Promise<void>;
  kill(opts?: { signal?: string | number }): Promise<void>;
  kill(cb: Cb<void>): void;
  pause(): Promise<void>;
  unpause(): Promise<void>;
  rename(opts: { name: string }): Promise<void>;
  update(opts: EngineObject): Promise<EngineObject>;
  top(opts?: { ps_args?: string }): Promise<{ Titles: string[]; Processes: string[][] }>;
  changes(): Promise<{ Path: string; Kind: number }[] | null>;
  wait(opts?: { condition?: 'not-running' | 'next-exit' | 'removed' }): Promise<{ StatusCode: number; Error?: { Message: string } | null }>;
  wait(cb: Cb<{ StatusCode: number }>): void;
  remove(opts?: { v?: boolean; force?: boolean; link?: boolean }): Promise<void>;
  remove(cb: Cb<void>): void;
  resize(opts: { h: number; w: number }): Promise<void>;
  /** With `follow`, a FrameStream; else a Buffer (multiplexed when the container has no TTY: see `demux`). */
  logs(opts: LogsOptions & { follow: true | 1 }): Promise<FrameStream>;
  logs(opts?: LogsOptions): Promise<Buffer>;
  stats(opts: { stream: false; 'one-shot'?: boolean }): Promise<EngineObject>;
  stats(opts?: { stream?: true }): Promise<JsonStream>;
  export(): Promise<ByteStream>;
  attach(opts?: { stream?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean; logs?: boolean; detachKeys?: string; hijack?: boolean }): Promise<AttachStream>;
  getArchive(opts: { path: string }): Promise<ByteStream>;
  infoArchive(opts: { path: string }): Promise<{ name: string; size: number; mode: number; mtime: string; linkTarget: string }>;
  putArchive(file: Body, opts: { path: string; noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }): Promise<void>;
  exec(opts: ExecCreateOptions): Promise<Exec>;
  commit(opts?: { repo?: string; tag?: string; comment?: string; author?: string; pause?: boolean; changes?: string | string[]; config?: EngineObject }): Promise<EngineObject>;
  listCheckpoint(): Promise<EngineObject[]>;
  createCheckpoint(opts: { CheckpointID: string; Exit?: boolean }): Promise<void>;
  deleteCheckpoint(checkpoint: string): Promise<void>;
}

export class Exec {
  readonly id: string;
  inspect(): Promise<EngineObject & { ExitCode: number | null; Running: boolean }>;
  resize(opts: { h: number; w: number }): Promise<void>;
  /** An AttachStream (undefined with `Detach: true`). */
  start(opts?: ExecStartOptions): Promise<AttachStream>;
}

export class Image {
  readonly name: string;
  inspect(): Promise<EngineObject>;
  history(): Promise<EngineObject[]>;
  tag(opts: { repo: string; tag?: string }): Promise<void>;
  remove(opts?: { force?: boolean; noprune?: boolean }): Promise<EngineObject[]>;
  /** `docker save` of the image, a tar. */
  get(): Promise<ByteStream>;
  distribution(opts?: { authconfig?: AuthConfig }): Promise<EngineObject>;
  push(opts?: { tag?: string; authconfig?: AuthConfig }, callback?: undefined, auth?: AuthConfig): Promise<JsonStream<ProgressEvent>>;
  push(opts: { tag?: string; authconfig?: AuthConfig } | undefined, callback: Cb<JsonStream<ProgressEvent>>, auth?: AuthConfig): void;
}

export class Network {
  readonly id: string;
  inspect(opts?: { verbose?: boolean; scope?: string }): Promise<EngineObject>;
  remove(): Promise<void>;
  connect(opts: { Container: string; EndpointConfig?: EngineObject }): Promise<void>;
  disconnect(opts: { Container: string; Force?: boolean }): Promise<void>;
}
export class Volume {
  readonly name: string;
  inspect(): Promise<EngineObject>;
  remove(opts?: { force?: boolean }): Promise<void>;
}
export class Service {
  readonly id: string;
  inspect(opts?: { insertDefaults?: boolean }): Promise<EngineObject>;
  remove(): Promise<void>;
  update(opts: EngineObject & { version: number }): Promise<EngineObject>;
  update(auth: AuthConfig | undefined, opts: EngineObject & { version: number }): Promise<EngineObject>;
  logs(opts: LogsOptions & { follow: true | 1 }): Promise<FrameStream>;
  logs(opts?: LogsOptions): Promise<Buffer>;
}
export class Task {
  readonly id: string;
  inspect(): Promise<EngineObject>;
  logs(opts: LogsOptions & { follow: true | 1 }): Promise<FrameStream>;
  logs(opts?: LogsOptions): Promise<Buffer>;
}
export class Node {
  readonly id: string;
  inspect(): Promise<EngineObject>;
  update(opts: EngineObject & { version: number }): Promise<void>;
  remove(opts?: { force?: boolean }): Promise<void>;
}
export class Secret {
  readonly id: string;
  inspect(): Promise<EngineObject>;
  update(opts: EngineObject & { version: number }): Promise<void>;
  remove(): Promise<void>;
}
export class Config extends Secret {}
export class Plugin {
  readonly name: string;
  readonly remote: string;
  inspect(): Promise<EngineObject>;
  remove(opts?: { force?: boolean }): Promise<void>;
  privileges(opts?: { authconfig?: AuthConfig }): Promise<EngineObject[]>;
  enable(opts?: { timeout?: number }): Promise<void>;
  disable(opts?: { force?: boolean }): Promise<void>;
  configure(opts: string[] | { settings: string[] }): Promise<void>;
  pull(opts?: { remote?: string; name?: string; _body?: EngineObject[]; authconfig?: AuthConfig }): Promise<JsonStream<ProgressEvent>>;
  push(opts?: { authconfig?: AuthConfig }): Promise<JsonStream<ProgressEvent>>;
  upgrade(opts: { remote?: string; _body?: EngineObject[] }): Promise<JsonStream<ProgressEvent>>;
  upgrade(auth: AuthConfig | undefined, opts: { remote?: string; _body?: EngineObject[] }): Promise<JsonStream<ProgressEvent>>;
}

export class Modem {
  followProgress<T = ProgressEvent>(stream: JsonStream<T>, onFinished: (err: Error | null, output: T[]) => void, onProgress?: (event: T) => void): void;
  followProgress<T = ProgressEvent>(stream: JsonStream<T>, onFinished?: undefined, onProgress?: (event: T) => void): Promise<T[]>;
  demuxStream(stream: FrameStream | Uint8Array | AsyncIterable<Uint8Array>, stdout: Sink | null, stderr: Sink | null): Promise<void>;
}

export interface DockerOptions {
  /** An engine the host configured, by name (default: the engine `tug run` was given). */
  engine?: string;
  [dockerodeOption: string]: any;
}

/** The emitter of `docker.run`'s callback form. */
export interface RunEmitter {
  on(event: 'container' | 'start', fn: (container: Container) => void): RunEmitter;
  on(event: 'stream', fn: (stream: AttachStream) => void): RunEmitter;
  on(event: 'data', fn: (data: { StatusCode: number }) => void): RunEmitter;
  once(event: string, fn: (...args: any[]) => void): RunEmitter;
  off(event: string, fn: (...args: any[]) => void): RunEmitter;
}

export class Docker {
  constructor(opts?: DockerOptions);
  /** A Docker on the engine the host configured under `name`. */
  static open(name: string): Docker;
  /** The names of the engines the run was given, `default` first: each opens with `Docker.open(name)`. */
  static engineNames(): string[];
  modem: Modem;
  engineInfo(): Promise<{ name: string; apiVersion: string }>;

  ping(): Promise<'OK'>;
  version(): Promise<EngineObject>;
  info(): Promise<EngineObject>;
  df(): Promise<EngineObject>;
  checkAuth(opts: AuthConfig): Promise<EngineObject>;
  getEvents(opts?: { since?: number | string | Date; until?: number | string | Date; filters?: Filters }): Promise<JsonStream>;

  getContainer(id: string): Container;
  listContainers(opts?: ListContainersOptions): Promise<EngineObject[]>;
  listContainers(cb: Cb<EngineObject[]>): void;
  createContainer(opts: ContainerCreateOptions): Promise<Container>;
  createContainer(opts: ContainerCreateOptions, cb: Cb<Container>): void;
  pruneContainers(opts?: { filters?: Filters }): Promise<EngineObject>;
  run(image: string, cmd: string[] | string, streamo: Sink | [Sink | null, Sink | null] | null,
      createOptions?: ContainerCreateOptions, startOptions?: EngineObject): Promise<[{ StatusCode: number }, Container]>;
  /** dockerode's callback form: `callback(err, data, container)`; returns an emitter of 'container',
   * 'stream', 'start' and 'data'. */
  run(image: string, cmd: string[] | string, streamo: Sink | [Sink | null, Sink | null] | null,
      createOptions: ContainerCreateOptions, startOptions: EngineObject,
      callback: (err: Error | null, data: { StatusCode: number } | null, container?: Container) => void): RunEmitter;
  run(image: string, cmd: string[] | string, streamo: Sink | [Sink | null, Sink | null] | null,
      createOptions: ContainerCreateOptions,
      callback: (err: Error | null, data: { StatusCode: number } | null, container?: Container) => void): RunEmitter;
  run(image: string, cmd: string[] | string, streamo: Sink | [Sink | null, Sink | null] | null,
      callback: (err: Error | null, data: { StatusCode: number } | null, container?: Container) => void): RunEmitter;

  getExec(id: string): Exec;

  getImage(name: string): Image;
  /** `docker save` of several images as one tar. */
  getImages(names: string[] | { names: string[] }): Promise<ByteStream>;
  listImages(opts?: { all?: boolean; filters?: Filters; digests?: boolean }): Promise<EngineObject[]>;
  searchImages(opts: { term: string; limit?: number; filters?: Filters }): Promise<EngineObject[]>;
  pruneImages(opts?: { filters?: Filters }): Promise<EngineObject>;
  pruneBuilder(opts?: { 'keep-storage'?: number; all?: boolean; filters?: Filters }): Promise<EngineObject>;
  pull(repoTag: string, opts?: { platform?: string; authconfig?: AuthConfig }, callback?: undefined, auth?: AuthConfig): Promise<JsonStream<ProgressEvent>>;
  pull(repoTag: string, opts: { platform?: string; authconfig?: AuthConfig }, callback: Cb<JsonStream<ProgressEvent>>, auth?: AuthConfig): void;
  pull(repoTag: string, callback: Cb<JsonStream<ProgressEvent>>): void;
  pullAll(repo: string, opts?: { platform?: string }): Promise<JsonStream<ProgressEvent>>;
  createImage(opts: { fromImage: string; tag?: string; platform?: string }): Promise<JsonStream<ProgressEvent>>;
  createImage(auth: AuthConfig | undefined, opts: { fromImage: string; tag?: string; platform?: string }): Promise<JsonStream<ProgressEvent>>;
  buildImage(file: Body, opts?: BuildImageOptions): Promise<JsonStream<ProgressEvent>>;
  buildImage(file: Body, opts: BuildImageOptions, cb: Cb<JsonStream<ProgressEvent>>): void;
  loadImage(file: Body, opts?: { quiet?: boolean }): Promise<JsonStream<ProgressEvent>>;
  importImage(file: Body, opts?: { repo?: string; tag?: string; message?: string; changes?: string | string[]; platform?: string }): Promise<JsonStream<ProgressEvent>>;

  getNetwork(id: string): Network;
  listNetworks(opts?: { filters?: Filters }): Promise<EngineObject[]>;
  createNetwork(opts: { Name: string; Driver?: string; Internal?: boolean; Labels?: { [k: string]: string }; [k: string]: any }): Promise<Network>;
  pruneNetworks(opts?: { filters?: Filters }): Promise<EngineObject>;

  getVolume(name: string): Volume;
  listVolumes(opts?: { filters?: Filters }): Promise<{ Volumes: EngineObject[] | null; Warnings: string[] | null }>;
  createVolume(opts?: { Name?: string; Driver?: string; DriverOpts?: { [k: string]: string }; Labels?: { [k: string]: string } }): Promise<Volume>;
  pruneVolumes(opts?: { filters?: Filters }): Promise<EngineObject>;

  swarmInit(opts: EngineObject): Promise<string>;
  swarmJoin(opts: EngineObject): Promise<void>;
  swarmLeave(opts?: { force?: boolean }): Promise<void>;
  swarmUpdate(opts: EngineObject & { version: number }): Promise<void>;
  swarmInspect(): Promise<EngineObject>;
  swarmUnlockKey(): Promise<EngineObject>;
  swarmUnlock(opts: { UnlockKey: string }): Promise<void>;
  getService(id: string): Service;
  listServices(opts?: { filters?: Filters; status?: boolean }): Promise<EngineObject[]>;
  createService(opts: EngineObject): Promise<Service>;
  createService(auth: AuthConfig | undefined, opts: EngineObject): Promise<Service>;
  getTask(id: string): Task;
  listTasks(opts?: { filters?: Filters }): Promise<EngineObject[]>;
  getNode(id: string): Node;
  listNodes(opts?: { filters?: Filters }): Promise<EngineObject[]>;
  getSecret(id: string): Secret;
  listSecrets(opts?: { filters?: Filters }): Promise<EngineObject[]>;
  createSecret(opts: EngineObject): Promise<Secret>;
  getConfig(id: string): Config;
  listConfigs(opts?: { filters?: Filters }): Promise<EngineObject[]>;
  createConfig(opts: EngineObject): Promise<Config>;

  getPlugin(name: string, remote?: string): Plugin;
  listPlugins(opts?: { filters?: Filters }): Promise<EngineObject[]>;
  createPlugin(opts: { name: string }, file: Body): Promise<Plugin>;

  followProgress<T = ProgressEvent>(stream: JsonStream<T>, onFinished: (err: Error | null, output: T[]) => void, onProgress?: (event: T) => void): void;
  followProgress<T = ProgressEvent>(stream: JsonStream<T>, onFinished?: undefined, onProgress?: (event: T) => void): Promise<T[]>;
}
export default Docker;

export function followProgress<T = ProgressEvent>(stream: JsonStream<T>, onFinished?: (err: Error | null, output: T[]) => void, onProgress?: (event: T) => void): Promise<T[]> | void;
/** dockerode's demuxStream; resolves when the stream ends. */
export function demuxStream(stream: FrameStream | Uint8Array | AsyncIterable<Uint8Array>, stdout: Sink | null, stderr: Sink | null): Promise<void>;
/** stdout and stderr of a multiplexed Buffer (what `logs()` without follow gives when there is no TTY). */
export function demux(buf: Uint8Array): { stdout: Buffer; stderr: Buffer };
export function splitMultiplexed(buf: Uint8Array): Frame[];

// ---------------------------------------------------------------- tar
export interface TarEntryIn {
  name: string; type?: 'file' | 'directory' | 'symlink'; content?: string | Uint8Array; data?: string | Uint8Array;
  mode?: number; mtime?: number | Date; uid?: number; gid?: number; linkname?: string;
}
export interface TarEntry {
  name: string; type: 'file' | 'directory' | 'symlink' | 'link' | string; mode: number; size: number;
  mtime: number; linkname: string; content: Buffer;
}
export const tar: {
  /** Packs entries (or `{path: content}`) into a tar archive. */
  pack(entries: TarEntryIn[] | { [path: string]: string | Uint8Array }): Buffer;
  /** Reads a tar archive (bytes, or an async iterable such as getArchive's stream). */
  extract(source: Uint8Array | AsyncIterable<Uint8Array>): Promise<TarEntry[]>;
};
export const tarPack: typeof tar.pack;
export const tarExtract: typeof tar.extract;
