/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/tasks@0.1.0' {
  /**
   * Lists tasks (TaskList, GET /tasks) and returns the daemon's JSON array of tasks.
   */
  export function list(e: Engine, options: ListOptions): Json;
  /**
   * Returns task `id` as the daemon's JSON (TaskInspect, GET /tasks/{id}).
   */
  export function inspect(e: Engine, id: string): Json;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `list` (TaskList).
   */
  export interface ListOptions {
    /**
     * `filters`: e.g. `desired-state`, `id`, `label`, `name`, `node`, `service`; only matching tasks are
     * listed.
     */
    filters?: Filters,
  }
}
