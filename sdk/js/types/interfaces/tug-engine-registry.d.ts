/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/registry@0.1.0' {
  /**
   * What this run moved to and from registries so far.
   */
  export function stats(): TransferStats;
  /**
   * The repositories registry `registry` lists in its catalog: `registry` is a registry host as a
   * reference names it (`127.0.0.1:5000`, `ghcr.io`, `docker.io`), which the policy must allow
   * (`registries`). Read-only (RegistryCatalog: `GET /v2/_catalog` on the registry, `n` per page); the
   * registry's `Link: <…>; rel="next"` pages are followed on the same host until `limit` names (default
   * 1000, at most 10000) have been read. Many registries (Docker Hub among them) serve no catalog and
   * answer an error.
   */
  export function catalog(registry: string, limit: number | undefined): Array<string>;
  /**
   * The tags of `repository`, a reference without tag or digest (`127.0.0.1:5000/app/base`), whose
   * registry the policy must allow (`registries`); only tags the policy's `images` let the run pull are
   * listed, and a repository with tags but none of them allowed is refused (`images`). Read-only
   * (RegistryListTags: `GET /v2/<name>/tags/list` on the registry, `n` per page); `Link` pages are
   * followed on the same host until `limit` tags (default 1000, at most 10000) have been read.
   */
  export function listTags(repository: string, limit: number | undefined): Array<string>;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * A platform, as in an image index: `linux` / `amd64`, `linux` / `arm64` / `v8`.
   */
  export interface Platform {
    /**
     * The operating system, e.g. `linux`.
     */
    os: string,
    /**
     * The CPU architecture in Go's spelling, e.g. `amd64`, `arm64`.
     */
    architecture: string,
    /**
     * The variant, e.g. `v8`, `v7`.
     */
    variant?: string,
  }
  /**
   * How to pull.
   */
  export interface PullOptions {
    /**
     * The platform to pick from an image index; default: the host's (`linux` and its architecture).
     */
    platform?: Platform,
  }
  /**
   * One layer of an image.
   */
  export interface LayerInfo {
    /**
     * The digest of the layer blob as stored in the registry (compressed), `sha256:…`.
     */
    digest: string,
    /**
     * The digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
     */
    diffId: string,
    /**
     * The blob's size in bytes.
     */
    size: bigint,
    /**
     * The blob's media type.
     */
    mediaType: string,
    /**
     * Whether the blob is held by tug (a layer this run added) rather than left in its registry.
     */
    local: boolean,
  }
  /**
   * Changes to an image's config. Every field is optional: an empty edit changes nothing.
   */
  export interface ConfigEdit {
    /**
     * `K=V` sets variable `K` (replacing its value), `K` alone removes it.
     */
    env: Array<string>,
    /**
     * The new `Cmd`.
     */
    cmd?: Array<string>,
    /**
     * The new `Entrypoint`.
     */
    entrypoint?: Array<string>,
    /**
     * Labels to set (`some`) or remove (`none`).
     */
    labels: Array<[string, string | undefined]>,
    /**
     * The new `WorkingDir`.
     */
    workdir?: string,
    /**
     * The new `User`.
     */
    user?: string,
  }
  /**
   * A file for a new layer.
   */
  export interface FileEntry {
    /**
     * Its path in the image, e.g. `/etc/motd` (parent directories are added as needed).
     */
    path: string,
    /**
     * Its contents.
     */
    contents: Uint8Array,
    /**
     * Its permission bits, e.g. `0o644`.
     */
    mode: number,
  }
  /**
   * What a push did.
   */
  export interface PushReport {
    /**
     * The reference pushed to.
     */
    reference: string,
    /**
     * The digest of the manifest written, `sha256:…`.
     */
    manifestDigest: string,
    /**
     * Its size in bytes.
     */
    manifestSize: bigint,
    /**
     * Blobs uploaded (layer and config bytes sent).
     */
    blobsUploaded: number,
    /**
     * Blobs mounted from another repository of the same registry (no bytes sent).
     */
    blobsMounted: number,
    /**
     * Blobs the registry already had in the repository (no bytes sent).
     */
    blobsSkipped: number,
    /**
     * Blob bytes sent.
     */
    bytesUploaded: bigint,
  }
  /**
   * What this run moved to and from registries so far.
   */
  export interface TransferStats {
    /**
     * Blob (layer and config) bytes downloaded.
     */
    blobBytesDownloaded: bigint,
    /**
     * Blob bytes uploaded.
     */
    blobBytesUploaded: bigint,
    /**
     * Manifest bytes downloaded.
     */
    manifestBytesDownloaded: bigint,
    /**
     * Blobs mounted across repositories.
     */
    blobsMounted: bigint,
    /**
     * Blobs a push found already present.
     */
    blobsSkipped: bigint,
    /**
     * Blobs uploaded.
     */
    blobsUploaded: bigint,
  }
  
  export class Image implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * Pulls `reference`'s manifest (choosing a platform from an index) and config; its layers are only
    * fetched when the image is written out (RegistryPull).
    */
    static pull(reference: string, options: PullOptions): Image;
    /**
    * An empty image for `platform`, to build up from layers.
    */
    static scratch(platform: Platform): Image;
    /**
    * The reference it was pulled from, if any.
    */
    source(): string | undefined;
    /**
    * The name it is saved and pushed under, if set (the source's by default).
    */
    name(): string | undefined;
    /**
    * Sets the name (and tag) it is saved and pushed under; the policy must allow it as an image name.
    */
    setName(reference: string): void;
    /**
    * The image config document (`config`, `rootfs`, `history`…), as JSON text.
    */
    config(): Json;
    /**
    * Replaces the config document; `rootfs` stays tug's.
    */
    setConfig(config: Json): void;
    /**
    * Edits the config.
    */
    edit(edit: ConfigEdit): void;
    /**
    * The layers, bottom first.
    */
    layers(): Array<LayerInfo>;
    /**
    * Adds a layer holding `files`, with `comment` in the image history.
    */
    addLayerFiles(files: Array<FileEntry>, comment: string): LayerInfo;
    /**
    * Adds a layer with the contents of host directory `host-dir` (one the policy grants in
    * `registry.layer_dirs`) under `image-dir` in the image.
    */
    addLayerDir(hostDir: string, imageDir: string, comment: string): LayerInfo;
    /**
    * Removes layer `index` (0 = the bottom one) and its history entry.
    */
    removeLayer(index: number): void;
    /**
    * The digest of the manifest a push would write (unchanged from the pull while nothing was edited).
    */
    manifestDigest(): string;
    /**
    * Pushes the image to `reference` (default: its name), uploading only the blobs the registry does not
    * have: present blobs are skipped, blobs in another repository of the same registry are mounted, and
    * layers still in their registry are never downloaded to be pushed there (RegistryPush).
    */
    push(reference: string | undefined): PushReport;
    /**
    * Loads the image into engine `e` under its name (ImageLoad): the layers still in their registry are
    * streamed from it into the engine. Returns the engine's load messages as a JSON array.
    */
    load(e: Engine): Json;
    [Symbol.dispose](): void;
  }
}
