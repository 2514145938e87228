"""tug's Python SDK for plugins built with componentize-py.

``tug.docker_transport`` lets unmodified docker-py scripts call tug's Engine API functions: import it at
top level and call ``tug.docker_transport.install()`` before ``docker.from_env()``. ``tug._routes`` is
the route table generated from ``wit/`` by ``scripts/gen_python_routes.py``.
"""
