/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/system@0.1.0' {
  /**
   * Checks that the engine is reachable and returns what it says about itself (SystemPing,
   * GET /_ping).
   */
  export function ping(e: Engine): PingInfo;
  /**
   * The same as `ping` with a HEAD request (SystemPingHead, HEAD /_ping).
   */
  export function pingHead(e: Engine): PingInfo;
  /**
   * Opens a session for BuildKit's interactive builds (Session, POST /session, hijacked). Only an
   * unrestricted policy grants it: the gRPC inside is invisible to tug's policy.
   */
  export function session(e: Engine, headers: Array<[string, string]>): AttachedSocket;
  /**
   * Returns the engine's version, API version range, OS, architecture and components as the daemon's
   * JSON (SystemVersion, GET /version).
   */
  export function version(e: Engine): Json;
  /**
   * Returns system-wide information about the engine (counts, storage driver, runtimes, swarm…) as the
   * daemon's JSON (SystemInfo, GET /info).
   */
  export function info(e: Engine): Json;
  /**
   * Returns the disk space used by images, containers, volumes and the build cache as the daemon's
   * JSON (SystemDataUsage, GET /system/df).
   */
  export function dataUsage(e: Engine): Json;
  /**
   * Checks the credentials `config` against its registry (SystemAuth, POST /auth) and returns the
   * daemon's answer (`Status`, and `IdentityToken` if the registry gave one).
   */
  export function auth(e: Engine, config: AuthConfig): Json;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type AuthConfig = import('tug:engine/types@0.1.0').AuthConfig;
  export type AttachedSocket = import('tug:engine/types@0.1.0').AttachedSocket;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * What the engine says about itself in the headers of its answer to a ping.
   */
  export interface PingInfo {
    /**
     * The `Api-Version` header: the newest Engine API version the engine supports, e.g. `1.41`.
     */
    apiVersion: string,
    /**
     * The `OSType` header: the engine's operating system, `linux` or `windows`, if it sent one.
     */
    osType?: string,
    /**
     * The `Builder-Version` header: the engine's default image builder, `1` (classic) or `2` (BuildKit),
     * if it sent one.
     */
    builderVersion?: string,
    /**
     * The `Docker-Experimental` header: whether the engine runs with experimental features enabled.
     */
    experimental: boolean,
  }
}
