// Benchmark of the JS SDK's log reading: reads the logs of container argv[2] as fast as it can and prints
// `bytes <payload bytes>`, then `frames <n> seconds <s>`.
//   mode (argv[3]): `follow` (default: a followed FrameStream iterated as demultiplexed frames),
//   `raw` (followed, the wire-format chunks, payload counted from their headers without splitting them),
//   `buffer` (not followed: the whole log as one multiplexed Buffer, as dockerode resolves it).
import Docker from 'dockerode';

const [id, mode = 'follow'] = process.argv.slice(2);
if (!id) {
  console.error('usage: bench_logs <container> [follow|raw|buffer]');
  process.exit(2);
}
const container = new Docker().getContainer(id);
const t0 = performance.now();
let bytes = 0;
let frames = 0;

/** Payload bytes of multiplexed wire-format data (headers skipped), carrying a partial frame over. */
function counter() {
  let need = 0; // payload bytes of the current frame still to come
  let head = 0; // header bytes still to skip
  let hdr = new Uint8Array(8);
  return (c) => {
    let i = 0;
    while (i < c.length) {
      if (need > 0) {
        const n = Math.min(need, c.length - i);
        bytes += n; need -= n; i += n;
        continue;
      }
      hdr[head++] = c[i++];
      if (head === 8) {
        need = ((hdr[4] << 24) >>> 0) + ((hdr[5] << 16) | (hdr[6] << 8) | hdr[7]);
        head = 0;
        frames++;
      }
    }
  };
}

if (mode === 'buffer') {
  const buf = await container.logs({ stdout: true, stderr: true });
  counter()(buf);
} else {
  const stream = await container.logs({ follow: true, stdout: true, stderr: true });
  if (mode === 'raw') {
    if (stream.tty) for await (const c of stream.raw()) { bytes += c.length; frames++; }
    else { const count = counter(); for await (const c of stream.raw()) count(c); }
  } else {
    for await (const f of stream) { bytes += f.length; frames++; }
  }
}
console.log(`bytes ${bytes}`);
console.log(`frames ${frames} seconds ${((performance.now() - t0) / 1000).toFixed(3)}`);
