/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/images@0.1.0' {
  /**
   * Lists images (ImageList, GET /images/json) and returns the daemon's JSON array of image summaries.
   */
  export function list(e: Engine, options: ListOptions): Json;
  /**
   * Returns the low-level information about image `name` (a name or ID) as the daemon's JSON
   * (ImageInspect, GET /images/{name}/json).
   */
  export function inspect(e: Engine, name: string): Json;
  /**
   * Returns the layers of image `name` as the daemon's JSON array (ImageHistory,
   * GET /images/{name}/history).
   */
  export function history(e: Engine, name: string): Json;
  /**
   * Tags image `name` into repository `repo`, e.g. `someuser/someimage` (ImageTag,
   * POST /images/{name}/tag).
   */
  export function tag(e: Engine, name: string, repo: string, options: TagOptions): void;
  /**
   * Removes image `name` (ImageDelete, DELETE /images/{name}) and returns the daemon's JSON array of
   * the images untagged and deleted.
   */
  export function remove(e: Engine, name: string, options: RemoveOptions): Json;
  /**
   * Searches Docker Hub for images matching `term` (ImageSearch, GET /images/search) and returns the
   * daemon's JSON array of results.
   */
  export function search(e: Engine, term: string, options: SearchOptions): Json;
  /**
   * Removes unused images (ImagePrune, POST /images/prune) and returns the daemon's JSON
   * (`ImagesDeleted`, `SpaceReclaimed`).
   */
  export function prune(e: Engine, options: PruneOptions): Json;
  /**
   * Creates an image from container `container`'s changes (ImageCommit, POST /commit), with `config`
   * as the image's JSON container configuration (`Cmd`, `Env`, `Labels`…) if given, and returns the
   * daemon's answer (`Id`).
   */
  export function commit(e: Engine, container: string, config: Json | undefined, options: CommitOptions): Json;
  /**
   * Removes build cache (BuildPrune, POST /build/prune) and returns the daemon's JSON (`CachesDeleted`,
   * `SpaceReclaimed`).
   */
  export function buildPrune(e: Engine, options: BuildPruneOptions): Json;
  /**
   * Cancels the build with id `id` (the `X-Docker-Expose-Session-Uuid`/build id) (POST /build/cancel;
   * outside the spec).
   */
  export function buildCancel(e: Engine, id: string): void;
  /**
   * Returns the in-toto attestation statements of image `name` (ImageAttestations,
   * GET /images/{name}/attestations). Needs API 1.55: older engines answer `error.api-version`.
   */
  export function attestations(e: Engine, name: string, platform: string | undefined): Json;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `list` (ImageList).
   */
  export interface ListOptions {
    /**
     * `all`: list intermediate images too; by default only images from a final layer are listed.
     */
    all?: boolean,
    /**
     * `filters`: e.g. `before`, `since`, `dangling`, `label`, `reference`; only matching images are
     * listed.
     */
    filters?: Filters,
    /**
     * `digests`: add the field `RepoDigests` to each image.
     */
    digests?: boolean,
  }
  /**
   * Query parameters of `tag` (ImageTag), besides `repo`.
   */
  export interface TagOptions {
    /**
     * `tag`: the new tag, e.g. `v1`.
     */
    tag?: string,
  }
  /**
   * Query parameters of `remove` (ImageDelete).
   */
  export interface RemoveOptions {
    /**
     * `force`: remove the image even if stopped containers use it or it has other tags.
     */
    force?: boolean,
    /**
     * `noprune`: keep untagged parent images.
     */
    noprune?: boolean,
  }
  /**
   * Query parameters of `search` (ImageSearch), besides `term`.
   */
  export interface SearchOptions {
    /**
     * `limit`: return at most this many results.
     */
    limit?: bigint,
    /**
     * `filters`: `is-official`, `is-automated`, `stars`; only matching results are returned.
     */
    filters?: Filters,
  }
  /**
   * Query parameters of `prune` (ImagePrune).
   */
  export interface PruneOptions {
    /**
     * `filters`: `dangling`, `until`, `label`; only matching unused images are removed.
     */
    filters?: Filters,
  }
  /**
   * Query parameters of `commit` (ImageCommit), besides `container`.
   */
  export interface CommitOptions {
    /**
     * `repo`: the repository name of the new image.
     */
    repo?: string,
    /**
     * `tag`: the tag of the new image.
     */
    tag?: string,
    /**
     * `comment`: the commit message.
     */
    comment?: string,
    /**
     * `author`: the image's author, e.g. `John Hannibal Smith <hannibal@a-team.com>`.
     */
    author?: string,
    /**
     * `pause`: pause the container while committing; the daemon's default is true.
     */
    pause?: boolean,
    /**
     * `changes`: Dockerfile instructions to apply, e.g. `ENV DEBUG=true`; one `changes` parameter each.
     */
    changes?: Array<string>,
  }
  /**
   * Query parameters of `build-prune` (BuildPrune).
   */
  export interface BuildPruneOptions {
    /**
     * `keep-storage`: bytes of build cache to keep.
     */
    keepStorage?: bigint,
    /**
     * `all`: remove every kind of build cache, not only dangling cache.
     */
    all?: boolean,
    /**
     * `filters`: e.g. `until`, `id`, `parent`, `type`, `inuse`, `shared`, `private`; only matching cache
     * is removed.
     */
    filters?: Filters,
  }
}
