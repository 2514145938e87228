/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/distribution@0.1.0' {
  /**
   * Returns image `name`'s manifest descriptor and platforms, as its registry reports them, as the
   * daemon's JSON (`Descriptor`, `Platforms`) (DistributionInspect, GET /distribution/{name}/json).
   * `auth` is the `X-Registry-Auth` header.
   */
  export function inspect(e: Engine, name: string, auth: AuthConfig | undefined): Json;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type AuthConfig = import('tug:engine/types@0.1.0').AuthConfig;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
}
