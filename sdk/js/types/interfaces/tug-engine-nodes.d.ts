/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/nodes@0.1.0' {
  /**
   * Lists the swarm's nodes (NodeList, GET /nodes) and returns the daemon's JSON array of nodes.
   */
  export function list(e: Engine, options: ListOptions): Json;
  /**
   * Returns node `id` (an ID or name) as the daemon's JSON (NodeInspect, GET /nodes/{id}).
   */
  export function inspect(e: Engine, id: string): Json;
  /**
   * Removes node `id` (an ID or name) from the swarm (NodeDelete, DELETE /nodes/{id}).
   */
  export function remove(e: Engine, id: string, options: RemoveOptions): void;
  /**
   * Replaces node `id`'s settings with `spec`, the JSON node spec (`Name`, `Labels`, `Role`,
   * `Availability`) (NodeUpdate, POST /nodes/{id}/update).
   */
  export function update(e: Engine, id: string, spec: Json, options: UpdateOptions): void;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `list` (NodeList).
   */
  export interface ListOptions {
    /**
     * `filters`: e.g. `id`, `label`, `membership`, `name`, `node.label`, `role`; only matching nodes are
     * listed.
     */
    filters?: Filters,
  }
  /**
   * Query parameters of `remove` (NodeDelete).
   */
  export interface RemoveOptions {
    /**
     * `force`: remove the node even when it is still up.
     */
    force?: boolean,
  }
  /**
   * Query parameters of `update` (NodeUpdate).
   */
  export interface UpdateOptions {
    /**
     * `version`: the node's `Version.Index` as `inspect` returned it; the update fails if the node has
     * changed since.
     */
    version: bigint,
  }
}
