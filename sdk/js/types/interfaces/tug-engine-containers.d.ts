/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/containers@0.1.0' {
  /**
   * Lists containers (ContainerList, GET /containers/json) and returns the daemon's JSON array of
   * container summaries.
   */
  export function list(e: Engine, options: ListOptions): Json;
  /**
   * Creates a container from `config`, the JSON create body (`Image`, `Cmd`, `HostConfig`…)
   * (ContainerCreate, POST /containers/create), and returns the daemon's answer (`Id`, `Warnings`).
   */
  export function create(e: Engine, config: Json, options: CreateOptions): Json;
  /**
   * Returns the low-level information about container `id` (an ID or name) as the daemon's JSON
   * (ContainerInspect, GET /containers/{id}/json).
   */
  export function inspect(e: Engine, id: string, options: InspectOptions): Json;
  /**
   * Lists the processes running inside container `id` (ContainerTop, GET /containers/{id}/top) and
   * returns the daemon's JSON (`Titles`, `Processes`).
   */
  export function top(e: Engine, id: string, options: TopOptions): Json;
  /**
   * Returns the changes to container `id`'s filesystem as the daemon's JSON array of `Path` and `Kind`
   * (ContainerChanges, GET /containers/{id}/changes).
   */
  export function changes(e: Engine, id: string): Json;
  /**
   * Resizes container `id`'s TTY to `height` rows and `width` columns (the query parameters `h` and `w`)
   * (ContainerResize, POST /containers/{id}/resize).
   */
  export function resize(e: Engine, id: string, height: number, width: number): void;
  /**
   * Starts container `id` (ContainerStart, POST /containers/{id}/start); `error.not-modified` if it was
   * already started.
   */
  export function start(e: Engine, id: string, options: StartOptions): void;
  /**
   * Stops container `id` (ContainerStop, POST /containers/{id}/stop); `error.not-modified` if it was
   * already stopped.
   */
  export function stop(e: Engine, id: string, options: StopOptions): void;
  /**
   * Restarts container `id` (ContainerRestart, POST /containers/{id}/restart).
   */
  export function restart(e: Engine, id: string, options: RestartOptions): void;
  /**
   * Sends a signal to container `id` (ContainerKill, POST /containers/{id}/kill).
   */
  export function kill(e: Engine, id: string, options: KillOptions): void;
  /**
   * Changes container `id`'s resources and restart policy from `update`, the JSON update body
   * (`Memory`, `CpuShares`, `RestartPolicy`…) (ContainerUpdate, POST /containers/{id}/update), and
   * returns the daemon's answer (`Warnings`).
   */
  export function update(e: Engine, id: string, update: Json): Json;
  /**
   * Renames container `id` to `name` (ContainerRename, POST /containers/{id}/rename).
   */
  export function rename(e: Engine, id: string, name: string): void;
  /**
   * Pauses every process in container `id` (ContainerPause, POST /containers/{id}/pause).
   */
  export function pause(e: Engine, id: string): void;
  /**
   * Resumes the processes of paused container `id` (ContainerUnpause, POST /containers/{id}/unpause).
   */
  export function unpause(e: Engine, id: string): void;
  /**
   * Waits until container `id` reaches the condition (ContainerWait, POST /containers/{id}/wait) and
   * returns the daemon's JSON (`StatusCode`, `Error`).
   */
  export function wait(e: Engine, id: string, options: WaitOptions): Json;
  /**
   * Removes container `id` (ContainerDelete, DELETE /containers/{id}).
   */
  export function remove(e: Engine, id: string, options: RemoveOptions): void;
  /**
   * Returns information about the file or directory at `path` in container `id`: the
   * `X-Docker-Container-Path-Stat` header decoded to its JSON (`name`, `size`, `mode`, `mtime`,
   * `linkTarget`) (ContainerArchiveInfo, HEAD /containers/{id}/archive).
   */
  export function archiveInfo(e: Engine, id: string, path: string): Json;
  /**
   * Removes stopped containers (ContainerPrune, POST /containers/prune) and returns the daemon's JSON
   * (`ContainersDeleted`, `SpaceReclaimed`).
   */
  export function prune(e: Engine, options: PruneOptions): Json;
  /**
   * Returns one sample of container `id`'s resource usage as the daemon's JSON (ContainerStats,
   * GET /containers/{id}/stats with `stream=false`); `container-streams.stats` streams them.
   */
  export function stats(e: Engine, id: string, options: StatsOptions): Json;
  /**
   * Lists container `id`'s checkpoints (GET /containers/{id}/checkpoints; outside the spec, served only
   * by engines with experimental features: elsewhere `error.api-version` says so).
   */
  export function checkpointList(e: Engine, id: string): Json;
  /**
   * Checkpoints container `id` from `config`, the JSON body (`CheckpointID`, `Exit`)
   * (POST /containers/{id}/checkpoints; experimental engines only).
   */
  export function checkpointCreate(e: Engine, id: string, config: Json): void;
  /**
   * Deletes checkpoint `name` of container `id` (DELETE /containers/{id}/checkpoints/{name};
   * experimental engines only).
   */
  export function checkpointDelete(e: Engine, id: string, name: string): void;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `list` (ContainerList).
   */
  export interface ListOptions {
    /**
     * `all`: list every container; by default only running ones are listed.
     */
    all?: boolean,
    /**
     * `limit`: list only this many of the most recently created containers, running or not.
     */
    limit?: bigint,
    /**
     * `size`: add the fields `SizeRw` and `SizeRootFs` to each container.
     */
    size?: boolean,
    /**
     * `filters`: e.g. `status`, `label`, `name`, `ancestor`; only matching containers are listed.
     */
    filters?: Filters,
  }
  /**
   * Query parameters of `create` (ContainerCreate).
   */
  export interface CreateOptions {
    /**
     * `name`: the container's name, matching `/?[a-zA-Z0-9][a-zA-Z0-9_.-]+`; the daemon picks one if absent.
     */
    name?: string,
    /**
     * `platform`: `os[/arch[/variant]]` of the image to look up in the local image cache.
     */
    platform?: string,
  }
  /**
   * Query parameters of `inspect` (ContainerInspect).
   */
  export interface InspectOptions {
    /**
     * `size`: add the fields `SizeRw` and `SizeRootFs`.
     */
    size?: boolean,
  }
  /**
   * Query parameters of `top` (ContainerTop).
   */
  export interface TopOptions {
    /**
     * `ps_args`: the arguments to pass to `ps`, e.g. `aux`; the daemon's default is `-ef`.
     */
    psArgs?: string,
  }
  /**
   * Query parameters of `start` (ContainerStart).
   */
  export interface StartOptions {
    /**
     * `detachKeys`: the key sequence that detaches from the container, e.g. `ctrl-p,ctrl-q`.
     */
    detachKeys?: string,
  }
  /**
   * Query parameters of `stop` (ContainerStop).
   */
  export interface StopOptions {
    /**
     * `t`: seconds to wait for the container to stop before killing it.
     */
    t?: bigint,
  }
  /**
   * Query parameters of `restart` (ContainerRestart).
   */
  export interface RestartOptions {
    /**
     * `t`: seconds to wait for the container to stop before killing it.
     */
    t?: bigint,
  }
  /**
   * Query parameters of `kill` (ContainerKill).
   */
  export interface KillOptions {
    /**
     * `signal`: the signal to send, as a name (`SIGINT`) or a number (`2`); the daemon's default is
     * `SIGKILL`.
     */
    signal?: string,
  }
  /**
   * Query parameters of `wait` (ContainerWait).
   */
  export interface WaitOptions {
    /**
     * `condition`: `not-running` (the daemon's default), `next-exit` or `removed`.
     */
    condition?: string,
  }
  /**
   * Query parameters of `remove` (ContainerDelete).
   */
  export interface RemoveOptions {
    /**
     * `v`: also remove the container's anonymous volumes.
     */
    v?: boolean,
    /**
     * `force`: kill the container first if it is running.
     */
    force?: boolean,
    /**
     * `link`: remove the link `id` names instead of a container.
     */
    link?: boolean,
  }
  /**
   * Query parameters of `prune` (ContainerPrune).
   */
  export interface PruneOptions {
    /**
     * `filters`: `until` and `label`; only matching stopped containers are removed.
     */
    filters?: Filters,
  }
  /**
   * Query parameters of `stats` (ContainerStats with `stream=false`).
   */
  export interface StatsOptions {
    /**
     * `one-shot`: return the first sample at once instead of waiting for a second one (so the CPU
     * percentages can be computed).
     */
    oneShot?: boolean,
  }
}
