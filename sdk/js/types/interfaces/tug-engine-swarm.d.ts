/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/swarm@0.1.0' {
  /**
   * Returns the swarm this engine manages (`ID`, `Version`, `Spec`, `JoinTokens`…) as the daemon's JSON
   * (SwarmInspect, GET /swarm); an error when the engine is not a swarm manager.
   */
  export function inspect(e: Engine): Json;
  /**
   * Makes the engine the first manager of a new swarm from `request`, the JSON init body (`ListenAddr`,
   * `AdvertiseAddr`, `DataPathAddr`, `Spec`…) (SwarmInit, POST /swarm/init), and returns the daemon's
   * answer: the node's ID as a JSON string.
   */
  export function init(e: Engine, request: Json): Json;
  /**
   * Joins an existing swarm from `request`, the JSON join body (`ListenAddr`, `AdvertiseAddr`,
   * `RemoteAddrs`, `JoinToken`) (SwarmJoin, POST /swarm/join).
   */
  export function join(e: Engine, request: Json): void;
  /**
   * Makes the engine leave its swarm (SwarmLeave, POST /swarm/leave).
   */
  export function leave(e: Engine, options: LeaveOptions): void;
  /**
   * Replaces the swarm's settings with `spec`, the JSON swarm spec (`Orchestration`, `Raft`,
   * `Dispatcher`, `CAConfig`, `EncryptionConfig`, `TaskDefaults`, `Labels`) (SwarmUpdate,
   * POST /swarm/update).
   */
  export function update(e: Engine, spec: Json, options: UpdateOptions): void;
  /**
   * Returns the key that unlocks a locked manager as the daemon's JSON (`UnlockKey`, empty when autolock
   * is off) (SwarmUnlockkey, GET /swarm/unlockkey).
   */
  export function unlockKey(e: Engine): Json;
  /**
   * Unlocks a manager that autolock locked at its restart, from `request`, the JSON unlock body
   * (`UnlockKey`) (SwarmUnlock, POST /swarm/unlock).
   */
  export function unlock(e: Engine, request: Json): void;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `leave` (SwarmLeave).
   */
  export interface LeaveOptions {
    /**
     * `force`: leave even when this is the last manager (the swarm is lost) or when leaving breaks the
     * cluster's quorum.
     */
    force?: boolean,
  }
  /**
   * Query parameters of `update` (SwarmUpdate).
   */
  export interface UpdateOptions {
    /**
     * `version`: the swarm's `Version.Index` as `inspect` returned it; the update fails if the swarm has
     * changed since (no conflicting writes).
     */
    version: bigint,
    /**
     * `rotateWorkerToken`: replace the worker join token.
     */
    rotateWorkerToken?: boolean,
    /**
     * `rotateManagerToken`: replace the manager join token.
     */
    rotateManagerToken?: boolean,
    /**
     * `rotateManagerUnlockKey`: replace the managers' unlock key.
     */
    rotateManagerUnlockKey?: boolean,
  }
}
