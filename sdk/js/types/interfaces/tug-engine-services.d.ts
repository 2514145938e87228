/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/services@0.1.0' {
  /**
   * Lists services (ServiceList, GET /services) and returns the daemon's JSON array of services.
   */
  export function list(e: Engine, options: ListOptions): Json;
  /**
   * Creates a service from `spec`, the JSON service spec (`Name`, `TaskTemplate`, `Mode`,
   * `EndpointSpec`, `Labels`…) (ServiceCreate, POST /services/create), and returns the daemon's answer
   * (`ID`, `Warning`). `auth` is the `X-Registry-Auth` header, for pulling the image.
   */
  export function create(e: Engine, spec: Json, auth: AuthConfig | undefined): Json;
  /**
   * Returns service `id` (an ID, an ID prefix or a name) as the daemon's JSON (ServiceInspect,
   * GET /services/{id}).
   */
  export function inspect(e: Engine, id: string, options: InspectOptions): Json;
  /**
   * Removes service `id` and its tasks (ServiceDelete, DELETE /services/{id}).
   */
  export function remove(e: Engine, id: string): void;
  /**
   * Replaces service `id`'s spec with `spec`, the JSON service spec (ServiceUpdate,
   * POST /services/{id}/update), and returns the daemon's answer (`Warnings`). `auth` is the
   * `X-Registry-Auth` header, for pulling the image.
   */
  export function update(e: Engine, id: string, spec: Json, options: UpdateOptions, auth: AuthConfig | undefined): Json;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type AuthConfig = import('tug:engine/types@0.1.0').AuthConfig;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `list` (ServiceList).
   */
  export interface ListOptions {
    /**
     * `filters`: e.g. `id`, `label`, `mode`, `name`; only matching services are listed.
     */
    filters?: Filters,
    /**
     * `status`: add `ServiceStatus` to each service (the counts of running and desired tasks).
     */
    status?: boolean,
  }
  /**
   * Query parameters of `inspect` (ServiceInspect).
   */
  export interface InspectOptions {
    /**
     * `insertDefaults`: fill the fields left empty with their default values.
     */
    insertDefaults?: boolean,
  }
  /**
   * Query parameters of `update` (ServiceUpdate).
   */
  export interface UpdateOptions {
    /**
     * `version`: the service's `Version.Index` as `inspect` returned it; the update fails if the service
     * has changed since.
     */
    version: bigint,
    /**
     * `registryAuthFrom`: where to find registry credentials when `auth` is absent: `spec` (the
     * default) or `previous-spec`.
     */
    registryAuthFrom?: string,
    /**
     * `rollback`: `previous` rolls the service back to its previous spec (`spec` is then ignored).
     */
    rollback?: string,
  }
}
