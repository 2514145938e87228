/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/volumes@0.1.0' {
  /**
   * Lists volumes (VolumeList, GET /volumes) and returns the daemon's JSON (`Volumes`, `Warnings`).
   */
  export function list(e: Engine, options: ListOptions): Json;
  /**
   * Creates a volume from `config`, the JSON create body (`Name`, `Driver`, `DriverOpts`, `Labels`)
   * (VolumeCreate, POST /volumes/create), and returns the daemon's JSON of the volume.
   */
  export function create(e: Engine, config: Json): Json;
  /**
   * Returns the low-level information about volume `name` as the daemon's JSON (VolumeInspect,
   * GET /volumes/{name}).
   */
  export function inspect(e: Engine, name: string): Json;
  /**
   * Removes volume `name` (VolumeDelete, DELETE /volumes/{name}).
   */
  export function remove(e: Engine, name: string, options: RemoveOptions): void;
  /**
   * Updates cluster volume `name` at object version `version` from `spec`, the JSON body (`Spec`)
   * (VolumeUpdate, PUT /volumes/{name}). Needs API 1.42: older engines answer `error.api-version`.
   */
  export function update(e: Engine, name: string, version: bigint, spec: Json): void;
  /**
   * Removes unused volumes (VolumePrune, POST /volumes/prune) and returns the daemon's JSON
   * (`VolumesDeleted`, `SpaceReclaimed`).
   */
  export function prune(e: Engine, options: PruneOptions): Json;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `list` (VolumeList).
   */
  export interface ListOptions {
    /**
     * `filters`: e.g. `dangling`, `driver`, `label`, `name`; only matching volumes are listed.
     */
    filters?: Filters,
  }
  /**
   * Query parameters of `remove` (VolumeDelete).
   */
  export interface RemoveOptions {
    /**
     * `force`: remove the volume even if it is in use.
     */
    force?: boolean,
  }
  /**
   * Query parameters of `prune` (VolumePrune).
   */
  export interface PruneOptions {
    /**
     * `filters`: `label` (and from API 1.42 `all`); only matching unused volumes are removed.
     */
    filters?: Filters,
  }
}
