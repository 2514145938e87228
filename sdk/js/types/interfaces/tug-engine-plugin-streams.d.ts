/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/plugin-streams@0.1.0' {
  /**
   * Pulls plugin `remote` (a reference; `:latest` if it has no tag) from its registry and installs it,
   * disabled (PluginPull, POST /plugins/pull), and returns the JSON progress stream. `privileges` is the
   * JSON body: the array of `PluginPrivilege` the plugin needs, as `plugins.privileges` returns it (the
   * daemon refuses any other). `auth` is the `X-Registry-Auth` header.
   */
  export function pull(e: Engine, remote: string, privileges: Json, options: PullOptions, auth: AuthConfig | undefined): JsonStream;
  /**
   * Upgrades disabled plugin `name` to plugin `remote` (a reference; `:latest` if it has no tag) from its
   * registry (PluginUpgrade, POST /plugins/{name}/upgrade), and returns the JSON progress stream.
   * `privileges` is the JSON body, as for `pull`; `auth` is the `X-Registry-Auth` header.
   */
  export function upgrade(e: Engine, name: string, remote: string, privileges: Json, auth: AuthConfig | undefined): JsonStream;
  /**
   * Pushes plugin `name`, e.g. `registry.example.com/myplugin:v1`, to its registry (PluginPush,
   * POST /plugins/{name}/push), and returns the JSON progress stream. `auth` is the `X-Registry-Auth`
   * header.
   */
  export function push(e: Engine, name: string, auth: AuthConfig | undefined): JsonStream;
  /**
   * Creates plugin `name` (`:latest` if it has no tag), disabled, from a tar archive the plugin writes into
   * the upload: `config.json` (the plugin's `PluginConfig`) and the directory `rootfs/` (PluginCreate,
   * POST /plugins/create); `finish` returns "".
   */
  export function create(e: Engine, name: string): Upload;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type JsonStream = import('tug:engine/types@0.1.0').JsonStream;
  export type Upload = import('tug:engine/types@0.1.0').Upload;
  export type AuthConfig = import('tug:engine/types@0.1.0').AuthConfig;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `pull` (PluginPull), besides `remote`.
   */
  export interface PullOptions {
    /**
     * `name`: the local name of the installed plugin (`:latest` if it has no tag); by default `remote`.
     */
    name?: string,
  }
}
