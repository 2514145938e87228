"""{{name}}: a tug plugin that runs a container, prints its output and removes it.

    tug run {{name}}.wasm [-- IMAGE [COMMAND...]]

IMAGE defaults to busybox:latest, COMMAND to `echo hello from a container`. When the container exits
non-zero, its stderr is printed and the plugin exits with its status. An ordinary docker-py script:
`tug build` bundles docker-py with a transport that reaches the engine through tug.
"""

import sys

import docker

image = sys.argv[1] if len(sys.argv) > 1 else "busybox:latest"
command = sys.argv[2:] or ["echo", "hello from a container"]

client = docker.from_env()  # the engine `tug run` was given
try:
    output = client.containers.run(image, command, remove=True)
except docker.errors.ContainerError as e:
    sys.stderr.write((e.stderr or b"").decode(errors="replace"))
    sys.exit(e.exit_status)
sys.stdout.write(output.decode(errors="replace"))
