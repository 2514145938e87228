/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
/// <reference path="./wasi-io-streams.d.ts" />
declare module 'tug:engine/image-streams@0.1.0' {
  /**
   * Builds an image (ImageBuild, POST /build): the plugin writes the build context, a tar archive
   * (plain, gzip, bzip2 or xz), into the upload; `finish` returns the build's JSON progress stream.
   * `registry-config` gives credentials per registry address (the `X-Registry-Config` header).
   */
  export function build(e: Engine, options: BuildOptions, registryConfig: Array<[string, AuthConfig]> | undefined): ProgressUpload;
  /**
   * Pulls image `from-image` (a name, optionally with a tag or digest) from its registry (ImageCreate,
   * POST /images/create with `fromImage`) and returns the JSON progress stream. `auth` is the
   * `X-Registry-Auth` header.
   */
  export function pull(e: Engine, fromImage: string, options: PullOptions, auth: AuthConfig | undefined): JsonStream;
  /**
   * Imports a root filesystem tar archive, which the plugin writes into the upload, as an image
   * (ImageCreate, POST /images/create with `fromSrc=-`); `finish` returns the JSON progress stream.
   */
  export { _import as import };
  function _import(e: Engine, options: ImportOptions): ProgressUpload;
  /**
   * Pushes image `name`, e.g. `registry.example.com/myimage`, to its registry (ImagePush,
   * POST /images/{name}/push) and returns the JSON progress stream. `auth` is the `X-Registry-Auth`
   * header.
   */
  export function push(e: Engine, name: string, options: PushOptions, auth: AuthConfig | undefined): JsonStream;
  /**
   * Exports image `name` (with its tags and parents) as a tar archive to read (ImageGet,
   * GET /images/{name}/get).
   */
  export function save(e: Engine, name: string): InputStream;
  /**
   * Exports the images `names` (names or IDs) as one tar archive to read (ImageGetAll,
   * GET /images/get).
   */
  export function saveAll(e: Engine, names: Array<string>): InputStream;
  /**
   * Loads images from a tar archive (as `save` makes), which the plugin writes into the upload
   * (ImageLoad, POST /images/load); `finish` returns the JSON progress stream.
   */
  export function load(e: Engine, options: LoadOptions): ProgressUpload;
  export type InputStream = import('wasi:io/streams@0.2.12').InputStream;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type JsonStream = import('tug:engine/types@0.1.0').JsonStream;
  export type ProgressUpload = import('tug:engine/types@0.1.0').ProgressUpload;
  export type AuthConfig = import('tug:engine/types@0.1.0').AuthConfig;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `build` (ImageBuild).
   */
  export interface BuildOptions {
    /**
     * `dockerfile`: the Dockerfile's path within the build context; the daemon's default is
     * `Dockerfile`. Ignored if `remote` points to a Dockerfile.
     */
    dockerfile?: string,
    /**
     * `t`: names (`name:tag`) to give the image; one `t` parameter each.
     */
    t?: Array<string>,
    /**
     * `extrahosts`: extra hosts to add to `/etc/hosts`.
     */
    extrahosts?: string,
    /**
     * `remote`: a Git repository or HTTP(S) URL to take the build context (or a Dockerfile) from
     * instead of the uploaded tar.
     */
    remote?: string,
    /**
     * `q`: suppress verbose build output.
     */
    q?: boolean,
    /**
     * `nocache`: do not use the build cache.
     */
    nocache?: boolean,
    /**
     * `cachefrom`: images to use as cache sources (sent as a JSON array).
     */
    cachefrom?: Array<string>,
    /**
     * `pull`: pull the base images even if older ones exist locally.
     */
    pull?: boolean,
    /**
     * `rm`: remove intermediate containers after a successful build; the daemon's default is true.
     */
    rm?: boolean,
    /**
     * `forcerm`: always remove intermediate containers, even after a failure.
     */
    forcerm?: boolean,
    /**
     * `memory`: memory limit in bytes for the build's containers.
     */
    memory?: bigint,
    /**
     * `memswap`: memory plus swap limit in bytes; `-1` for unlimited swap.
     */
    memswap?: bigint,
    /**
     * `cpushares`: CPU shares (relative weight).
     */
    cpushares?: bigint,
    /**
     * `cpusetcpus`: CPUs to run on, e.g. `0-3` or `0,1`.
     */
    cpusetcpus?: string,
    /**
     * `cpuperiod`: the length of a CPU period in microseconds.
     */
    cpuperiod?: bigint,
    /**
     * `cpuquota`: microseconds of CPU time per CPU period.
     */
    cpuquota?: bigint,
    /**
     * `buildargs`: build-time variables, name and value (sent as a JSON map).
     */
    buildargs?: Array<[string, string]>,
    /**
     * `shmsize`: the size of `/dev/shm` in bytes (more than 0); the daemon's default is 64 MB.
     */
    shmsize?: bigint,
    /**
     * `squash`: squash the new layers into one (experimental daemons only).
     */
    squash?: boolean,
    /**
     * `labels`: labels to set on the image, name and value (sent as a JSON map).
     */
    labels?: Array<[string, string]>,
    /**
     * `networkmode`: the network mode of the build's containers: `bridge`, `host`, `none`,
     * `container:<name|id>` or a network's name or ID.
     */
    networkmode?: string,
    /**
     * `platform`: the platform to build for, `os[/arch[/variant]]`.
     */
    platform?: string,
    /**
     * `target`: the build stage to build.
     */
    target?: string,
    /**
     * `outputs`: BuildKit output configuration, a JSON array of objects with `Type` and `Attrs`.
     */
    outputs?: Json,
    /**
     * `version`: the builder: `1` for the classic builder (the daemon's default), `2` for BuildKit.
     */
    version?: string,
  }
  /**
   * Query parameters of `pull` (ImageCreate), besides `fromImage`.
   */
  export interface PullOptions {
    /**
     * `tag`: the tag or digest to pull; if absent and `from-image` has none, every tag is pulled.
     */
    tag?: string,
    /**
     * `platform`: the platform to pull, `os[/arch[/variant]]`.
     */
    platform?: string,
  }
  /**
   * Query parameters of `import` (ImageCreate with `fromSrc=-`).
   */
  export interface ImportOptions {
    /**
     * `repo`: the repository name (optionally with a tag) of the imported image.
     */
    repo?: string,
    /**
     * `tag`: the tag of the imported image.
     */
    tag?: string,
    /**
     * `message`: the commit message of the imported image.
     */
    message?: string,
    /**
     * `changes`: Dockerfile instructions to apply, e.g. `ENV DEBUG=true`; one `changes` parameter each.
     */
    changes?: Array<string>,
    /**
     * `platform`: the platform of the imported image, `os[/arch[/variant]]`.
     */
    platform?: string,
  }
  /**
   * Query parameters of `push` (ImagePush).
   */
  export interface PushOptions {
    /**
     * `tag`: the tag to push; if absent, every local tag of the image is pushed.
     */
    tag?: string,
  }
  /**
   * Query parameters of `load` (ImageLoad).
   */
  export interface LoadOptions {
    /**
     * `quiet`: suppress progress details.
     */
    quiet?: boolean,
  }
}
