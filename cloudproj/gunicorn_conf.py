"""gunicorn settings of the API (`gunicorn -c python:cloudproj.gunicorn_conf cloudproj.wsgi`):
Prometheus multiprocess mode, so `/metrics` adds up every prefork worker's samples whatever
served the scrape (any worker class: the hooks run in the master).

PROMETHEUS_MULTIPROC_DIR (default: a fresh temporary directory) is emptied when the master
starts, handed to the workers through the environment before they import prometheus_client,
and a worker that exits is marked dead (its live gauges go; its counts stay, as counts must).
A directory the master made itself is removed when it exits.
"""
import os
import shutil
import tempfile
from pathlib import Path

_made_here = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_here:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cloudproj-api-metrics-")


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # samples of an earlier master's workers
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_here:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

# Idle keep-alive connections stay open 75 s (nginx's default), not gunicorn's 2 s: clients
# poll every 2 s (`openstack server delete --wait`), and a server closing the pooled connection
# just as the client reuses it answers the request with a connection reset.
keepalive = 75
