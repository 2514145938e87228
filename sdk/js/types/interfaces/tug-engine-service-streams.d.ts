/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/service-streams@0.1.0' {
  /**
   * Returns the output of every task of service `id` as frames (ServiceLogs, GET /services/{id}/logs);
   * raw bytes when the service's containers have a TTY. Needs a log driver that can be read back
   * (`json-file`, `local`).
   */
  export function logs(e: Engine, id: string, options: LogsOptions): FrameReader;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type FrameReader = import('tug:engine/types@0.1.0').FrameReader;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `logs` (ServiceLogs).
   */
  export interface LogsOptions {
    /**
     * `details`: add the service's context and extra details (task, node) to each line.
     */
    details?: boolean,
    /**
     * `follow`: keep the stream open and return new output as the tasks write it.
     */
    follow?: boolean,
    /**
     * `stdout`: include the tasks' standard output.
     */
    stdout?: boolean,
    /**
     * `stderr`: include the tasks' standard error.
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
