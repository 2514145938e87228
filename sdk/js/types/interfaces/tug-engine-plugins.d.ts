/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/plugins@0.1.0' {
  /**
   * Lists the installed plugins (PluginList, GET /plugins) and returns the daemon's JSON array of plugins
   * (`Id`, `Name`, `Enabled`, `Settings`, `PluginReference`, `Config`).
   */
  export function list(e: Engine, options: ListOptions): Json;
  /**
   * Asks the registry which privileges plugin `remote` (a reference; `:latest` if it has no tag) needs, and
   * returns the daemon's JSON array of `PluginPrivilege` (`Name`, `Description`, `Value`): the body
   * `plugin-streams.pull` and `plugin-streams.upgrade` must send to accept them (GetPluginPrivileges,
   * GET /plugins/privileges). `auth` is the `X-Registry-Auth` header.
   */
  export function privileges(e: Engine, remote: string, auth: AuthConfig | undefined): Json;
  /**
   * Returns the low-level information about plugin `name` (a name, `:latest` if it has no tag, or an ID)
   * as the daemon's JSON (PluginInspect, GET /plugins/{name}/json).
   */
  export function inspect(e: Engine, name: string): Json;
  /**
   * Removes plugin `name` (PluginDelete, DELETE /plugins/{name}).
   */
  export function remove(e: Engine, name: string, options: RemoveOptions): void;
  /**
   * Enables plugin `name`: the daemon starts it and waits for its socket (PluginEnable,
   * POST /plugins/{name}/enable).
   */
  export function enable(e: Engine, name: string, options: EnableOptions): void;
  /**
   * Disables plugin `name`: the daemon stops it (PluginDisable, POST /plugins/{name}/disable).
   */
  export function disable(e: Engine, name: string, options: DisableOptions): void;
  /**
   * Configures disabled plugin `name` from `settings`, the JSON body: an array of `NAME[.FIELD]=VALUE`
   * strings, e.g. `["DEBUG=1", "myarg=a b"]`, where `NAME` is one of the plugin's settable env variables,
   * mounts, devices or its args (PluginSet, POST /plugins/{name}/set).
   */
  export function set(e: Engine, name: string, settings: Json): void;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type AuthConfig = import('tug:engine/types@0.1.0').AuthConfig;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `list` (PluginList).
   */
  export interface ListOptions {
    /**
     * `filters`: `capability` (e.g. `volumedriver`) and `enabled` (`true` or `false`; the 1.41 spec
     * says `enable`, the daemon takes `enabled`); only matching plugins are listed.
     */
    filters?: Filters,
  }
  /**
   * Query parameters of `remove` (PluginDelete).
   */
  export interface RemoveOptions {
    /**
     * `force`: disable the plugin first if it is enabled (even if containers use it).
     */
    force?: boolean,
  }
  /**
   * Query parameters of `enable` (PluginEnable).
   */
  export interface EnableOptions {
    /**
     * `timeout`: seconds the daemon's HTTP client waits for the plugin's answers; the daemon's default
     * is 0 (its built-in timeout).
     */
    timeout?: bigint,
  }
  /**
   * Query parameters of `disable` (PluginDisable).
   */
  export interface DisableOptions {
    /**
     * `force`: disable the plugin even if containers still use it.
     */
    force?: boolean,
  }
}
