// The TypeScript side of the JS SDK tour, typed with tug-sdk's declarations: system calls, events, a
// container's lifecycle (top, stats, pause, rename, restart, kill, wait), logs without follow demultiplexed,
// exec output, export, image inspect/history/save, callback style, typed errors, and handles released with
// `await using`. Each step prints `ok <step>`; any failure prints `FAIL <step>: …` and exits 1.
//
//   tug build plugins/js/tour.ts && tug run tour.wasm -- <unique-suffix>

import Docker, {
  Container, DeniedError, DockerError, NotFoundError, NotModifiedError, demux, tar,
  type EngineObject, type Frame,
} from 'tug-sdk';

const IMAGE = 'tug-test/busybox:latest';
const suffix: string = (process.argv[2] ?? `${Date.now().toString(36)}`).toLowerCase().replace(/[^a-z0-9-]/g, '-');
const docker = new Docker();
const created: Container[] = [];
let failed = false;

function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`check failed: ${what}`);
}

async function step(name: string, fn: () => Promise<string | void>): Promise<void> {
  try {
    const note = await fn();
    console.log(`ok ${name}${note ? ` ${note}` : ''}`);
  } catch (e) {
    failed = true;
    const err = e as Error;
    console.log(`FAIL ${name}: ${err.name}: ${err.message}`);
  }
}

async function container(cmd: string[], extra: EngineObject = {}): Promise<Container> {
  const c = await docker.createContainer({ Image: IMAGE, Cmd: cmd, name: `tug-js-ts-${suffix}-${created.length}`, ...extra });
  created.push(c);
  return c;
}

await step('system', async () => {
  const [info, version, engine] = await Promise.all([docker.info(), docker.version(), docker.engineInfo()]);
  check(typeof info.NCPU === 'number', 'info has NCPU');
  check(version.ApiVersion === engine.apiVersion || typeof version.ApiVersion === 'string', 'version');
  const df = await docker.df();
  check(Array.isArray(df.Images), 'df lists images');
  return `engine ${engine.name} api ${engine.apiVersion}`;
});

await step('lifecycle', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const c = await container(['sh', '-c', 'trap "exit 0" TERM; echo started; while true; do sleep 0.1; done']);
  await c.start();
  try {
    await c.start();
    throw new Error('a second start did not answer 304');
  } catch (e) {
    check(e instanceof NotModifiedError && e.statusCode === 304, `second start: ${(e as Error).message}`);
  }
  const top = await c.top({ ps_args: 'aux' });
  check(top.Titles.length > 0 && top.Processes.length > 0, 'top lists processes');
  const stats = await c.stats({ stream: false });
  check(typeof stats.memory_stats === 'object', 'one stats sample');
  await c.pause();
  check((await c.inspect()).State.Paused === true, 'paused');
  await c.unpause();
  await c.rename({ name: `tug-js-ts-${suffix}-renamed` });
  check((await c.inspect()).Name === `/tug-js-ts-${suffix}-renamed`, 'renamed');
  await c.restart({ t: 1 });
  await c.stop({ t: 5 });
  const { StatusCode } = await c.wait();
  check(StatusCode === 0, `stopped with 0, got ${StatusCode}`);
  const list = await docker.listContainers({ all: true, filters: { name: [`tug-js-ts-${suffix}-renamed`], status: ['exited'] } });
  check(list.length === 1 && list[0].Id === c.id, 'listContainers with filters finds it');
  // Its events, bounded by `until`.
  const events = await docker.getEvents({ since, until: Math.floor(Date.now() / 1000) + 1, filters: { container: [c.id] } });
  const actions: string[] = [];
  for await (const ev of events) actions.push(ev.Action);
  check(['start', 'pause', 'unpause', 'rename', 'restart', 'die'].every((a) => actions.includes(a)), `events ${actions.join(',')}`);
  await c.remove();
  created.splice(created.indexOf(c), 1);
  return `${actions.length} events`;
});

await step('logs', async () => {
  const c = await container(['sh', '-c', 'echo to-out; echo to-err >&2']);
  await c.start();
  await c.wait();
  const buf = await c.logs({ stdout: true, stderr: true });
  const { stdout, stderr } = demux(buf);
  check(stdout.toString() === 'to-out\n' && stderr.toString() === 'to-err\n', 'demux of the logs Buffer');
  // Followed logs of an exited container end by themselves; the stream is released by `await using`.
  await using stream = await c.logs({ follow: true, stdout: true, stderr: true, timestamps: true });
  const frames: Frame[] = [];
  for await (const f of stream) frames.push(f);
  check(frames.length === 2 && frames.every((f) => /^\d{4}-\d\d-\d\dT/.test(f.toString())), 'timestamped frames');
  return `${frames.length} frames`;
});

await step('exec', async () => {
  const c = await container(['sleep', '60']);
  await c.start();
  const exec = await c.exec({ Cmd: ['sh', '-c', 'echo $((6*7)); ls /nope'], AttachStdout: true, AttachStderr: true });
  const out = await (await exec.start({})).demux();
  check(out.stdout.toString() === '42\n', `exec stdout ${JSON.stringify(out.stdout.toString())}`);
  check(out.stderr.toString().includes('nope'), 'exec stderr');
  const info = await exec.inspect();
  check(info.ExitCode !== 0 && !info.Running, `exit code ${info.ExitCode}`);
  // A TTY exec: raw output.
  const tty = await c.exec({ Cmd: ['echo', 'tty'], AttachStdout: true, Tty: true });
  const s = await tty.start({ Tty: true });
  check(s.tty && (await s.text()) === 'tty\r\n', 'tty exec output');
  return `exit ${info.ExitCode}`;
});

await step('export', async () => {
  const c = created[created.length - 1];
  const stream = await c.export();
  const entries = await tar.extract(stream);
  check(entries.some((e) => e.name === 'bin/busybox'), 'the export has bin/busybox');
  return `${entries.length} entries`;
});

await step('images', async () => {
  const img = docker.getImage(IMAGE);
  const info = await img.inspect();
  check(info.RepoTags.includes(IMAGE), 'inspect');
  const history = await img.history();
  check(history.length > 0, 'history');
  const listed = await docker.listImages({ filters: { reference: [IMAGE] } });
  check(listed.some((i) => i.Id === info.Id), 'listImages with a reference filter');
  const saved = await tar.extract(await img.get());
  check(saved.some((e) => e.name === 'manifest.json'), 'image save is a docker archive');
  return `${history.length} layers`;
});

await step('callbacks', async () => {
  const list = await new Promise<EngineObject[]>((resolve, reject) => {
    docker.listContainers((err, res) => (err ? reject(err) : resolve(res ?? [])));
  });
  check(Array.isArray(list), 'listContainers with a callback');
  const err = await new Promise<Error | null>((resolve) => {
    docker.getContainer(`tug-js-ts-missing-${suffix}`).inspect((e) => resolve(e));
  });
  check(err instanceof NotFoundError && err.statusCode === 404, 'callback gets a NotFoundError');
});

await step('errors', async () => {
  try {
    await docker.createContainer({ Image: IMAGE, HostConfig: { Binds: ['/etc:/host-etc'] } });
    throw new Error('a host bind was allowed');
  } catch (e) {
    check(e instanceof DeniedError, `host bind: ${(e as Error).message}`);
    check(e instanceof DockerError && e.statusCode === 403, 'a DeniedError is a DockerError with 403');
    console.log(`denied ${e.rule} ${e.field}`);
  }
});

for (const c of created) await c.remove({ force: true }).catch(() => undefined);
if (failed) process.exit(1);
console.log('tour.ts done');
