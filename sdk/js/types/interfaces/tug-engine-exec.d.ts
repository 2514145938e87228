/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/exec@0.1.0' {
  /**
   * Creates an exec instance in container `id` from `config`, the JSON exec configuration (`Cmd`,
   * `AttachStdout`, `Tty`, `User`…) (ContainerExec, POST /containers/{id}/exec), and returns the
   * daemon's answer (`Id`).
   */
  export function create(e: Engine, id: string, config: Json): Json;
  /**
   * Returns the low-level information about exec instance `id` as the daemon's JSON (ExecInspect,
   * GET /exec/{id}/json).
   */
  export function inspect(e: Engine, id: string): Json;
  /**
   * Resizes exec instance `id`'s TTY to `height` rows and `width` columns (the query parameters `h` and
   * `w`) (ExecResize, POST /exec/{id}/resize).
   */
  export function resize(e: Engine, id: string, height: number, width: number): void;
  /**
   * Starts exec instance `id` without attaching to it and returns once it has started (ExecStart,
   * POST /exec/{id}/start with `Detach: true`).
   */
  export function startDetached(e: Engine, id: string): void;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type Json = import('tug:engine/types@0.1.0').Json;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
}
