"""The per-boot path, step by step (issue 21): SQL queries, messages published (one
serialisation and one broker round trip each) and time of each step of a boot, measured in
one process on the real PostgreSQL and the real Redis broker (the messages are published,
then dropped: this process runs each step itself, as the worker that would receive it).

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/boot_profile.py [--boots 30] [--hosts 50] [--sql]

Steps: post (the API's POST /servers), schedule (the scheduler worker), allocate_ip,
fetch_image, spawn (the agent of the chosen host; libvirt's test driver, a simulated fleet
of --hosts hosts registered in this process). --sql prints every statement of the last boot.
"""
import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from _common import load_average, machine, member_with_token, own_redis_broker, setup_django, throwaway_database

setup_django()

from django.conf import settings


def setup_world(work: Path, hosts: int):
    from compute import fleet
    from compute.models import Flavor
    from identity.services import quotas
    from images.services.registry import register_image
    from network.services.networks import create_network

    settings.STATE_PATH = work
    settings.INSTANCES_PATH = work / "instances"
    settings.IMAGE_CACHE_PATH = work / "instances" / "_base"
    settings.IMAGE_STORE_PATH = work / "store"
    project, _user, token = member_with_token()
    quotas.set_quotas(project, {"instances": 100000, "cores": 100000, "ram": 100_000_000})
    Flavor.objects.create(flavorid="bench.nano", name="bench.nano", memory_mb=64, vcpus=1, root_gb=0)
    disk = work / "nano.raw"
    disk.write_bytes(b"\0" * 1024 * 1024)
    image = register_image(disk, "bench-image", disk_format="raw", visibility="public", owner=project)
    create_network("benchnet", "10.253.0.0/22", bridge="cptbn0", host="bench-dhcp")  # no agent: database only
    fleet.start_fleet(fleet.host_names(hosts, "bench-"), 65536, 16, interval=3600)
    return token, str(image.id)


def profile(boots: int, hosts: int, show_sql: bool = False, out=print) -> dict:
    """Boot `boots` servers one by one; returns {step: (median queries, median messages,
    median ms)} and prints the table (and the SQL of the last boot with show_sql)."""
    from cloudproj.celery import app
    from cloudproj.testing.boot_profile import profile_boot
    from cloudproj.testing.clients import TokenClient

    work = Path(tempfile.mkdtemp(prefix="cloudproj-bench-bp-"))
    try:
        token, image = setup_world(work, hosts)
        client = TokenClient(token)
        send = app.send_task
        runs = []
        for index in range(boots):
            body = {"server": {"name": f"p{index}", "flavorRef": "bench.nano", "imageRef": image}}
            runs.append(profile_boot(client, body, send=send))
        figures = {}
        for position, step in enumerate(runs[0]):
            column = [run[position] for run in runs[1:] or runs]  # the first boot warms caches
            figures[step.name] = (statistics.median(s.queries for s in column),
                                  statistics.median(s.messages for s in column),
                                  statistics.median(s.seconds for s in column) * 1000)
        out(f"per-boot path, {len(runs)} boots one at a time over {hosts} simulated hosts "
            f"(first boot not counted; medians)  ({load_average()})")
        out(f"  {'step':<12} {'queries':>7} {'messages':>8} {'ms':>8}")
        for name, (queries, messages, ms) in figures.items():
            out(f"  {name:<12} {queries:>7.0f} {messages:>8.0f} {ms:>8.1f}")
        total = [sum(v[i] for v in figures.values()) for i in range(3)]
        out(f"  {'total':<12} {total[0]:>7.0f} {total[1]:>8.0f} {total[2]:>8.1f}")
        if show_sql:
            for step in runs[-1]:
                out(f"-- {step.name}: {step.queries} queries")
                for sql in step.sql:
                    out("   " + sql[:300])
        return figures
    finally:
        from compute import fleet

        fleet.stop_fleet()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--boots", type=int, default=30)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--sql", action="store_true", help="print every statement of the last boot")
    args = parser.parse_args()
    import logging

    logging.disable(logging.WARNING)
    own_redis_broker()
    print(f"# boot profile, {machine()}", flush=True)
    with throwaway_database("cloudproj_bench_bp"):
        profile(args.boots, args.hosts, args.sql, out=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
