"""How a script behaves as a plugin, as under `python SCRIPT.py`: `sys.argv`, `sys.exit(n)` as the exit
code, an uncaught exception's traceback on stderr and exit 1, and modules imported at the top level
available at run time; `engine NAME`: docker-py on the engine the run was given as NAME
(`base_url="tug://NAME"`; `default` is the run's default engine). Used by tests/tests/python.rs.
"""

import json
import sys

import docker

args = sys.argv[1:]
print("argv", json.dumps(sys.argv))
if args[:1] == ["exit"]:
    sys.exit(int(args[1]))
if args[:1] == ["message"]:
    sys.exit("a message instead of a code")
if args[:1] == ["raise"]:
    raise ValueError("raised on purpose")
if args[:1] == ["engine"]:
    client = docker.DockerClient(base_url=f"tug://{args[1]}")
    print(f"engine {args[1]}: {client.info()['DockerRootDir']}")
    import tug
    print(f"engines: {', '.join(tug.engine_names())}")
print("done")
