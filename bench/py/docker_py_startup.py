"""tug-bench's trivial docker-py plugin (P6 cold start): what every docker-py script does first, then exit.

`docker.from_env()` negotiates the API version (docker-py 7's default, ``version=None``): one
``GET /version`` to the engine.
"""
import docker

docker.from_env()
