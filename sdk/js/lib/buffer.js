// A small Node-style Buffer: a Uint8Array subclass with the conversions dockerode scripts use on logs and
// archives (utf8, base64, hex, latin1). Not Node's full API.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;
B64_INDEX['-'.charCodeAt(0)] = 62;
B64_INDEX['_'.charCodeAt(0)] = 63;

function normEnc(enc) {
  const e = (enc || 'utf8').toLowerCase();
  switch (e) {
    case 'utf8': case 'utf-8': return 'utf8';
    case 'base64': return 'base64';
    case 'base64url': return 'base64url';
    case 'hex': return 'hex';
    case 'latin1': case 'binary': return 'latin1';
    case 'ascii': return 'ascii';
    default: throw new TypeError(`Unknown encoding: ${enc}`);
  }
}

function encodeString(str, enc) {
  switch (normEnc(enc)) {
    case 'utf8': return encoder.encode(str);
    case 'hex': {
      const n = str.length >>> 1, out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const b = parseInt(str.substr(i * 2, 2), 16);
        if (Number.isNaN(b)) return out.subarray(0, i);
        out[i] = b;
      }
      return out;
    }
    case 'base64': case 'base64url': {
      const out = new Uint8Array(Math.ceil(str.length * 3 / 4));
      let acc = 0, bits = 0, n = 0;
      for (let i = 0; i < str.length; i++) {
        const c = str.charCodeAt(i);
        const v = c < 128 ? B64_INDEX[c] : -1;
        if (v < 0) continue; // padding, whitespace
        acc = (acc << 6) | v; bits += 6;
        if (bits >= 8) { bits -= 8; out[n++] = (acc >> bits) & 0xff; }
      }
      return out.subarray(0, n);
    }
    case 'latin1': case 'ascii': {
      const out = new Uint8Array(str.length);
      for (let i = 0; i < str.length; i++) out[i] = str.charCodeAt(i) & 0xff;
      return out;
    }
  }
}

function decodeBytes(u8, enc) {
  switch (normEnc(enc)) {
    case 'utf8': return decoder.decode(u8);
    case 'hex': {
      let s = '';
      for (let i = 0; i < u8.length; i++) s += (u8[i] < 16 ? '0' : '') + u8[i].toString(16);
      return s;
    }
    case 'base64': case 'base64url': {
      const url = normEnc(enc) === 'base64url';
      const T = url ? B64.slice(0, 62) + '-_' : B64;
      let s = '', i = 0;
      for (; i + 2 < u8.length; i += 3) {
        const v = (u8[i] << 16) | (u8[i + 1] << 8) | u8[i + 2];
        s += T[v >> 18] + T[(v >> 12) & 63] + T[(v >> 6) & 63] + T[v & 63];
      }
      if (i < u8.length) {
        const v = (u8[i] << 16) | ((i + 1 < u8.length ? u8[i + 1] : 0) << 8);
        s += T[v >> 18] + T[(v >> 12) & 63];
        s += i + 1 < u8.length ? T[(v >> 6) & 63] : (url ? '' : '=');
        s += url ? '' : '=';
      }
      return s;
    }
    case 'latin1': case 'ascii': {
      let s = '';
      for (let i = 0; i < u8.length; i += 8192) s += String.fromCharCode.apply(null, u8.subarray(i, i + 8192));
      return s;
    }
  }
}

export class Buffer extends Uint8Array {
  /** Buffer.from(string, encoding) | Buffer.from(array | Uint8Array | ArrayBuffer[, offset, length]). */
  static from(value, encOrOffset, length) {
    if (typeof value === 'string') return Buffer._wrap(encodeString(value, encOrOffset));
    if (value instanceof ArrayBuffer) {
      return new Buffer(value, encOrOffset || 0, length ?? value.byteLength - (encOrOffset || 0));
    }
    if (ArrayBuffer.isView(value)) {
      const b = new Buffer(value.byteLength);
      b.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      return b;
    }
    if (value && typeof value === 'object' && value.type === 'Buffer' && Array.isArray(value.data)) {
      return Buffer.from(value.data);
    }
    if (Array.isArray(value) || (value && typeof value.length === 'number')) {
      const b = new Buffer(value.length);
      for (let i = 0; i < value.length; i++) b[i] = value[i];
      return b;
    }
    throw new TypeError('Buffer.from: unsupported argument');
  }
  /** A Buffer sharing the memory of a Uint8Array (no copy). */
  static _wrap(u8) {
    return u8 instanceof Buffer ? u8 : new Buffer(u8.buffer, u8.byteOffset, u8.byteLength);
  }
  static alloc(size, fill, enc) {
    const b = new Buffer(size);
    if (fill !== undefined && fill !== 0) b.fill(fill, 0, size, enc);
    return b;
  }
  static allocUnsafe(size) { return new Buffer(size); }
  static isBuffer(x) { return x instanceof Buffer; }
  static isEncoding(enc) { try { normEnc(enc); return true; } catch { return false; } }
  static byteLength(value, enc) {
    if (typeof value === 'string') return encodeString(value, enc).length;
    return value.byteLength;
  }
  static concat(list, totalLength) {
    const total = totalLength ?? list.reduce((n, b) => n + b.length, 0);
    const out = new Buffer(total);
    let off = 0;
    for (const b of list) {
      if (off >= total) break;
      const part = b.length > total - off ? b.subarray(0, total - off) : b;
      out.set(part, off);
      off += part.length;
    }
    return out;
  }
  static compare(a, b) { return Buffer._wrap(a).compare(b); }

  toString(enc, start, end) {
    const view = start !== undefined || end !== undefined ? this.subarray(start || 0, end ?? this.length) : this;
    return decodeBytes(view, enc);
  }
  toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
  equals(other) { return this.compare(other) === 0; }
  compare(other) {
    const n = Math.min(this.length, other.length);
    for (let i = 0; i < n; i++) if (this[i] !== other[i]) return this[i] < other[i] ? -1 : 1;
    return this.length === other.length ? 0 : (this.length < other.length ? -1 : 1);
  }
  /** As Node: a view, not a copy. */
  slice(start, end) { return this.subarray(start, end); }
  fill(value, start = 0, end = this.length, enc) {
    if (typeof value === 'string') {
      const bytes = encodeString(value, enc);
      if (bytes.length === 0) return super.fill(0, start, end);
      for (let i = start, j = 0; i < end; i++, j = (j + 1) % bytes.length) this[i] = bytes[j];
      return this;
    }
    return super.fill(value, start, end);
  }
  write(string, offset = 0, length, enc) {
    if (typeof offset === 'string') { enc = offset; offset = 0; }
    if (typeof length === 'string') { enc = length; length = undefined; }
    const bytes = encodeString(string, enc);
    const n = Math.min(bytes.length, length ?? this.length - offset, this.length - offset);
    this.set(bytes.subarray(0, n), offset);
    return n;
  }
  copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
    const part = this.subarray(sourceStart, Math.min(sourceEnd, sourceStart + target.length - targetStart));
    target.set(part, targetStart);
    return part.length;
  }
  indexOf(value, byteOffset = 0, enc) {
    if (typeof value === 'number') return super.indexOf(value, byteOffset);
    const needle = typeof value === 'string' ? encodeString(value, enc) : value;
    if (needle.length === 0) return byteOffset;
    outer: for (let i = byteOffset; i <= this.length - needle.length; i++) {
      for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
      return i;
    }
    return -1;
  }
  includes(value, byteOffset, enc) { return this.indexOf(value, byteOffset, enc) !== -1; }
  readUInt8(o = 0) { return this[o]; }
  readUInt16BE(o = 0) { return (this[o] << 8) | this[o + 1]; }
  readUInt16LE(o = 0) { return this[o] | (this[o + 1] << 8); }
  readUInt32BE(o = 0) { return ((this[o] << 24) >>> 0) + ((this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]); }
  readUInt32LE(o = 0) { return ((this[o + 3] << 24) >>> 0) + ((this[o + 2] << 16) | (this[o + 1] << 8) | this[o]); }
  readInt32BE(o = 0) { return (this[o] << 24) | (this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]; }
  writeUInt8(v, o = 0) { this[o] = v; return o + 1; }
  writeUInt16BE(v, o = 0) { this[o] = v >>> 8; this[o + 1] = v; return o + 2; }
  writeUInt32BE(v, o = 0) {
    this[o] = v >>> 24; this[o + 1] = v >>> 16; this[o + 2] = v >>> 8; this[o + 3] = v; return o + 4;
  }
  writeUInt32LE(v, o = 0) {
    this[o + 3] = v >>> 24; this[o + 2] = v >>> 16; this[o + 1] = v >>> 8; this[o] = v; return o + 4;
  }
}
// Uint8Array.readUInt32BE/readUInt8 are the usual names; keep the lower-case aliases Node has.
Buffer.prototype.readUint8 = Buffer.prototype.readUInt8;
Buffer.prototype.readUint32BE = Buffer.prototype.readUInt32BE;
Buffer.prototype.readUint16BE = Buffer.prototype.readUInt16BE;

/** Bytes of a string (UTF-8), a Buffer/Uint8Array/ArrayBuffer view, or an array of numbers. */
export function toBytes(chunk, enc) {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return encodeString(chunk, enc);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (Array.isArray(chunk)) return Uint8Array.from(chunk);
  throw new TypeError(`expected a string, Buffer or Uint8Array, got ${typeof chunk}`);
}
