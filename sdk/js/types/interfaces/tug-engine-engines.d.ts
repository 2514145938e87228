/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/engines@0.1.0' {
  /**
   * The engine `tug run` was given.
   */
  export { _default as default };
  function _default(): Engine;
  /**
   * An engine by the name the host configured for it.
   */
  export function open(name: string): Engine;
  /**
   * The names of the engines this run was given, `default` first, then by name: each opens with
   * `open`. Names only: where an engine is and how tug reaches it stay with the host.
   */
  export function names(): Array<string>;
  export type Error = import('tug:engine/types@0.1.0').Error;
  
  export class Engine implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * The engine's name as tug knows it (`default` for the engine `tug run` was given).
    */
    name(): string;
    /**
    * The Engine API version tug speaks to it, e.g. `1.41`.
    */
    apiVersion(): string;
    [Symbol.dispose](): void;
  }
}
