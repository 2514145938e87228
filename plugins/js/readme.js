// dockerode's own README (github.com/apocas/dockerode, README.md), example by example, as a tug plugin.
// Each README snippet is quoted in a comment above its adaptation; every line that had to change says why
// (`CHANGED:`). The usual changes: the image is `tug-test/busybox:latest` (a local image; tug never pulls from
// Docker Hub here), and busybox has `sh`, not `bash`. Each example prints `ok <example>`, or `skip
// <example>: <why>` when tug does not offer it or the run's policy refuses it (under `untrusted`: the
// build, and the tag and push that put an image in the local registry for the pull examples); any failure
// prints `FAIL <example>: …` and the plugin exits 1. Everything it creates is removed at the end (the
// repository pushed to 127.0.0.1:5000 stays: the Engine API cannot delete from a registry).
//
//   tug build plugins/js/readme.js -o readme.wasm && tug run --policy ci readme.wasm [-- <suffix>]

// var Docker = require('dockerode');
// CHANGED: an ES module imports (there is no `require`); `tug build` resolves 'dockerode' to tug's SDK.
import Docker, { DeniedError, NotOfferedError, tar } from 'dockerode';

const IMAGE = 'tug-test/busybox:latest';
const suffix = (process.argv[2] || `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`)
  .toLowerCase().replace(/[^a-z0-9-]/g, '-');
const made = { containers: new Set(), networks: [], images: [] };
let failed = false;

/** Runs one example: `ok NAME`, `skip NAME: why` for a policy denial or an API tug does not offer, else FAIL. */
async function example(name, fn) {
  try {
    const note = await fn();
    console.log(`ok ${name}${note ? ` ${note}` : ''}`);
  } catch (e) {
    if (e instanceof DeniedError) return console.log(`skip ${name}: denied ${e.rule}: ${e.denialReason}`);
    if (e instanceof NotOfferedError) return console.log(`skip ${name}: ${e.message}`);
    failed = true;
    console.log(`FAIL ${name}: ${e?.name}: ${e?.message}`);
    if (e?.stack) console.error(e.stack);
  }
}
const skip = (name, why) => console.log(`skip ${name}: ${why}`);
const keep = (container) => { made.containers.add(container.id); return container; };

// ### Getting started
await example('getting-started', async () => {
  // var docker = new Docker({socketPath: '/var/run/docker.sock'});
  // var docker1 = new Docker(); //defaults to above if env variables are not used
  // var docker2 = new Docker({host: 'http://192.168.1.10', port: 3000});
  // var docker3 = new Docker({protocol:'http', host: '127.0.0.1', port: 3000});
  // var docker4 = new Docker({host: '127.0.0.1', port: 3000}); //defaults to http
  // Unchanged: connection options are ignored, every one of these is the engine `tug run` was given.
  var docker = new Docker({socketPath: '/var/run/docker.sock'});
  var docker1 = new Docker(); //defaults to above if env variables are not used
  var docker2 = new Docker({host: 'http://192.168.1.10', port: 3000});
  var docker3 = new Docker({protocol:'http', host: '127.0.0.1', port: 3000});
  var docker4 = new Docker({host: '127.0.0.1', port: 3000}); //defaults to http
  // docker5, docker6 (`ca: fs.readFileSync('ca.pem')`, `cert`, `key`): OMITTED, there is no `fs` and the
  // plugin holds no keys (the host speaks TLS to its engines). docker7 (`Promise: require('bluebird')`):
  // OMITTED, no `require`; the SDK's promises are native.
  const names = [];
  for (const d of [docker, docker1, docker2, docker3, docker4]) {
    if ((await d.ping()) !== 'OK') throw new Error('ping did not answer OK');
    names.push((await d.engineInfo()).name);
  }
  if (new Set(names).size !== 1) throw new Error(`several engines: ${names}`);
  return `engine ${names[0]}`;
});

const docker = new Docker();

// ### Manipulating a container (callbacks)
await example('manipulating-a-container', async () => {
  // Not in the README: a container to manipulate.
  const created = keep(await docker.createContainer({ Image: IMAGE, Cmd: ['true'] }));
  await new Promise((resolve, reject) => {
    let answered = 0;
    const done = (err) => { if (err) reject(err); else if (++answered === 3) resolve(); };
    // var container = docker.getContainer('71501a8ab0f8');
    // CHANGED: the ID of a container of this run.
    var container = docker.getContainer(created.id);

    // container.inspect(function (err, data) {
    //   console.log(data);
    // });
    // CHANGED (here and below): errors reported instead of ignored; one field printed, not the document.
    container.inspect(function (err, data) {
      if (err) return done(err);
      console.log('inspect', data.State.Status);
      done();
    });

    // container.start(function (err, data) {
    //   console.log(data);
    // });
    container.start(function (err, data) {
      if (err) return done(err);
      console.log('start', data);
      done();
    });

    // container.remove(function (err, data) {
    //   console.log(data);
    // });
    // CHANGED: `{force: true}`. The three calls go out at once, as in dockerode, so the container may
    // still be running when the removal arrives (the engine would answer 409).
    container.remove({force: true}, function (err, data) {
      if (err) return done(err);
      console.log('remove', data);
      done();
    });
  });
});

// ### Manipulating a container (promises)
await example('promises', async () => {
  // var auxContainer;
  // docker.createContainer({
  //   Image: 'ubuntu',
  //   AttachStdin: false,
  //   AttachStdout: true,
  //   AttachStderr: true,
  //   Tty: true,
  //   Cmd: ['/bin/bash', '-c', 'tail -f /var/log/dmesg'],
  //   OpenStdin: false,
  //   StdinOnce: false
  // }).then(function(container) {
  //   auxContainer = container;
  //   return auxContainer.start();
  // }).then(function(data) {
  //   return auxContainer.resize({
  //     h: process.stdout.rows,
  //     w: process.stdout.columns
  //   });
  // }).then(function(data) {
  //   return auxContainer.stop();
  // }).then(function(data) {
  //   return auxContainer.remove();
  // }).then(function(data) {
  //   console.log('container removed');
  // }).catch(function(err) {
  //   console.log(err);
  // });
  var auxContainer;
  // CHANGED: `return` the chain, so the example waits for it.
  return docker.createContainer({
    Image: IMAGE, // CHANGED: the local busybox image
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    // CHANGED: busybox has `sh`, no /var/log/dmesg; and the shell exits on SIGTERM, so `stop()` does not
    // wait its 10 s for a PID 1 that ignores the signal.
    Cmd: ['/bin/sh', '-c', 'trap exit TERM; tail -f /dev/null & wait'],
    OpenStdin: false,
    StdinOnce: false
  }).then(function(container) {
    auxContainer = keep(container);
    return auxContainer.start();
  }).then(function(data) {
    // Unchanged: a plugin's stdout is no terminal, `rows` is undefined (as in Node when stdout is a pipe)
    // and `columns` 80; the engine takes the height as 0.
    return auxContainer.resize({
      h: process.stdout.rows,
      w: process.stdout.columns
    });
  }).then(function(data) {
    return auxContainer.stop();
  }).then(function(data) {
    return auxContainer.remove();
  }).then(function(data) {
    console.log('container removed');
  }).catch(function(err) {
    console.log(err);
    throw err; // CHANGED: the failure reaches `example`
  });
});

// container.defaultOptions.start.Binds = ["/tmp:/tmp:rw"];
skip('default-options', 'container.defaultOptions is not offered (each call takes its options); and a bind of a host '
  + 'path is refused by the untrusted and ci policies (rule containers.binds)');

// ### Stopping all containers on a host
await example('stop-all', async () => {
  // Not in the README: two running containers of this run to stop.
  for (let i = 0; i < 2; i++) {
    const c = keep(await docker.createContainer({ Image: IMAGE, Cmd: ['sleep', '60'], Labels: { readme: suffix } }));
    await c.start();
  }
  let stopped = 0;
  await new Promise((resolve, reject) => {
    const cb = (err) => { if (err) reject(err); else if (++stopped === 2) resolve(); };
    // docker.listContainers(function (err, containers) {
    //   containers.forEach(function (containerInfo) {
    //     docker.getContainer(containerInfo.Id).stop(cb);
    //   });
    // });
    // CHANGED: a label filter, so only this plugin's own containers are stopped. Under `untrusted` and
    // `ci` the list already holds nothing but the run's own objects; under `trusted` it holds every
    // container on the host.
    docker.listContainers({filters: {label: [`readme=${suffix}`]}}, function (err, containers) {
      if (err) return reject(err); // CHANGED: errors reported
      containers.forEach(function (containerInfo) {
        // CHANGED: `{t: 1}`: `sleep` as PID 1 ignores SIGTERM; without it each stop waits 10 s.
        docker.getContainer(containerInfo.Id).stop({t: 1}, cb);
      });
    });
  });
  return `${stopped} stopped`;
});

// ### Building an Image
await example('build-image', async () => {
  const imageName = `readme-${suffix}/built:latest`;
  // docker.buildImage('archive.tar', {t: imageName}, function (err, response){
  //   //...
  // });
  // docker.buildImage({
  //   context: __dirname,
  //   src: ['Dockerfile', 'file1', 'file2']
  // }, {t: imageName}, function (err, response) {
  //   //...
  // });
  // Unchanged but for `__dirname` ('.': an ES module has none): a plugin has no host files, so both forms
  // answer NotOfferedError in the callback.
  const refused = await new Promise((resolve) => {
    const errs = [];
    const cb = (err) => { errs.push(err); if (errs.length === 2) resolve(errs); };
    docker.buildImage('archive.tar', {t: imageName}, function (err, response){
      cb(err);
    });
    docker.buildImage({
      context: '.',
      src: ['Dockerfile', 'file1', 'file2']
    }, {t: imageName}, function (err, response) {
      cb(err);
    });
  });
  for (const e of refused) {
    if (!(e instanceof NotOfferedError)) throw new Error(`expected NotOfferedError, got ${e}`);
    console.log(e.message);
  }

  // let dockerode = new Dockerode();
  // let stream = await dockerode.buildImage(...);
  // await new Promise((resolve, reject) => {
  //   dockerode.modem.followProgress(stream, (err, res) => err ? reject(err) : resolve(res));
  // });
  // // Build has finished
  let dockerode = new Docker(); // CHANGED: the import's name
  // CHANGED: `...` is a build context in memory, a tar made with the SDK's `tar.pack`.
  const context = tar.pack([
    { name: 'Dockerfile', content: `FROM ${IMAGE}\nCOPY file1 /file1\nCMD ["cat", "/file1"]\n` },
    { name: 'file1', content: 'built by readme.js\n' },
  ]);
  let stream = await dockerode.buildImage(context, {t: imageName});
  made.images.push(imageName);
  const res = await new Promise((resolve, reject) => {
    dockerode.modem.followProgress(stream, (err, res) => err ? reject(err) : resolve(res));
  });
  // Build has finished
  return `${res.length} progress documents`;
});

// ### Creating a container
await example('create-container', async () => {
  await new Promise((resolve, reject) => {
    // docker.createContainer({Image: 'ubuntu', Cmd: ['/bin/bash'], name: 'ubuntu-test'}, function (err, container) {
    //   container.start(function (err, data) {
    //     //...
    //   });
    // });
    // CHANGED: busybox and `sh`; the name made unique to this run; errors reported.
    docker.createContainer({Image: IMAGE, Cmd: ['/bin/sh'], name: `busybox-test-${suffix}`}, function (err, container) {
      if (err) return reject(err);
      keep(container);
      container.start(function (err, data) {
        if (err) return reject(err);
        resolve();
      });
    });
  });
});

// ### Streams goodness: tty:true
await example('attach-tty', async () => {
  await new Promise((resolve, reject) => {
    // docker.createContainer({ /*...*/ Tty: true /*...*/ }, function(err, container) {
    //   container.attach({stream: true, stdout: true, stderr: true}, function (err, stream) {
    //     stream.pipe(process.stdout);
    //   });
    // });
    // CHANGED: the elided options filled in; the container started once attached; errors reported; the
    // example ends with the stream.
    docker.createContainer({ Image: IMAGE, Cmd: ['echo', 'hello from a tty'], Tty: true }, function(err, container) {
      if (err) return reject(err);
      keep(container);
      container.attach({stream: true, stdout: true, stderr: true}, function (err, stream) {
        if (err) return reject(err);
        stream.pipe(process.stdout);
        stream.on('end', resolve);
        container.start(function (err) { if (err) reject(err); });
      });
    });
  });
});

// ### Streams goodness: tty:false
await example('attach-demux', async () => {
  await new Promise((resolve, reject) => {
    // docker.createContainer({ /*...*/ Tty: false /*...*/ }, function(err, container) {
    //   container.attach({stream: true, stdout: true, stderr: true}, function (err, stream) {
    //     //dockerode may demultiplex attach streams for you :)
    //     container.modem.demuxStream(stream, process.stdout, process.stderr);
    //   });
    // });
    // CHANGED: as above.
    docker.createContainer({ Image: IMAGE, Cmd: ['sh', '-c', 'echo to stdout; echo to stderr >&2'], Tty: false }, function(err, container) {
      if (err) return reject(err);
      keep(container);
      container.attach({stream: true, stdout: true, stderr: true}, function (err, stream) {
        if (err) return reject(err);
        //dockerode may demultiplex attach streams for you :)
        container.modem.demuxStream(stream, process.stdout, process.stderr);
        stream.on('end', resolve);
        container.start(function (err) { if (err) reject(err); });
      });
    });
  });
});

// ### HTTP connection hijacking
await example('exec-hijack', async () => {
  const exitCode = await new Promise((resolve, reject) => {
    // docker.createContainer({Tty: false, /*... other options */}, function(err, container) {
    //   container.start(function(err) {
    //     container.exec({Cmd: ['shasum', '-'], AttachStdin: true, AttachStdout: true}, function(err, exec) {
    //       exec.start({hijack: true, stdin: true}, function(err, stream) {
    //         fs.createReadStream('node-v5.1.0.tgz', 'binary').pipe(stream);
    //         docker.modem.demuxStream(stream, process.stdout, process.stderr);
    //       });
    //     });
    //   });
    // });
    // CHANGED: the elided options filled in; busybox's `sha1sum`; errors reported.
    docker.createContainer({Image: IMAGE, Cmd: ['sleep', '60'], Tty: false}, function(err, container) {
      if (err) return reject(err);
      keep(container);
      container.start(function(err) {
        if (err) return reject(err);
        container.exec({Cmd: ['sha1sum', '-'], AttachStdin: true, AttachStdout: true}, function(err, exec) {
          if (err) return reject(err);
          exec.start({hijack: true, stdin: true}, function(err, stream) {
            if (err) return reject(err);
            // CHANGED: no `fs` in a plugin. A stream of bytes to pipe in: the tar of the container's
            // /etc/passwd (`pipe` ends the exec's stdin when it is done; sha1sum then prints its sum).
            container.getArchive({path: '/etc/passwd'}, function (err, file) {
              if (err) return reject(err);
              file.pipe(stream);
            });
            docker.modem.demuxStream(stream, process.stdout, process.stderr);
            stream.on('end', () => exec.inspect().then((i) => resolve(i.ExitCode), reject));
          });
        });
      });
    });
  });
  if (exitCode !== 0) throw new Error(`sha1sum exited ${exitCode}`);
});

// ### Equivalent of `docker run`: callback
await example('run-callback', async () => {
  const code = await new Promise((resolve, reject) => {
    // docker.run('ubuntu', ['bash', '-c', 'uname -a'], process.stdout, function (err, data, container) {
    //   console.log(data.StatusCode);
    // });
    // CHANGED: busybox and `sh`; errors reported; the container kept for removal.
    docker.run(IMAGE, ['sh', '-c', 'uname -a'], process.stdout, function (err, data, container) {
      if (err) return reject(err);
      keep(container);
      console.log(data.StatusCode);
      resolve(data.StatusCode);
    });
  });
  if (code !== 0) throw new Error(`exit ${code}`);
});

// ### Equivalent of `docker run`: promise
await example('run-promise', async () => {
  // docker.run(testImage, ['bash', '-c', 'uname -a'], process.stdout).then(function(data) {
  //   var output = data[0];
  //   var container = data[1];
  //   console.log(output.StatusCode);
  //   return container.remove();
  // }).then(function(data) {
  //   console.log('container removed');
  // }).catch(function(err) {
  //   console.log(err);
  // });
  var testImage = IMAGE; // CHANGED: the README leaves testImage to the reader
  // CHANGED: `sh`; `return` the chain and rethrow, as in `promises`.
  return docker.run(testImage, ['sh', '-c', 'uname -a'], process.stdout).then(function(data) {
    var output = data[0];
    var container = data[1];
    console.log(output.StatusCode);
    return container.remove();
  }).then(function(data) {
    console.log('container removed');
  }).catch(function(err) {
    console.log(err);
    throw err;
  });
});

// ### Equivalent of `docker run`: stdout and stderr apart
await example('run-split', async () => {
  const code = await new Promise((resolve, reject) => {
    // docker.run('ubuntu', ['bash', '-c', 'uname -a'], [process.stdout, process.stderr], {Tty:false}, function (err, data, container) {
    //   console.log(data.StatusCode);
    // });
    // CHANGED: as in `run-callback`; the command also writes to stderr.
    docker.run(IMAGE, ['sh', '-c', 'uname -a; echo to stderr >&2'], [process.stdout, process.stderr], {Tty:false}, function (err, data, container) {
      if (err) return reject(err);
      keep(container);
      console.log(data.StatusCode);
      resolve(data.StatusCode);
    });
  });
  if (code !== 0) throw new Error(`exit ${code}`);
});

// ### Equivalent of `docker run`: the emitter of the callback form
await example('run-events', async () => {
  const seen = [];
  await new Promise((resolve, reject) => {
    // docker.run('ubuntu', ['bash', '-c', 'uname -a'], [process.stdout, process.stderr], {Tty:false}, function (err, data, container) {
    //   //...
    // }).on('container', function (container) {
    //   //...
    // });
    // CHANGED: busybox and `sh`; the callback settles the example; every event recorded.
    docker.run(IMAGE, ['sh', '-c', 'uname -a'], [process.stdout, process.stderr], {Tty:false}, function (err, data, container) {
      if (err) return reject(err);
      keep(container);
      resolve(data);
    }).on('container', function (container) {
      seen.push(`container ${container.id.slice(0, 12)}`);
    }).on('stream', function () {
      seen.push('stream');
    }).on('start', function () {
      seen.push('start');
    }).on('data', function (data) {
      seen.push(`data ${data.StatusCode}`);
    });
  });
  const events = seen.map((e) => e.split(' ')[0]).join(',');
  if (events !== 'container,stream,start,data') throw new Error(`events ${seen.join(', ')}`);
});

// ### Equivalent of `docker run`: auto-remove and a network
await example('run-autoremove-network', async () => {
  // Not in the README: the network it names.
  const network = await docker.createNetwork({ Name: `my_network-${suffix}` });
  made.networks.push(network.id);
  const arg = suffix;
  await new Promise((resolve, reject) => {
    // docker.run('some-python-image', ['python', 'main.py', arg], process.stdout, {name: 'my-python-container', HostConfig: { AutoRemove: true, NetworkMode: 'my_network'}}, function(err, data, container) {
    //   // Do stuff
    // });
    // CHANGED: busybox's `echo` for python; the names made unique to this run; errors reported.
    docker.run(IMAGE, ['echo', 'main.py', arg], process.stdout, {name: `my-python-container-${suffix}`, HostConfig: { AutoRemove: true, NetworkMode: `my_network-${suffix}`}}, function(err, data, container) {
      // Do stuff
      if (err) return reject(err);
      resolve(data);
    });
  });
});

// ### Equivalent of `docker pull`
// Not in the README: an image to pull. The plugin tags the local image into the local registry and pushes
// it (images write access: `ci`; `untrusted` refuses the tag), then removes the local tag.
const repo = `127.0.0.1:5000/readme-${suffix}/myname`;
const repoTag = `${repo}:tag`;
let pushed = false;
/** An example that pulls what push-for-pull pushed (skipped when the policy refused the push). */
const pullExample = (name, fn) => (pushed ? example(name, fn)
  : skip(name, 'nothing in the local registry to pull: the policy refused push-for-pull'));
await example('push-for-pull', async () => {
  await docker.getImage(IMAGE).tag({ repo, tag: 'tag' });
  made.images.push(repoTag);
  await docker.modem.followProgress(await docker.getImage(repoTag).push());
  await docker.getImage(repoTag).remove();
  pushed = true;
});

await pullExample('pull', async () => {
  await new Promise((resolve, reject) => {
    // docker.pull('myrepo/myname:tag', function (err, stream) {
    //   // streaming output from pull...
    // });
    // CHANGED: the image pushed above; the stream read to its end.
    docker.pull(repoTag, function (err, stream) {
      if (err) return reject(err);
      // streaming output from pull...
      stream.on('data', (chunk) => process.stdout.write(chunk));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
  });
});

await pullExample('pull-authconfig', async () => {
  // var auth = {
  //   username: 'username',
  //   password: 'password',
  //   auth: '',
  //   email: 'your@email.email',
  //   serveraddress: 'https://index.docker.io/v1'
  // };
  // docker.pull('tag', {'authconfig': auth}, function (err, stream) {
  //   //...
  // });
  // CHANGED: the registry is the local one (which asks for no credentials, so these are sent and
  // unused); the image pushed above. Without `authconfig` the host sends its own docker config's.
  var auth = {
    username: 'username',
    password: 'password',
    auth: '',
    email: 'your@email.email',
    serveraddress: '127.0.0.1:5000'
  };
  return new Promise((resolve, reject) => {
    docker.pull(repoTag, {'authconfig': auth}, function (err, stream) {
      if (err) return reject(err);
      docker.modem.followProgress(stream, (err, out) => err ? reject(err) : resolve(out.at(-1)?.status));
    });
  });
});

// ## Helper functions: followProgress
await pullExample('follow-progress', async () => {
  let events = 0;
  const output = await new Promise((resolve, reject) => {
    // docker.pull(repoTag, function(err, stream) {
    //   docker.modem.followProgress(stream, onFinished, onProgress);
    //   function onFinished(err, output) {
    //     //output is an array with output json parsed objects
    //   }
    //   function onProgress(event) {
    //   }
    // });
    // Unchanged but for the bodies of the two functions and errors reported.
    docker.pull(repoTag, function(err, stream) {
      if (err) return reject(err);
      docker.modem.followProgress(stream, onFinished, onProgress);
      function onFinished(err, output) {
        //output is an array with output json parsed objects
        if (err) return reject(err);
        resolve(output);
      }
      function onProgress(event) {
        events++;
      }
    });
  });
  return `${events} events, ${output.length} documents`;
});

// ### Streams goodness: createImage
await pullExample('create-image', async () => {
  await new Promise((resolve, reject) => {
    // docker.createImage({fromImage: 'ubuntu'}, function (err, stream) {
    //   stream.pipe(process.stdout);
    // });
    // CHANGED: the image pushed above; errors reported; the example ends with the stream.
    docker.createImage({fromImage: repoTag}, function (err, stream) {
      if (err) return reject(err);
      stream.pipe(process.stdout);
      stream.on('end', resolve);
    });
  });
});

// ## Helper functions: demuxStream
await example('demux-stream', async () => {
  const container = keep(await docker.createContainer({ Image: IMAGE, Cmd: ['sh', '-c', 'echo out; echo err >&2'] }));
  await new Promise((resolve, reject) => {
    // container.attach({
    //   stream: true,
    //   stdout: true,
    //   stderr: true
    // }, function handler(err, stream) {
    //   container.modem.demuxStream(stream, process.stdout, process.stderr);
    // });
    // CHANGED: errors reported; the container started once attached; the example ends with the stream.
    container.attach({
      stream: true,
      stdout: true,
      stderr: true
    }, function handler(err, stream) {
      if (err) return reject(err);
      container.modem.demuxStream(stream, process.stdout, process.stderr);
      stream.on('end', resolve);
      container.start(function (err) { if (err) reject(err); });
    });
  });
});

// Leave nothing behind, whatever failed.
for (const id of made.containers) await docker.getContainer(id).remove({ force: true, v: true }).catch(() => {});
for (const id of made.networks) await docker.getNetwork(id).remove().catch(() => {});
for (const ref of made.images) await docker.getImage(ref).remove({ force: true }).catch(() => {});

if (failed) process.exit(1);
console.log('readme done');
