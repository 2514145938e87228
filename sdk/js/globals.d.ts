// The Node-style globals tug-sdk provides inside a plugin (lib/globals.js, injected by `tug build`):
// `process`, `Buffer` and timers. Only what is listed here exists; there is no `require` or `node:*`.

/** A Uint8Array with Node's conversions (utf8, base64, hex, latin1). */
export interface Buffer extends Uint8Array<ArrayBuffer> {
  toString(encoding?: BufferEncoding, start?: number, end?: number): string;
  toJSON(): { type: 'Buffer'; data: number[] };
  equals(other: Uint8Array): boolean;
  compare(other: Uint8Array): number;
  slice(start?: number, end?: number): Buffer;
  subarray(start?: number, end?: number): Buffer;
  write(string: string, offset?: number, length?: number, encoding?: BufferEncoding): number;
  copy(target: Uint8Array, targetStart?: number, sourceStart?: number, sourceEnd?: number): number;
  indexOf(value: number | string | Uint8Array, byteOffset?: number, encoding?: BufferEncoding): number;
  includes(value: number | string | Uint8Array, byteOffset?: number, encoding?: BufferEncoding): boolean;
  readUInt8(offset?: number): number;
  readUInt16BE(offset?: number): number;
  readUInt16LE(offset?: number): number;
  readUInt32BE(offset?: number): number;
  readUInt32LE(offset?: number): number;
  readInt32BE(offset?: number): number;
  writeUInt8(value: number, offset?: number): number;
  writeUInt16BE(value: number, offset?: number): number;
  writeUInt32BE(value: number, offset?: number): number;
  writeUInt32LE(value: number, offset?: number): number;
}
export interface BufferConstructor {
  new (size: number): Buffer;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): Buffer;
  readonly prototype: Buffer;
  from(value: string, encoding?: BufferEncoding): Buffer;
  from(value: ArrayBuffer, byteOffset?: number, length?: number): Buffer;
  from(value: ArrayLike<number> | Uint8Array | { type: 'Buffer'; data: number[] }): Buffer;
  alloc(size: number, fill?: number | string, encoding?: BufferEncoding): Buffer;
  allocUnsafe(size: number): Buffer;
  isBuffer(x: unknown): x is Buffer;
  isEncoding(encoding: string): boolean;
  byteLength(value: string | Uint8Array, encoding?: BufferEncoding): number;
  concat(list: readonly Uint8Array[], totalLength?: number): Buffer;
  compare(a: Uint8Array, b: Uint8Array): number;
}
export declare const Buffer: BufferConstructor;

export type BufferEncoding = 'utf8' | 'utf-8' | 'base64' | 'base64url' | 'hex' | 'latin1' | 'binary' | 'ascii';

export interface WritableOut {
  readonly fd: number;
  readonly isTTY: false;
  /** A plugin's output is not a terminal: undefined. */
  readonly rows?: number;
  /** A plugin's output is not a terminal: undefined. */
  readonly columns?: number;
  write(chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean;
}

export interface TugProcess {
  /** `['tug', <plugin name>, ...the arguments after \`--\`]`. */
  argv: string[];
  /** What `tug run --env` passes. */
  env: { [name: string]: string | undefined };
  /** Exit code when the script ends normally. */
  exitCode: number | undefined;
  /** Ends the plugin at once (output is flushed). */
  exit(code?: number): never;
  readonly platform: 'wasi';
  readonly arch: string;
  readonly version: string;
  readonly versions: { [k: string]: string };
  stdout: WritableOut;
  stderr: WritableOut;
  cwd(): string;
  uptime(): number;
  hrtime: { (prev?: [number, number]): [number, number]; bigint(): bigint };
  nextTick(fn: (...args: any[]) => void, ...args: any[]): void;
  on(event: string, fn: (...args: any[]) => void): TugProcess;
}

declare global {
  var process: TugProcess;
  var Buffer: import('./globals').BufferConstructor;
  type Buffer = import('./globals').Buffer;
}
