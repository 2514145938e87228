// tug-bench's JavaScript plugin (P7): dockerode-style calls through tug's SDK, timed from the request to
// the last byte with performance.now(); one JSON document on the last line of stdout.
//
//   dockerode_bench.js version N
//   dockerode_bench.js logs ID      dockerode's stream of `logs({follow: true})`: multiplexed chunks
//   dockerode_bench.js frames ID    the same logs, demultiplexed frames (`for await … of stream`)
//   dockerode_bench.js idle         one GET /version, print `ready`, then wait on a timer (density)
//   dockerode_bench.js about
import Docker from 'dockerode';

const docker = new Docker();
const [mode, arg] = process.argv.slice(2);
const ns = (t) => Math.round((performance.now() - t) * 1e6);

async function logs(id, demux) {
  const t = performance.now();
  const stream = await docker.getContainer(id).logs({ follow: true, stdout: true, stderr: false });
  let bytes = 0;
  let frames = 0;
  for await (const chunk of demux ? stream : stream.raw()) {
    bytes += chunk.length;
    frames += 1;
  }
  return { bytes, frames, ns: ns(t) };
}

let out;
switch (mode) {
  case 'version': {
    const all = [];
    for (let i = 0; i < Number(arg); i++) {
      const t = performance.now();
      const v = await docker.version();
      all.push(ns(t));
      if (!v.Version) throw new Error('no Version in /version');
    }
    out = { ns: all };
    break;
  }
  case 'logs':
  case 'frames':
    out = await logs(arg, mode === 'frames');
    break;
  case 'idle':
    await docker.version();
    console.log('ready');
    await new Promise((resolve) => setTimeout(resolve, 3600 * 1000));
    process.exit(0);
    break;
  case 'about': {
    const v = await docker.version();
    out = { sdk: `tug's dockerode-shaped SDK on componentize-js; engine API ${v.ApiVersion}` };
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
console.log(JSON.stringify(out));
