/// <reference path="./wasi-io-poll.d.ts" />
/// <reference path="./wasi-io-streams.d.ts" />
declare module 'tug:engine/types@0.1.0' {
  export type Pollable = import('wasi:io/poll@0.2.12').Pollable;
  export type InputStream = import('wasi:io/streams@0.2.12').InputStream;
  export type OutputStream = import('wasi:io/streams@0.2.12').OutputStream;
  /**
   * A JSON document in the Engine API's own schema (a create body, an inspect result, an event), as UTF-8
   * text. Every field of every API version passes through unchanged; the SDKs give these documents types.
   */
  export type Json = string;
  /**
   * Filters as the Engine API takes them: each key with the values it matches, e.g.
   * `[("label", ["a=b"]), ("status", ["running", "exited"])]`.
   */
  export type Filters = Array<[string, Array<string>]>;
  /**
   * Why the policy refused a call.
   */
  export interface Denial {
    /**
     * The policy rule that refused it, e.g. `containers.privileged` or `ownership`.
     */
    rule: string,
    /**
     * The request field at fault, as a JSON path (`HostConfig.Binds[0]`), a query parameter or a target.
     */
    field?: string,
    /**
     * A sentence a person can act on.
     */
    reason: string,
  }
  /**
   * An answer from the engine that is an error and none of the more specific cases.
   */
  export interface ApiError {
    /**
     * The HTTP status code.
     */
    status: number,
    /**
     * The daemon's own `message`.
     */
    message: string,
  }
  /**
   * The error every Engine API function returns; the cases mirror docker-py's exceptions.
   */
  export type Error = ErrorNotFound | ErrorConflict | ErrorBadRequest | ErrorNotModified | ErrorDenied | ErrorApi | ErrorTransport | ErrorTimeout | ErrorApiVersion | ErrorInvalidArgument | ErrorIntegrity;
  /**
   * 404: no such container, image, network, volume, exec instance… (the daemon's message).
   */
  export interface ErrorNotFound {
    tag: 'not-found',
    val: string,
  }
  /**
   * 409: the name is in use, the container is running or paused… (the daemon's message).
   */
  export interface ErrorConflict {
    tag: 'conflict',
    val: string,
  }
  /**
   * 400: the daemon rejected a parameter (the daemon's message).
   */
  export interface ErrorBadRequest {
    tag: 'bad-request',
    val: string,
  }
  /**
   * 304: the container was already started or stopped.
   */
  export interface ErrorNotModified {
    tag: 'not-modified',
  }
  /**
   * The policy refused the call before anything reached the engine.
   */
  export interface ErrorDenied {
    tag: 'denied',
    val: Denial,
  }
  /**
   * Any other error status from the engine.
   */
  export interface ErrorApi {
    tag: 'api',
    val: ApiError,
  }
  /**
   * The connection to the engine failed or broke.
   */
  export interface ErrorTransport {
    tag: 'transport',
    val: string,
  }
  /**
   * The call did not finish within its time limit.
   */
  export interface ErrorTimeout {
    tag: 'timeout',
    val: string,
  }
  /**
   * The operation or parameter needs another Engine API version than the engine speaks.
   */
  export interface ErrorApiVersion {
    tag: 'api-version',
    val: string,
  }
  /**
   * The plugin passed something unusable: malformed JSON, a closed handle, an out-of-range value.
   */
  export interface ErrorInvalidArgument {
    tag: 'invalid-argument',
    val: string,
  }
  /**
   * Bytes from a registry did not match their digest or size (the blob and both digests are named);
   * nothing made of them was kept.
   */
  export interface ErrorIntegrity {
    tag: 'integrity',
    val: string,
  }
  /**
   * Which stream of a process a frame belongs to.
   * # Variants
   * 
   * ## `"stdin"`
   * 
   * The process's standard input (echoed back by some engines).
   * ## `"stdout"`
   * 
   * The process's standard output; every frame of a TTY session.
   * ## `"stderr"`
   * 
   * The process's standard error.
   * ## `"system"`
   * 
   * A message from the engine itself (stream 3 of the multiplexed format).
   */
  export type StreamKind = 'stdin' | 'stdout' | 'stderr' | 'system';
  /**
   * One piece of a process's output.
   */
  export interface Frame {
    /**
     * The stream it came on.
     */
    stream: StreamKind,
    /**
     * The bytes, exactly as the process wrote them.
     */
    data: Uint8Array,
  }
  /**
   * Credentials for a registry (the `X-Registry-Auth` header). Usually the host supplies them and the
   * plugin never sees them; a plugin may pass its own.
   */
  export interface AuthConfig {
    /**
     * User name.
     */
    username?: string,
    /**
     * Password.
     */
    password?: string,
    /**
     * A token from the registry's token service, instead of a password.
     */
    identityToken?: string,
    /**
     * A bearer token for the registry.
     */
    registryToken?: string,
    /**
     * The registry's address, e.g. `127.0.0.1:5000`.
     */
    serverAddress?: string,
  }
  
  export class AttachedSocket implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * Whether the process has a TTY (then output frames are raw `stdout` bytes).
    */
    tty(): boolean;
    /**
    * The process's stdin. Can be taken once.
    */
    stdin(): OutputStream;
    /**
    * Half-closes the connection: the process reads end-of-file on stdin, output keeps flowing.
    */
    closeStdin(): void;
    /**
    * The next output frame of at most `max-bytes` bytes, waiting for it; `none` at the end.
    */
    next(maxBytes: number): Frame | undefined;
    /**
    * Ready when `next` will not wait.
    */
    subscribe(): Pollable;
    /**
    * Resizes the process's TTY.
    */
    resize(height: number, width: number): void;
    [Symbol.dispose](): void;
  }
  
  export class FrameReader implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * Whether the process has a TTY: then every frame is `stdout` and carries raw bytes.
    */
    tty(): boolean;
    /**
    * The next frame of at most `max-bytes` bytes (at least 1), waiting for it; `none` at the end.
    */
    next(maxBytes: number): Frame | undefined;
    /**
    * The frames that have arrived, at most `max-bytes` bytes in all (at least 9), in the Engine API's own
    * multiplexed format — for each piece an 8-byte header (the stream: 0 stdin, 1 stdout, 2 stderr, 3
    * system; three zero bytes; the payload's length, big-endian) and its payload — or the raw bytes
    * when there is a TTY. Waits for at least one frame; `none` at the end. One call carries many small
    * frames, for clients that split the format themselves (dockerode's `demuxStream`).
    */
    readMultiplexed(maxBytes: number): Uint8Array | undefined;
    /**
    * The rest of the output as an `input-stream` of bytes in the format `read-multiplexed` gives, from
    * where this reader stopped. A read waits for nothing and hands out what has arrived; a frame is split
    * (each piece behind a header of its own) only when a read has no room for it. Consumes the reader.
    */
    static intoStream(this_: FrameReader): InputStream;
    /**
    * Ready when `next` will not wait.
    */
    subscribe(): Pollable;
    [Symbol.dispose](): void;
  }
  
  export class JsonStream implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * The next document, waiting for it; `none` once the stream has ended. Each progress document is
    * returned as the engine sent it; an `errorDetail` document ends a pull, push or build with an error.
    */
    next(): Json | undefined;
    /**
    * Ready when `next` will not wait.
    */
    subscribe(): Pollable;
    [Symbol.dispose](): void;
  }
  
  export class ProgressUpload implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * The request body, as for `upload.body`.
    */
    body(): OutputStream;
    /**
    * Ends the body and returns the progress stream.
    */
    static finish(this_: ProgressUpload): JsonStream;
    [Symbol.dispose](): void;
  }
  
  export class Upload implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * The request body. Bytes written are sent with backpressure; the whole body is never buffered.
    * Can be taken once; drop it (or call `finish`) to end the body.
    */
    body(): OutputStream;
    /**
    * Ends the body and waits for the engine's answer: the JSON text, or "" when it answers no content.
    */
    static finish(this_: Upload): Json;
    [Symbol.dispose](): void;
  }
}
