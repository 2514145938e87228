/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/networks@0.1.0' {
  /**
   * Lists networks (NetworkList, GET /networks) and returns the daemon's JSON array of networks.
   */
  export function list(e: Engine, options: ListOptions): Json;
  /**
   * Returns the low-level information about network `id` (an ID, an ID prefix or a name) as the daemon's
   * JSON (NetworkInspect, GET /networks/{id}).
   */
  export function inspect(e: Engine, id: string, options: InspectOptions): Json;
  /**
   * Removes network `id` (NetworkDelete, DELETE /networks/{id}).
   */
  export function remove(e: Engine, id: string): void;
  /**
   * Creates a network from `config`, the JSON create body (`Name`, `Driver`, `Internal`, `IPAM`,
   * `Labels`…) (NetworkCreate, POST /networks/create), and returns the daemon's answer (`Id`, `Warning`).
   */
  export function create(e: Engine, config: Json): Json;
  /**
   * Connects a container to network `id` from `request`, the JSON connect body (`Container`,
   * `EndpointConfig`) (NetworkConnect, POST /networks/{id}/connect).
   */
  export function connect(e: Engine, id: string, request: Json): void;
  /**
   * Disconnects a container from network `id` from `request`, the JSON disconnect body (`Container`,
   * `Force`) (NetworkDisconnect, POST /networks/{id}/disconnect).
   */
  export function disconnect(e: Engine, id: string, request: Json): void;
  /**
   * Removes unused networks (NetworkPrune, POST /networks/prune) and returns the daemon's JSON
   * (`NetworksDeleted`).
   */
  export function prune(e: Engine, options: PruneOptions): Json;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `list` (NetworkList).
   */
  export interface ListOptions {
    /**
     * `filters`: e.g. `driver`, `id`, `label`, `name`, `scope`, `type`, `dangling`; only matching networks
     * are listed.
     */
    filters?: Filters,
  }
  /**
   * Query parameters of `inspect` (NetworkInspect).
   */
  export interface InspectOptions {
    /**
     * `verbose`: add the network's services and peers across the swarm.
     */
    verbose?: boolean,
    /**
     * `scope`: look the network up only in this scope (`swarm`, `global` or `local`).
     */
    scope?: string,
  }
  /**
   * Query parameters of `prune` (NetworkPrune).
   */
  export interface PruneOptions {
    /**
     * `filters`: `until` and `label`; only matching unused networks are removed.
     */
    filters?: Filters,
  }
}
