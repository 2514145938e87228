/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/secrets@0.1.0' {
  /**
   * Lists secrets (SecretList, GET /secrets) and returns the daemon's JSON array of secrets (without
   * their data).
   */
  export function list(e: Engine, options: ListOptions): Json;
  /**
   * Creates a secret from `spec`, the JSON secret spec (`Name`, `Labels`, `Data` in base64, `Driver`,
   * `Templating`) (SecretCreate, POST /secrets/create), and returns the daemon's answer (`ID`).
   */
  export function create(e: Engine, spec: Json): Json;
  /**
   * Returns secret `id` (an ID or name), without its data, as the daemon's JSON (SecretInspect,
   * GET /secrets/{id}).
   */
  export function inspect(e: Engine, id: string): Json;
  /**
   * Removes secret `id` (SecretDelete, DELETE /secrets/{id}).
   */
  export function remove(e: Engine, id: string): void;
  /**
   * Replaces secret `id`'s spec with `spec`, the JSON secret spec as `inspect` returned it; only the
   * `Labels` may change (SecretUpdate, POST /secrets/{id}/update).
   */
  export function update(e: Engine, id: string, spec: Json, options: UpdateOptions): void;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `list` (SecretList).
   */
  export interface ListOptions {
    /**
     * `filters`: e.g. `id`, `label`, `name`, `names`; only matching secrets are listed.
     */
    filters?: Filters,
  }
  /**
   * Query parameters of `update` (SecretUpdate).
   */
  export interface UpdateOptions {
    /**
     * `version`: the secret's `Version.Index` as `inspect` returned it; the update fails if the secret
     * has changed since.
     */
    version: bigint,
  }
}
