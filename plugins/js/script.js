// The runtime contract of a JavaScript plugin: arguments, exit codes, uncaught errors, top-level await.
// `tug run script.wasm -- <mode> [N]`; prints `argv [...]` first. `handles N`: streams opened and released
// N times over. `engine NAME`: the engine the run was given as NAME (`Docker.open`; `default` is the run's
// default engine).
import Docker from 'dockerode';

console.log(`argv ${JSON.stringify(process.argv.slice(2))}`);

const [mode, n] = process.argv.slice(2);
switch (mode) {
  case 'exit':
    process.exit(Number(n));
    console.log('not reached');
    break;
  case 'code':
    process.exitCode = Number(n);
    console.log('done');
    break;
  case 'throw':
    throw new Error('thrown on purpose');
  case 'reject':
    await Promise.reject(new TypeError('rejected on purpose'));
    break;
  case 'await':
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log('awaited');
    break;
  case 'handles': {
    // N rounds of streams ended early or read to the end: a followed log broken off after one frame, an
    // unfollowed log, an archive destroyed half read. Each holds handles (reader, pollable, stream); one
    // left open per round would pass the sandbox's limit of 1000 open handles long before the end.
    const docker = new Docker();
    const c = await docker.createContainer({ Image: 'tug-test/busybox:latest', Cmd: ['sh', '-c', 'echo one; echo two >&2'] });
    await c.start();
    await c.wait();
    let frames = 0;
    for (let i = 0; i < Number(n); i++) {
      for await (const f of await c.logs({ follow: true, stdout: true, stderr: true })) {
        frames += f.length > 0 ? 1 : 0;
        break;
      }
      await c.logs({ stdout: true, stderr: true });
      const archive = await c.getArchive({ path: '/etc/passwd' });
      for await (const chunk of archive) {
        if (chunk.length > 0) break;
      }
    }
    await c.remove();
    console.log(`handles ${n} rounds ${frames} frames`);
    break;
  }
  case 'engine': {
    const info = await Docker.open(n).info();
    console.log(`engine ${n}: ${info.DockerRootDir}`);
    console.log(`engines: ${Docker.engineNames().join(', ')}`);
    break;
  }
  default:
    console.log('done');
}
