/// <reference path="./tug-engine-engines.d.ts" />
/// <reference path="./tug-engine-types.d.ts" />
declare module 'tug:engine/system-streams@0.1.0' {
  /**
   * Streams the engine's events, one JSON document each (SystemEvents, GET /events); without `until`
   * the stream stays open.
   */
  export function events(e: Engine, options: EventsOptions): JsonStream;
  export type Error = import('tug:engine/types@0.1.0').Error;
  export type JsonStream = import('tug:engine/types@0.1.0').JsonStream;
  export type Filters = import('tug:engine/types@0.1.0').Filters;
  export type Engine = import('tug:engine/engines@0.1.0').Engine;
  /**
   * Query parameters of `events` (SystemEvents).
   */
  export interface EventsOptions {
    /**
     * `since`: also return the events since this time, as a UNIX timestamp (`1700000000`, fractions
     * allowed) or an RFC 3339 date, before streaming new ones.
     */
    since?: string,
    /**
     * `until`: stop streaming at this time, in the same forms as `since`.
     */
    until?: string,
    /**
     * `filters`: e.g. `type`, `event`, `container`, `image`, `label`; only matching events are returned.
     */
    filters?: Filters,
  }
}
