// A dockerode-style tour of the JS SDK against the real engine: run, followed logs demultiplexed, exec with
// stdin, an archive round trip, a build from an in-memory context, push and pull through the local registry,
// a network and a volume, and a policy denial. Each step prints `ok <step>` (or `skip <step>: …` when the
// policy refuses the whole step, as `untrusted` refuses builds and registry writes); any failure prints
// `FAIL <step>: …` and the plugin exits 1.
//
//   tug build plugins/js/tour.js && tug run --policy ci tour.wasm -- <unique-suffix>

import Docker, { DeniedError, NotFoundError, demux, tar } from 'dockerode';

const IMAGE = 'tug-test/busybox:latest';
const suffix = (process.argv[2] || `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`)
  .toLowerCase().replace(/[^a-z0-9-]/g, '-');
const docker = new Docker();

const cleanup = { containers: [], images: [], networks: [], volumes: [] };
let failed = false;

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

/** A sink collecting what is written to it, as a Writable would. */
function sink() {
  const parts = [];
  return { write(c) { parts.push(Buffer.from(c)); return true; }, text: () => Buffer.concat(parts).toString() };
}

async function step(name, fn, { skipOnDenied = false } = {}) {
  try {
    const note = await fn();
    console.log(`ok ${name}${note ? ` ${note}` : ''}`);
  } catch (e) {
    if (skipOnDenied && e instanceof DeniedError) {
      console.log(`skip ${name}: denied ${e.rule} ${e.field ?? '-'}`);
      return;
    }
    failed = true;
    console.log(`FAIL ${name}: ${e?.name}: ${e?.message}`);
    if (e?.stack) console.error(e.stack);
  }
}

async function create(opts) {
  const c = await docker.createContainer({ Image: IMAGE, ...opts });
  cleanup.containers.push(c.id);
  return c;
}

await step('ping', async () => {
  check((await docker.ping()) === 'OK', 'ping answers OK');
  const v = await docker.version();
  return `api ${v.ApiVersion}`;
});

await step('run', async () => {
  const out = sink();
  const [result, container] = await docker.run(IMAGE, ['sh', '-c', 'echo hello from run; exit 7'], out);
  cleanup.containers.push(container.id);
  check(out.text().includes('hello from run'), `run output: ${JSON.stringify(out.text())}`);
  check(result.StatusCode === 7, `exit code 7, got ${result.StatusCode}`);
  await container.remove();
  cleanup.containers.pop();
  return `exit ${result.StatusCode}`;
});

await step('logs', async () => {
  const c = await create({
    Cmd: ['sh', '-c', 'for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done'],
    Tty: false,
  });
  await c.start();
  // Followed while it runs, demultiplexed with dockerode's demuxStream.
  const stream = await c.logs({ follow: true, stdout: true, stderr: true });
  const out = sink(), err = sink();
  let ended = false;
  stream.on('end', () => { ended = true; });
  await docker.modem.demuxStream(stream, out, err);
  check(out.text() === 'out1\nout2\nout3\n', `stdout ${JSON.stringify(out.text())}`);
  check(err.text() === 'err1\nerr2\nerr3\n', `stderr ${JSON.stringify(err.text())}`);
  check(ended, "the stream emitted 'end'");
  // Not followed: a Buffer in the multiplexed format, as dockerode gives it.
  const buf = await c.logs({ stdout: 1, stderr: 1, tail: 2 });
  check(Buffer.isBuffer(buf), 'logs without follow resolve a Buffer');
  const out2 = sink(), err2 = sink();
  docker.modem.demuxStream(buf, out2, err2);
  check(out2.text() + err2.text() === 'out3\nerr3\n', `tail 2: ${JSON.stringify(out2.text() + err2.text())}`);
  // Iterated as frames.
  const frames = [];
  for await (const { stream: kind, data } of await c.logs({ follow: true, stdout: true, stderr: true })) {
    frames.push(`${kind}:${data.toString().trim()}`);
  }
  // Each stream in order (the engine does not order stdout against stderr within a moment).
  const only = (k) => frames.filter((f) => f.startsWith(`${k}:`)).join(',');
  check(only('stdout') === 'stdout:out1,stdout:out2,stdout:out3' && only('stderr') === 'stderr:err1,stderr:err2,stderr:err3',
    `frames ${frames.join(',')}`);
  await c.remove({ force: true });
  // A TTY's logs are raw bytes, in 'data' events as in the Buffer; 3 MB of output in frames larger than a
  // read comes whole, and `demux` of the not-followed Buffer has the same bytes.
  const t = await create({ Cmd: ['sh', '-c', 'echo tty-one; echo tty-two'], Tty: true });
  await t.start();
  await t.wait();
  const chunks = [];
  const raw = await t.logs({ follow: true, stdout: true, stderr: true });
  await new Promise((resolve, reject) => {
    raw.on('data', (d) => chunks.push(d));
    raw.on('end', resolve);
    raw.on('error', reject);
  });
  const ttyText = Buffer.concat(chunks).toString();
  check(ttyText === 'tty-one\r\ntty-two\r\n', `tty logs ${JSON.stringify(ttyText)}`);
  check((await t.logs({ stdout: true })).toString() === ttyText, 'tty logs without follow');
  await t.remove({ force: true });
  const big = await create({ Cmd: ['sh', '-c', "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo done >&2"], Tty: false });
  await big.start();
  await big.wait();
  let outBytes = 0, errText = '';
  for await (const f of await big.logs({ follow: true, stdout: true, stderr: true })) {
    if (f.stream === 'stderr') errText += f.toString();
    else if (f.every((b) => b === 0x78 || b === 0x0a)) outBytes += f.length;
  }
  check(outBytes === 3000001 && errText === 'done\n', `3 MB of logs: ${outBytes} bytes, stderr ${JSON.stringify(errText)}`);
  const { stdout: bigOut } = demux(await big.logs({ stdout: true, stderr: true }));
  check(bigOut.length === 3000001, `3 MB of logs without follow: ${bigOut.length}`);
  await big.remove({ force: true });
});

await step('exec', async () => {
  const c = await create({ Cmd: ['sleep', '60'] });
  await c.start();
  const exec = await c.exec({
    Cmd: ['sh', '-c', 'tr a-z A-Z; echo bye >&2; exit 3'],
    AttachStdin: true, AttachStdout: true, AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: true });
  stream.write('hello exec\n');
  stream.write(Buffer.from('second line\n'));
  stream.end();
  const out = sink(), err = sink();
  await docker.modem.demuxStream(stream, out, err);
  check(out.text() === 'HELLO EXEC\nSECOND LINE\n', `exec stdout ${JSON.stringify(out.text())}`);
  check(err.text() === 'bye\n', `exec stderr ${JSON.stringify(err.text())}`);
  const info = await exec.inspect();
  check(info.ExitCode === 3 && info.Running === false, `exec exit code 3, got ${info.ExitCode}`);
  await c.kill();
  await c.remove({ v: true, force: true });
  return `exit ${info.ExitCode}`;
});

await step('archive', async () => {
  const c = await create({ Cmd: ['sleep', '60'] });
  await c.start();
  const big = 'x'.repeat(10000);
  const archive = tar.pack([
    { name: 'tour', type: 'directory' },
    { name: 'tour/hello.txt', content: `hello archive ${suffix}\n` },
    { name: 'tour/big.txt', content: big, mode: 0o600 },
  ]);
  await c.putArchive(archive, { path: '/tmp' });
  const stat = await c.infoArchive({ path: '/tmp/tour/big.txt' });
  check(stat.size === big.length, `infoArchive size ${stat.size}`);
  const stream = await c.getArchive({ path: '/tmp/tour' });
  const entries = await tar.extract(stream);
  const hello = entries.find((e) => e.name === 'tour/hello.txt');
  const got = entries.find((e) => e.name === 'tour/big.txt');
  check(hello && hello.content.toString() === `hello archive ${suffix}\n`, 'hello.txt came back');
  check(got && got.content.toString() === big && (got.mode & 0o777) === 0o600, 'big.txt came back with its mode');
  // The file is really there: cat it through an exec.
  const ex = await c.exec({ Cmd: ['cat', '/tmp/tour/hello.txt'], AttachStdout: true, AttachStderr: true });
  const text = await (await ex.start({})).text();
  check(text === `hello archive ${suffix}\n`, `cat: ${JSON.stringify(text)}`);
  await c.remove({ force: true });
  return `${entries.length} entries`;
});

await step('build', async () => {
  const tag = `tug-js/tour-${suffix}:latest`;
  const context = tar.pack([
    { name: 'Dockerfile', content: `FROM ${IMAGE}\nCOPY msg.txt /msg.txt\nCMD ["cat", "/msg.txt"]\n` },
    { name: 'msg.txt', content: `built ${suffix}\n` },
  ]);
  const stream = await docker.buildImage(context, { t: tag, rm: true, forcerm: true });
  cleanup.images.push(tag);
  let events = 0;
  const output = await new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err, res) => (err ? reject(err) : resolve(res)), () => { events++; });
  });
  check(output.some((o) => o.aux?.ID || /Successfully built/.test(o.stream ?? '')), 'the build reported an image');
  const out = sink();
  const [res, c] = await docker.run(tag, [], out, { Tty: false });
  cleanup.containers.push(c.id);
  check(res.StatusCode === 0 && out.text() === `built ${suffix}\n`, `built image runs: ${JSON.stringify(out.text())}`);
  await c.remove();
  // A failing build: the error reaches followProgress's callback.
  const bad = tar.pack([{ name: 'Dockerfile', content: `FROM ${IMAGE}\nRUN exit 5\n` }]);
  const failedErr = await new Promise((resolve) => {
    docker.buildImage(bad, { t: `tug-js/tour-bad-${suffix}:latest`, rm: true, forcerm: true }, (err, s) => {
      if (err) return resolve(err);
      docker.modem.followProgress(s, (e) => resolve(e));
    });
  });
  check(failedErr && /returned a non-zero code: 5/.test(failedErr.message), `failed build error: ${failedErr?.message}`);
  return `${events} progress events`;
}, { skipOnDenied: true });

await step('registry', async () => {
  const repo = `127.0.0.1:5000/tug-js/${suffix}`;
  const ref = `${repo}:v1`;
  await docker.getImage(IMAGE).tag({ repo, tag: 'v1' });
  cleanup.images.push(ref);
  const push = await docker.getImage(ref).push();
  const pushed = await docker.modem.followProgress(push);
  check(pushed.some((o) => o.aux?.Digest), 'push reported a digest');
  await docker.getImage(ref).remove();
  let gone = false;
  try { await docker.getImage(ref).inspect(); } catch (e) { gone = e instanceof NotFoundError && e.statusCode === 404; }
  check(gone, 'the tag is gone locally');
  const pulled = await docker.modem.followProgress(await docker.pull(ref));
  check(pulled.some((o) => /Downloaded newer image|Image is up to date/.test(o.status ?? '')), 'pull finished');
  const info = await docker.getImage(ref).inspect();
  check(info.RepoTags.includes(ref), 'the pulled image has its tag');
  await docker.getImage(ref).remove();
  cleanup.images.pop();
  return pushed.find((o) => o.aux?.Digest).aux.Digest;
}, { skipOnDenied: true });

await step('netvol', async () => {
  const network = await docker.createNetwork({ Name: `tug-js-net-${suffix}`, Driver: 'bridge' });
  cleanup.networks.push(network.id);
  const volume = await docker.createVolume({ Name: `tug-js-vol-${suffix}` });
  cleanup.volumes.push(volume.name);
  const c = await create({
    Cmd: ['sh', '-c', 'echo netvol > /data/f && cat /data/f'],
    HostConfig: { Binds: [`${volume.name}:/data`], NetworkMode: `tug-js-net-${suffix}` },
  });
  await c.start();
  const { StatusCode } = await c.wait();
  check(StatusCode === 0, `container exit ${StatusCode}`);
  const logs = (await c.logs({ stdout: true })).toString();
  check(logs.includes('netvol'), `wrote into the volume: ${JSON.stringify(logs)}`);
  const info = await c.inspect();
  check(info.Mounts.some((m) => m.Name === volume.name), 'the volume is mounted');
  check(Object.keys(info.NetworkSettings.Networks).includes(`tug-js-net-${suffix}`), 'on the network');
  const n = await network.inspect();
  check(n.Name === `tug-js-net-${suffix}`, 'network inspect');
  const v = await volume.inspect();
  check(v.Name === volume.name, 'volume inspect');
  const listed = await docker.listVolumes({ filters: { name: [volume.name] } });
  check(listed.Volumes.some((x) => x.Name === volume.name), 'listVolumes finds it');
  await c.remove({ v: true });
  await network.remove();
  await volume.remove();
  cleanup.networks.pop(); cleanup.volumes.pop();
});

await step('denied', async () => {
  try {
    await create({ Cmd: ['true'], HostConfig: { Privileged: true } });
  } catch (e) {
    if (e instanceof DeniedError) {
      console.log(`denied ${e.rule} ${e.field}`);
      check(e.statusCode === 403 && e.message.includes(e.rule), 'the denial names its rule');
      return;
    }
    throw e;
  }
  throw new Error('a privileged container was created');
});

await step('errors', async () => {
  try {
    await docker.getContainer(`tug-js-missing-${suffix}`).inspect();
  } catch (e) {
    check(e instanceof NotFoundError && e.statusCode === 404 && /no such container/.test(e.message), e.message);
    return e.message;
  }
  throw new Error('no error for a missing container');
});

// Leave nothing behind, whatever failed.
for (const id of cleanup.containers) await docker.getContainer(id).remove({ force: true, v: true }).catch(() => {});
for (const id of cleanup.networks) await docker.getNetwork(id).remove().catch(() => {});
for (const name of cleanup.volumes) await docker.getVolume(name).remove({ force: true }).catch(() => {});
for (const ref of cleanup.images) await docker.getImage(ref).remove({ force: true }).catch(() => {});

if (failed) process.exit(1);
console.log('tour done');
