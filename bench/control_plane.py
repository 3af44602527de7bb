"""Boots through the API onto 50 simulated hosts (issue 7, benchmark 1: at least 50 boots/s
and POST->ACTIVE p50 under 100 ms on two cores), plus the memory of the API and of one host
agent at idle and after the boots (benchmark 5).

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/control_plane.py [--hosts 50] [--batches 100,500] [--serial 20] [--clients 8]

Every part is the real one: gunicorn serving cloudproj.wsgi as `make run` starts it (2
workers x 4 threads), the scheduler worker (`./manage.py scheduler`), and one
`./manage.py agent` process per simulated host on libvirt's test driver (`test:///<node
xml>`: a host of 16 vCPUs and 64 GB whose domains live in the agent process), PostgreSQL
and Redis. An agent process serves exactly one host (the code keeps one host per process),
so 50 hosts are 50 processes; each runs with --concurrency 2 and the default REPORT_INTERVAL
(10 s), so heartbeats do not flood the database. The network is served by a host with no
agent ("bench-dhcp"): its addresses live only in the database, and each boot's DHCP refresh
is one message to that host's queue; bench/real_guest.py measures real dnsmasq. The agents
run with FIREWALL_DRIVER=noop unless --firewall-driver iptables: 50 "hosts" writing the one
machine's iptables wait for each other on its lock (while holding database connections),
which measures iptables, not the control plane; bench/real_guest.py has the real firewall.

A batch POSTs N servers from --clients threads at once; boots/s = N / (first POST -> last
ACTIVE), POST->ACTIVE of a server = its launched_at (written when it turns ACTIVE) minus the
moment its POST was sent. --serial servers are then booted one at a time (concurrency 1).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import (
    ROOT, load_average, machine, member_with_token, own_redis_broker,
    percentile, setup_django, throwaway_database,
)

setup_django()

from django.conf import settings


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Api:
    """gunicorn cloudproj.wsgi on the bench database, as scripts/run.py starts it."""

    def __init__(self, env: dict, log: Path, workers: int = 2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "cloudproj.wsgi", "--config", "python:cloudproj.gunicorn_conf",
             "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--threads", "4", "--graceful-timeout", "5"],
            cwd=ROOT, env=env, stdout=open(log, "a"), stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/compute/v2.1/", timeout=2)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("gunicorn exited") from None
                time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer")

    def workers_rss(self) -> list[float]:
        return [rss_mb(pid) for pid in children(self.proc.pid)]

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def post_server(base: str, token: str, name: str, flavor: str, image: str) -> tuple[str, float]:
    body = json.dumps({"server": {"name": name, "flavorRef": flavor, "imageRef": image}}).encode()
    request = urllib.request.Request(f"{base}/compute/v2.1/servers", data=body, method="POST",
                                     headers={"X-Auth-Token": token, "Content-Type": "application/json"})
    sent = time.time()
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())["server"]["id"], sent


def wait_settled(ids, timeout: float) -> dict:
    """{uuid: (vm_state, launched_at epoch)} once every server is ACTIVE or ERROR."""
    from compute.models import Instance

    deadline = time.monotonic() + timeout
    while True:
        rows = {str(u): (s, t.timestamp() if t else None) for u, s, t in Instance.all_objects.filter(
            uuid__in=list(ids), vm_state__in=("active", "error")).values_list("uuid", "vm_state", "launched_at")}
        if len(rows) == len(ids) or time.monotonic() > deadline:
            return rows
        time.sleep(0.01 if len(ids) == 1 else 0.2)


def report(label: str, sent: dict, rows: dict, started: float):
    latencies = [(rows[u][1] - sent[u]) * 1000 for u in sent if u in rows and rows[u][0] == "active"]
    errors = sum(1 for u in sent if u in rows and rows[u][0] == "error")
    missing = len(sent) - len(rows)
    last = max((t for _s, t in rows.values() if t), default=started)
    rate = len(latencies) / (last - started) if last > started else float("nan")
    print(f"{label}: {len(latencies)} ACTIVE, {errors} ERROR, {missing} unfinished; {rate:.1f} boots/s over "
          f"{last - started:.1f} s; POST->ACTIVE p50 {statistics.median(latencies):.0f} ms "
          f"p99 {percentile(latencies, 0.99):.0f} ms max {max(latencies):.0f} ms  ({load_average()})", flush=True)


def setup_world(store: Path):
    from compute.models import Flavor
    from identity.services import quotas
    from images.services.registry import register_image
    from network.services.networks import create_network

    project, _user, token = member_with_token()
    quotas.set_quotas(project, {"instances": 10000, "cores": 10000, "ram": 10_000_000})
    Flavor.objects.create(flavorid="bench.nano", name="bench.nano", memory_mb=64, vcpus=1, root_gb=0)
    disk = store.parent / "nano.raw"
    disk.write_bytes(b"\0" * 1024 * 1024)
    image = register_image(disk, "bench-image", disk_format="raw", visibility="public", owner=project)
    create_network("benchnet", "10.253.0.0/22", bridge="cptbn0", host="bench-dhcp")  # no agent: database only
    return token, str(image.id)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--batches", default="100,500")
    parser.add_argument("--serial", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8, help="threads POSTing at once")
    parser.add_argument("--agent-concurrency", type=int, default=2)
    parser.add_argument("--firewall-driver", default="noop", choices=("noop", "iptables"),
                        help="noop (default): the 50 simulated hosts would all rewrite this one "
                             "machine's iptables, serialised by its lock; that is not the control plane")
    args = parser.parse_args()
    import logging

    logging.disable(logging.WARNING)
    broker = own_redis_broker()
    work = Path(tempfile.mkdtemp(prefix="cloudproj-bench-cp-"))
    store = work / "store"
    settings.IMAGE_STORE_PATH = store
    from cloudproj.testing.cloud import Cloud, database_url, node_xml

    with throwaway_database("cloudproj_bench_cp"):
        token, image = setup_world(store)
        env = {"REPORT_INTERVAL": "10", "SERVICE_DOWN_TIME": "60", "LOG_LEVEL": "WARNING",
               "FIREWALL_DRIVER": args.firewall_driver}
        cloud = Cloud(work, broker, **env)
        api = Api({**cloud.env, "DATABASE_URL": database_url()}, work / "api.log")
        hosts = [f"bench-{i:02d}" for i in range(args.hosts)]
        try:
            started = time.monotonic()
            cloud.start_scheduler(concurrency=4)
            for host in hosts:
                cloud.start_agent(host, concurrency=args.agent_concurrency,
                                  LIBVIRT_URI=node_xml(work / f"{host}.xml", 65536, vcpus=16))
            api.wait()
            cloud.wait_up(hosts, timeout=600)
            print(f"# control plane, {machine()}; {args.hosts} agents up in {time.monotonic() - started:.0f} s "
                  f"({load_average()})", flush=True)
            time.sleep(10)  # let start-up settle before the idle memory figure
            agent_pid = cloud.procs[f"agent-{hosts[0]}"][0].pid
            print(f"memory idle:  API workers {', '.join(f'{m:.0f}' for m in api.workers_rss())} MB RSS; "
                  f"agent {rss_mb(agent_pid):.0f} MB; scheduler {rss_mb(cloud.procs['scheduler'][0].pid):.0f} MB",
                  flush=True)

            counter = iter(range(10**9))
            for size in [int(x) for x in args.batches.split(",") if x]:
                sent, refused = {}, []
                lock = threading.Lock()

                def one(_):
                    try:
                        server, when = post_server(api.base, token, f"b{next(counter)}", "bench.nano", image)
                    except urllib.error.HTTPError as exc:  # counted and shown, the batch goes on
                        with lock:
                            refused.append(f"{exc.code} {exc.read().decode(errors='replace')[:200]}")
                        return
                    with lock:
                        sent[server] = when

                first = time.time()
                with ThreadPoolExecutor(args.clients) as pool:
                    list(pool.map(one, range(size)))
                rows = wait_settled(list(sent), timeout=600)
                report(f"{size} servers, {args.clients} clients", sent, rows, first)
                if refused:
                    print(f"  {len(refused)} POSTs refused, e.g.: {sorted(set(refused))[:3]}", flush=True)
            if args.serial:
                sent, rows = {}, {}
                first = time.time()
                for _ in range(args.serial):
                    server, when = post_server(api.base, token, f"s{next(counter)}", "bench.nano", image)
                    sent[server] = when
                    rows.update(wait_settled([server], timeout=120))
                report(f"{args.serial} servers, one at a time", sent, rows, first)
            print(f"memory after: API workers {', '.join(f'{m:.0f}' for m in api.workers_rss())} MB RSS; "
                  f"agent {rss_mb(agent_pid):.0f} MB; scheduler {rss_mb(cloud.procs['scheduler'][0].pid):.0f} MB "
                  f"(agent {hosts[0]} runs {count_on(hosts[0])} servers)", flush=True)
        finally:
            api.stop()
            cloud.stop()
            shutil.rmtree(work, ignore_errors=True)


def count_on(host: str) -> int:
    from compute.models import Instance

    return Instance.objects.filter(host=host).count()


if __name__ == "__main__":
    main()
