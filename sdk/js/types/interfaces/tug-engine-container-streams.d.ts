/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
/// <reference path="./wasi-io-streams.d.ts" />
declare module 'tug:engine/container-streams@0.1.0' {
  /**
   * Returns container `id`'s output as frames (ContainerLogs, GET /containers/{id}/logs); raw bytes
   * when the container has a TTY.
   */
  export function logs(e: Engine, id: string, options: LogsOptions): FrameReader;
  /**
   * Exports container `id`'s filesystem as a tar archive to read (ContainerExport,
   * GET /containers/{id}/export).
   */
  export { _export as export };
  function _export(e: Engine, id: string): InputStream;
  /**
   * Streams container `id`'s resource usage, one JSON document per sample (ContainerStats,
   * GET /containers/{id}/stats with `stream=true`); `containers.stats` returns a single sample.
   */
  export function stats(e: Engine, id: string): JsonStream;
  /**
   * Attaches to container `id`'s standard streams over a hijacked connection (ContainerAttach,
   * POST /containers/{id}/attach).
   */
  export function attach(e: Engine, id: string, options: AttachOptions): AttachedSocket;
  /**
   * Attaches to container `id`'s standard streams over a WebSocket (ContainerAttachWebsocket,
   * GET /containers/{id}/attach/ws). The output is never multiplexed: frames are raw `stdout` bytes.
   */
  export function attachWebsocket(e: Engine, id: string, options: AttachOptions): AttachedSocket;
  /**
   * Copies the file or directory at `path` out of container `id` as a tar archive (ContainerArchive,
   * GET /containers/{id}/archive).
   */
  export function getArchive(e: Engine, id: string, path: string): Archive;
  /**
   * Extracts a tar archive (plain, gzip, bzip2 or xz), which the plugin writes into the upload, into the
   * directory `path` of container `id` (PutContainerArchive, PUT /containers/{id}/archive); `finish`
   * returns "".
   */
  export function putArchive(e: Engine, id: string, path: string, options: PutArchiveOptions): Upload;
  export type InputStream = import('wasi:io/streams@0.2.12').InputStream;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type JsonStream = import('tug:engine/types@0.1.0').JsonStream;
  export type FrameReader = import('tug:engine/types@0.1.0').FrameReader;
  export type Upload = import('tug:engine/types@0.1.0').Upload;
  export type AttachedSocket = import('tug:engine/types@0.1.0').AttachedSocket;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `logs` (ContainerLogs).
   */
  export interface LogsOptions {
    /**
     * `follow`: keep the stream open and return new output as the container writes it.
     */
    follow?: boolean,
    /**
     * `stdout`: include the container's standard output.
     */
    stdout?: boolean,
    /**
     * `stderr`: include the container's standard error.
     */
    stderr?: boolean,
    /**
     * `since`: only output written from this time on, as a UNIX timestamp (`1700000000`, fractions
     * allowed) or an RFC 3339 date.
     */
    since?: string,
    /**
     * `until`: only output written before this time, in the same forms as `since`.
     */
    until?: string,
    /**
     * `timestamps`: prefix each line with the time it was written.
     */
    timestamps?: boolean,
    /**
     * `tail`: only this many lines from the end of the logs, as a number, or `all` (the default).
     */
    tail?: string,
  }
  /**
   * Query parameters of `attach` (ContainerAttach).
   */
  export interface AttachOptions {
    /**
     * `stream`: stream the attached streams from now on.
     */
    stream?: boolean,
    /**
     * `stdin`: attach the container's standard input.
     */
    stdin?: boolean,
    /**
     * `stdout`: attach the container's standard output.
     */
    stdout?: boolean,
    /**
     * `stderr`: attach the container's standard error.
     */
    stderr?: boolean,
    /**
     * `logs`: first replay the container's output so far (per `stdout` and `stderr`).
     */
    logs?: boolean,
    /**
     * `detachKeys`: the key sequence that detaches from the container, e.g. `ctrl-p,ctrl-q`.
     */
    detachKeys?: string,
  }
  /**
   * A file or directory copied out of a container by `get-archive`.
   */
  export interface Archive {
    /**
     * The `X-Docker-Container-Path-Stat` header decoded to its JSON (`name`, `size`, `mode`, `mtime`,
     * `linkTarget`), as `containers.archive-info` returns it.
     */
    stat: Json,
    /**
     * The tar archive of the file or directory.
     */
    content: InputStream,
  }
  /**
   * Query parameters of `put-archive` (PutContainerArchive).
   */
  export interface PutArchiveOptions {
    /**
     * `noOverwriteDirNonDir`: fail if unpacking would replace a directory with a non-directory or the
     * other way round.
     */
    noOverwriteDirNonDir?: boolean,
    /**
     * `copyUIDGID`: map the files' owners through the container's user namespace (UID/GID maps).
     */
    copyUidGid?: boolean,
  }
}
