/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/exec-streams@0.1.0' {
  /**
   * Starts exec instance `id` attached to its standard streams over a hijacked connection (ExecStart,
   * POST /exec/{id}/start with `Detach: false`).
   */
  export function start(e: Engine, id: string, options: StartOptions): AttachedSocket;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type AttachedSocket = import('tug:engine/types@0.1.0').AttachedSocket;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * How `start` starts an exec instance.
   */
  export interface StartOptions {
    /**
     * `Tty` of the start body: whether the process has a TTY, so its output is raw bytes instead of
     * multiplexed frames. Should match the `Tty` the exec instance was created with; defaults to false.
     */
    tty?: boolean,
    /**
     * Whether the plugin will write to the process's standard input (the exec instance must have been
     * created with `AttachStdin`); when false, stdin is closed at once. Defaults to false.
     */
    stdin?: boolean,
  }
}
