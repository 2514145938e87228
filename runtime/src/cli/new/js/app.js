// {{name}}: a tug plugin that runs a container, prints its output and removes it.
//
//   tug run {{name}}.wasm [-- IMAGE [COMMAND...]]
//
// IMAGE defaults to busybox:latest, COMMAND to `echo hello from a container`; the plugin exits with the
// container's status. An ordinary dockerode script: `tug build` resolves 'dockerode' to tug's SDK.
import Docker from 'dockerode';

const [image = 'busybox:latest', ...command] = process.argv.slice(2);

const docker = new Docker(); // the engine `tug run` was given
const [result, container] = await docker.run(
  image,
  command.length ? command : ['echo', 'hello from a container'],
  [process.stdout, process.stderr], // stdout and stderr apart (no TTY)
  { Tty: false },
);
await container.remove();
process.exitCode = result.StatusCode;
