"""docker-py's side of tug-bench: the same calls the plugin and the native clients make, timed the same
way (from the request to the last byte), one JSON document on stdout.

    docker_py_bench.py version N
    docker_py_bench.py logs ID [follow]     (follow: start the container first, then follow its logs)
    docker_py_bench.py archive ID PATH
    docker_py_bench.py lifecycle N CONCURRENCY IMAGE
    docker_py_bench.py idle                 (print `ready`, then sleep: P6's density)

tug-bench also builds this script with `tug build` and runs it, same modes and arguments, as a plugin
(P6). There are no threads in the sandbox: `lifecycle` with concurrency 1 runs in the calling thread.
"""
import json
import sys
import threading
import time

import docker


def client():
    return docker.APIClient(base_url="unix:///var/run/docker.sock", version="auto")


def version(n):
    c = client()
    ns = []
    for _ in range(n):
        t = time.perf_counter_ns()
        v = c.version()
        ns.append(time.perf_counter_ns() - t)
        assert v["Version"]
    return {"ns": ns}


def logs(cid, follow):
    c = client()
    t = time.perf_counter_ns()
    if follow:
        c.start(cid)
    nbytes = frames = 0
    for chunk in c.logs(cid, stream=True, stdout=True, stderr=False, follow=follow):
        nbytes += len(chunk)
        frames += 1
    return {"bytes": nbytes, "frames": frames, "ns": time.perf_counter_ns() - t}


def archive(cid, path):
    c = client()
    t = time.perf_counter_ns()
    bits, _stat = c.get_archive(cid, path)
    nbytes = frames = 0
    for chunk in bits:
        nbytes += len(chunk)
        frames += 1
    return {"bytes": nbytes, "frames": frames, "ns": time.perf_counter_ns() - t}


def lifecycle(n, concurrency, image):
    lock = threading.Lock()
    state = {"next": 0, "ns": [], "error": None}

    def worker():
        c = client()
        while True:
            with lock:
                if state["next"] >= n or state["error"]:
                    return
                state["next"] += 1
            try:
                r = time.perf_counter_ns()
                cid = c.create_container(image, ["true"])["Id"]
                c.start(cid)
                code = c.wait(cid)["StatusCode"]
                c.remove_container(cid)
                assert code == 0, code
                with lock:
                    state["ns"].append(time.perf_counter_ns() - r)
            except Exception as e:  # reported below
                state["error"] = repr(e)

    t = time.perf_counter_ns()
    if concurrency == 1:
        worker()
    else:
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    if state["error"]:
        raise SystemExit(state["error"])
    return {"total_ns": time.perf_counter_ns() - t, "ns": state["ns"]}


def main(argv):
    mode = argv[1]
    if mode == "version":
        out = version(int(argv[2]))
    elif mode == "logs":
        out = logs(argv[2], len(argv) > 3 and argv[3] == "follow")
    elif mode == "archive":
        out = archive(argv[2], argv[3])
    elif mode == "lifecycle":
        out = lifecycle(int(argv[2]), int(argv[3]), argv[4])
    elif mode == "idle":
        client()  # negotiates the API version: one GET /version
        sys.stdout.write("ready\n")  # one write: lines of instances in one host may interleave
        sys.stdout.flush()
        time.sleep(3600)
        return
    elif mode == "about":
        out = {"docker_py": docker.__version__, "python": sys.version.split()[0]}
    else:
        raise SystemExit(f"unknown mode {mode}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
