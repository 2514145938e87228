"""python-docker 0.2's API (https://github.com/costrouc/python-docker) for tug plugins, over tug's
daemonless ``registry`` interface: ``python_docker.registry.Registry`` pulls, pushes and lists,
``python_docker.base.Image`` and ``Layer`` edit, write out and run images. The tug host does the
registry's HTTP (with its own credentials) under the run's policy; the layers of a pulled image stay in
the registry until written out, and a push sends only what the registry lacks. What differs from
python-docker, and why: ``docs/sdk-python.md``, section ``python_docker``.
"""

__version__ = "0.2.0"
