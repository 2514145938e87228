// A minimal tar (ustar) writer and reader, for putArchive, getArchive and build contexts made in memory.

import { Buffer, toBytes } from './buffer.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function octal(n, width) {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function putString(h, off, width, s) {
  const b = encoder.encode(s);
  if (b.length > width) throw new Error(`tar: "${s}" is longer than ${width} bytes`);
  h.set(b, off);
}

function header(name, size, { mode, mtime, type, linkname = '', uid = 0, gid = 0, uname = '', gname = '' }) {
  const h = new Uint8Array(512);
  let prefix = '';
  if (encoder.encode(name).length > 100) {
    const i = name.lastIndexOf('/', 155);
    if (i <= 0 || encoder.encode(name.slice(i + 1)).length > 100) throw new Error(`tar: name too long: ${name}`);
    prefix = name.slice(0, i); name = name.slice(i + 1);
  }
  putString(h, 0, 100, name);
  putString(h, 100, 8, octal(mode, 8));
  putString(h, 108, 8, octal(uid, 8));
  putString(h, 116, 8, octal(gid, 8));
  putString(h, 124, 12, octal(size, 12));
  putString(h, 136, 12, octal(mtime, 12));
  h.fill(32, 148, 156); // checksum counted as spaces
  h[156] = type.charCodeAt(0);
  putString(h, 157, 100, linkname);
  putString(h, 257, 6, 'ustar\0');
  putString(h, 263, 2, '00');
  putString(h, 265, 32, uname);
  putString(h, 297, 32, gname);
  putString(h, 345, 155, prefix);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i];
  putString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/**
 * Packs entries into a tar archive (a Buffer). An entry: `{name, content}` for a file (`content` a string
 * or bytes; `data` is accepted too), `{name, type: 'directory'}`, or `{name, type: 'symlink', linkname}`;
 * optional `mode` (default 0o644, 0o755 for directories), `mtime` (seconds or a Date; default now),
 * `uid`, `gid`. An object `{path: content}` is accepted too.
 */
export function pack(entries) {
  if (!Array.isArray(entries)) entries = Object.entries(entries).map(([name, content]) => ({ name, content }));
  const parts = [];
  const now = Math.floor(Date.now() / 1000);
  for (const e of entries) {
    const type = e.type ?? 'file';
    const mtime = e.mtime instanceof Date ? Math.floor(e.mtime.getTime() / 1000) : (e.mtime ?? now);
    if (type === 'directory') {
      const name = e.name.endsWith('/') ? e.name : `${e.name}/`;
      parts.push(header(name, 0, { mode: e.mode ?? 0o755, mtime, type: '5', uid: e.uid, gid: e.gid }));
    } else if (type === 'symlink') {
      parts.push(header(e.name, 0, { mode: e.mode ?? 0o777, mtime, type: '2', linkname: e.linkname, uid: e.uid, gid: e.gid }));
    } else {
      const body = toBytes(e.content ?? e.data ?? '');
      parts.push(header(e.name, body.length, { mode: e.mode ?? 0o644, mtime, type: '0', uid: e.uid, gid: e.gid }));
      parts.push(body);
      const pad = (512 - (body.length % 512)) % 512;
      if (pad) parts.push(new Uint8Array(pad));
    }
  }
  parts.push(new Uint8Array(1024));
  return Buffer.concat(parts);
}

function readString(h, off, width) {
  let end = off;
  while (end < off + width && h[end] !== 0) end++;
  return decoder.decode(h.subarray(off, end));
}

function readOctal(h, off, width) {
  const s = readString(h, off, width).trim();
  return s ? parseInt(s, 8) : 0;
}

const TYPES = { '0': 'file', '\0': 'file', '1': 'link', '2': 'symlink', '5': 'directory' };

/**
 * Reads a tar archive: `bytes` (a Buffer) or an async iterable of Buffers (e.g. `getArchive`'s stream).
 * Returns `[{name, type, mode, size, mtime, linkname, content: Buffer}]` (pax and GNU long-name records
 * are applied to the entry they describe).
 */
export async function extract(source) {
  let buf;
  if (source instanceof Uint8Array) buf = source;
  else {
    const parts = [];
    for await (const c of source) parts.push(toBytes(c));
    buf = Buffer.concat(parts);
  }
  const out = [];
  let off = 0, longName = null;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    let name = readString(h, 0, 100);
    const prefix = readString(h, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
    const size = readOctal(h, 124, 12);
    const flag = String.fromCharCode(h[156]);
    const content = Buffer._wrap(buf.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
    if (flag === 'L') { longName = decoder.decode(content).replace(/\0+$/, ''); continue; }
    if (flag === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(decoder.decode(content));
      if (m) longName = m[1];
      continue;
    }
    if (flag === 'g') continue;
    if (longName !== null) { name = longName; longName = null; }
    out.push({
      name, type: TYPES[flag] ?? flag, mode: readOctal(h, 100, 8), size,
      mtime: readOctal(h, 136, 12), linkname: readString(h, 157, 100), content,
    });
  }
  return out;
}

export const tar = { pack, extract };
