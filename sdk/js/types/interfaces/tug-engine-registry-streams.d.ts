/// <reference path="./tug-engine-registry.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
/// <reference path="./wasi-io-streams.d.ts" />
declare module 'tug:engine/registry-streams@0.1.0' {
  /**
   * Starts a layer upload into `image`, with `comment` in its history.
   */
  export function addLayerTar(image: Image, comment: string): LayerUpload;
  /**
   * Writes `image` out as a tar to read: layers still in their registry are fetched as the stream is
   * read, each verified against its digest and size (a mismatch breaks the stream with an error naming
   * the blob). The image is busy until the stream is read to the end or dropped.
   */
  export function save(image: Image, format: ArchiveFormat): InputStream;
  export type InputStream = import('wasi:io/streams@0.2.12').InputStream;
  export type OutputStream = import('wasi:io/streams@0.2.12').OutputStream;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Image = import('tug:engine/registry@0.1.0').Image;
  export type LayerInfo = import('tug:engine/registry@0.1.0').LayerInfo;
  /**
   * The format `save` writes.
   * # Variants
   * 
   * ## `"docker"`
   * 
   * What `docker save` writes and `docker load` reads (`manifest.json`, uncompressed `layer.tar`s).
   * ## `"oci"`
   * 
   * An OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) as a tar.
   */
  export type ArchiveFormat = 'docker' | 'oci';
  
  export class LayerUpload implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * The tar. Bytes are compressed and hashed as they arrive. Can be taken once.
    */
    body(): OutputStream;
    /**
    * Ends the tar and adds the layer to the image; dropping the upload instead adds nothing.
    */
    static finish(this_: LayerUpload): LayerInfo;
    [Symbol.dispose](): void;
  }
}
