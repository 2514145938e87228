/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/configs@0.1.0' {
  /**
   * Lists configs (ConfigList, GET /configs) and returns the daemon's JSON array of configs.
   */
  export function list(e: Engine, options: ListOptions): Json;
  /**
   * Creates a config from `spec`, the JSON config spec (`Name`, `Labels`, `Data` in base64,
   * `Templating`) (ConfigCreate, POST /configs/create), and returns the daemon's answer (`ID`).
   */
  export function create(e: Engine, spec: Json): Json;
  /**
   * Returns config `id` (an ID or name), with its data, as the daemon's JSON (ConfigInspect,
   * GET /configs/{id}).
   */
  export function inspect(e: Engine, id: string): Json;
  /**
   * Removes config `id` (ConfigDelete, DELETE /configs/{id}).
   */
  export function remove(e: Engine, id: string): void;
  /**
   * Replaces config `id`'s spec with `spec`, the JSON config spec as `inspect` returned it; only the
   * `Labels` may change (ConfigUpdate, POST /configs/{id}/update).
   */
  export function update(e: Engine, id: string, spec: Json, options: UpdateOptions): void;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `list` (ConfigList).
   */
  export interface ListOptions {
    /**
     * `filters`: e.g. `id`, `label`, `name`, `names`; only matching configs are listed.
     */
    filters?: Filters,
  }
  /**
   * Query parameters of `update` (ConfigUpdate).
   */
  export interface UpdateOptions {
    /**
     * `version`: the config's `Version.Index` as `inspect` returned it; the update fails if the config
     * has changed since.
     */
    version: bigint,
  }
}
