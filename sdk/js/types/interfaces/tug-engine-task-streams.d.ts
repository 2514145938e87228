/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/task-streams@0.1.0' {
  /**
   * Returns task `id`'s output as frames (TaskLogs, GET /tasks/{id}/logs); raw bytes when its container
   * has a TTY.
   */
  export function logs(e: Engine, id: string, options: LogsOptions): FrameReader;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type FrameReader = import('tug:engine/types@0.1.0').FrameReader;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `logs` (TaskLogs).
   */
  export interface LogsOptions {
    /**
     * `details`: add the task's context and extra details to each line.
     */
    details?: boolean,
    /**
     * `follow`: keep the stream open and return new output as the task writes it.
     */
    follow?: boolean,
    /**
     * `stdout`: include the task's standard output.
     */
    stdout?: boolean,
    /**
     * `stderr`: include the task's standard error.
     */
    stderr?: boolean,
    /**
     * `since`: only output written from this time on, as a UNIX timestamp (`1700000000`, fractions
     * allowed).
     */
    since?: string,
    /**
     * `timestamps`: prefix each line with the time it was written.
     */
    timestamps?: boolean,
    /**
     * `tail`: only this many lines from the end of the logs, as a number, or `all` (the default).
     */
    tail?: string,
  }
}
