"""Boots through the API onto 50 simulated hosts (issue 7 benchmark 1, issue 21: at least 50
boots/s and POST->ACTIVE p50 under 100 ms on two cores), the memory of the API and of the
fleet process at idle and after the boots (benchmark 5), where the time of a boot goes, and
the per-boot query count.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/control_plane.py [--hosts 50] [--fleets 2] [--batches 100,500] \
            [--serial 20] [--clients 8] [--profile-boots 30]

Every part is the real one: gunicorn serving cloudproj.wsgi as `make run` starts it (2
workers x 4 threads), the scheduler worker (`./manage.py scheduler`), and --fleets
`./manage.py agent --simulate N` processes serving the --hosts simulated hosts between them
(libvirt's test driver: hosts of 16 vCPUs and 64 GB whose domains live in the fleet process;
one connection, three queues, services and a compute node per host; compute/fleet.py),
PostgreSQL and Redis. Until issue 21 each host was its own `./manage.py agent` process: 50
interpreters on two cores, which measured them, not the control plane. The network is served
by a host with no agent ("bench-dhcp"): its addresses live only in the database, and each
boot's DHCP refresh is one message to that host's queue; bench/real_guest.py measures real
dnsmasq. The fleet runs the firewall driver noop (50 "hosts" writing the one machine's
iptables would measure its lock); bench/real_guest.py has the real firewall.

A batch POSTs N servers from --clients threads at once; boots/s = N / (first POST -> last
ACTIVE), POST->ACTIVE of a server = its launched_at (written when it turns ACTIVE) minus the
moment its POST was sent. --serial servers are then booted one at a time (concurrency 1).
After each run, where the time went (medians over its servers, from the instance action
and its events): the API until the create action was written, the wait until the scheduler
started, each step and the wait before it (broker delivery to the fleet), and the last state
update. Then bench/boot_profile.py's per-step query count and time (one process, one boot
at a time, on a database of its own).
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def cpu_use(api, fleet_pids, scheduler_pid) -> dict:
    return {"API": sum(cpu_seconds(pid) for pid in children(api.proc.pid)),
            "scheduler": cpu_seconds(scheduler_pid), "fleet": sum(cpu_seconds(pid) for pid in fleet_pids)}


def cpu_report(before: dict, after: dict, boots: int) -> None:
    """CPU time per boot of each process (this script's own polling and PostgreSQL and Redis
    not counted): a figure the other load on the machine changes much less than the times."""
    if not boots:
        return
    per = {name: (after[name] - before[name]) * 1000 / boots for name in before}
    total = sum(per.values())
    print(f"  CPU per boot: {', '.join(f'{name} {ms:.1f} ms' for name, ms in per.items())}; total {total:.1f} ms "
          f"(two idle cores would allow at most ~{2000 / total:.0f} boots/s on these three alone)", flush=True)


def step_breakdown(label: str, sent: dict) -> None:
    """Where the time of the ACTIVE servers of a run went (medians, ms), from their create
    action (written by the API) and its events (written by the scheduler and the fleet)."""
    from compute.models import InstanceAction, InstanceActionEvent

    actions = {a.instance_id: a for a in InstanceAction.objects.filter(
        instance__uuid__in=list(sent), action="create").select_related("instance")}
    events: dict = {}
    for evt in InstanceActionEvent.objects.filter(action__in=list(actions.values())).order_by("start_time"):
        events.setdefault(evt.action_id, {})[evt.event] = evt
    parts: dict = {}

    def add(name, start, end):
        if start and end:
            parts.setdefault(name, []).append((end.timestamp() - start.timestamp()) * 1000)

    for action in actions.values():
        instance, steps = action.instance, events.get(action.id, {})
        if instance.vm_state != "active" or len(steps) != 4:
            continue
        posted = sent[str(instance.uuid)]
        parts.setdefault("API until its commit", []).append((action.start_time.timestamp() - posted) * 1000)
        previous = action.start_time
        for name in ("schedule", "allocate_ip", "fetch_image", "spawn"):
            add(f"wait for {name}", previous, steps[name].start_time)
            add(name, steps[name].start_time, steps[name].finish_time)
            previous = steps[name].finish_time
        add("ACTIVE written", previous, instance.launched_at)
    if not parts:
        return
    total = sum(statistics.median(v) for v in parts.values())
    print(f"  where the time went ({label}, medians over {len(parts['API until its commit'])} servers; "
          f"sum {total:.0f} ms):", flush=True)
    print("    " + ", ".join(f"{name} {statistics.median(values):.0f}" for name, values in parts.items()), flush=True)


def start_fleets(cloud, hosts: int, fleets: int, concurrency: int) -> list[str]:
    names = []
    for index in range(fleets):
        count = hosts // fleets + (1 if index < hosts % fleets else 0)
        prefix = "bench-" if fleets == 1 else f"bench-{chr(ord('a') + index)}"
        names += cloud.start_fleet(count, prefix=prefix, concurrency=concurrency, memory_mb=65536, vcpus=16)
    return names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--fleets", type=int, default=2, choices=(1, 2), help="fleet processes serving the hosts (default 2)")
    parser.add_argument("--batches", default="100,500")
    parser.add_argument("--serial", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8, help="threads POSTing at once")
    parser.add_argument("--fleet-concurrency", type=int, default=8, help="worker threads of each fleet process")
    parser.add_argument("--scheduler-concurrency", type=int, default=4)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--db-conn-max-age", type=int, default=300,
                        help="DB_CONN_MAX_AGE of every process (0: a new PostgreSQL connection, one backend "
                             "forked, per request and per task, which is the setting's default)")
    parser.add_argument("--profile-boots", type=int, default=30,
                        help="boots of the per-step query/time profile (bench/boot_profile.py); 0: none")
    args = parser.parse_args()
    import logging

    logging.disable(logging.WARNING)
    broker = own_redis_broker()
    work = Path(tempfile.mkdtemp(prefix="cloudproj-bench-cp-"))
    store = work / "store"
    settings.IMAGE_STORE_PATH = store
    from cloudproj.testing.cloud import Cloud, database_url

    with throwaway_database("cloudproj_bench_cp"):
        token, image = setup_world(store)
        env = {"REPORT_INTERVAL": "10", "SERVICE_DOWN_TIME": "60", "LOG_LEVEL": "WARNING",
               "DB_CONN_MAX_AGE": str(args.db_conn_max_age)}
        cloud = Cloud(work, broker, **env)
        api = Api({**cloud.env, "DATABASE_URL": database_url()}, work / "api.log", workers=args.api_workers)
        try:
            started = time.monotonic()
            cloud.start_scheduler(concurrency=args.scheduler_concurrency)
            hosts = start_fleets(cloud, args.hosts, args.fleets, args.fleet_concurrency)
            api.wait()
            cloud.wait_up(hosts, timeout=600)
            print(f"# control plane, {machine()}; {args.hosts} simulated hosts in {args.fleets} fleet process(es) "
                  f"({args.fleet_concurrency} threads each; DB_CONN_MAX_AGE {args.db_conn_max_age}) "
                  f"up in {time.monotonic() - started:.0f} s "
                  f"({load_average()})", flush=True)
            time.sleep(10)  # let start-up settle before the idle memory figure
            fleet_pids = [proc.pid for key, (proc, _log) in cloud.procs.items() if key.startswith("fleet-")]
            scheduler_pid = cloud.procs["scheduler"][0].pid

            def memory(when: str) -> str:
                return (f"memory {when}: API workers {', '.join(f'{m:.0f}' for m in api.workers_rss())} MB RSS; "
                        f"fleet {', '.join(f'{rss_mb(pid):.0f}' for pid in fleet_pids)} MB; "
                        f"scheduler {rss_mb(scheduler_pid):.0f} MB")

            print(memory("idle"), flush=True)
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
                cpu = cpu_use(api, fleet_pids, scheduler_pid)
                with ThreadPoolExecutor(args.clients) as pool:
                    list(pool.map(one, range(size)))
                rows = wait_settled(list(sent), timeout=600)
                report(f"{size} servers, {args.clients} clients", sent, rows, first)
                cpu_report(cpu, cpu_use(api, fleet_pids, scheduler_pid), len(sent))
                step_breakdown(f"{size} servers", sent)
                if refused:
                    print(f"  {len(refused)} POSTs refused, e.g.: {sorted(set(refused))[:3]}", flush=True)
            if args.serial:
                sent, rows = {}, {}
                first = time.time()
                cpu = cpu_use(api, fleet_pids, scheduler_pid)
                for _ in range(args.serial):
                    server, when = post_server(api.base, token, f"s{next(counter)}", "bench.nano", image)
                    sent[server] = when
                    rows.update(wait_settled([server], timeout=120))
                report(f"{args.serial} servers, one at a time", sent, rows, first)
                cpu_report(cpu, cpu_use(api, fleet_pids, scheduler_pid), len(sent))
                step_breakdown("one at a time", sent)
            print(memory("after") + f" ({hosts[0]} runs {count_on(hosts[0])} servers)", flush=True)
        finally:
            api.stop()
            cloud.stop()
            shutil.rmtree(work, ignore_errors=True)
    if args.profile_boots:
        from boot_profile import profile

        with throwaway_database("cloudproj_bench_bp"):
            profile(args.profile_boots, args.hosts, out=lambda line: print(line, flush=True))


def count_on(host: str) -> int:
    from compute.models import Instance

    return Instance.objects.filter(host=host).count()


if __name__ == "__main__":
    main()
