"""GET /compute/v2.1/servers/detail?limit=1000 with 10,000 servers and 100,000 deleted rows
(issue 7, benchmark 4: p50 under 150 ms; the SQL query count independent of page size).

    DATABASE_URL=postgres://... .venv/bin/python bench/api_servers_detail.py \
        [--servers 10000] [--deleted 100000] [--runs 20] [--profile] [--database cloudproj_bench_api]

Fills a throw-away database (--database, dropped): one project with N live servers (each with
a fixed IP, every 50th in ERROR with a fault) and M deleted ones, 20 hosts. The rows live
only in the database (the network's addresses never reach a bridge). Times the request
in-process with Django's test client and a real Keystone token (authentication, policy,
query, serialization, JSON rendering; no network), and counts its SQL queries at page sizes
10, 100 and 1000.
"""
import argparse
import json
import logging
import statistics
import time
import uuid

from _common import load_average, machine, percentile, setup_django, throwaway_database

setup_django()

from django.db import connection
from django.test.utils import CaptureQueriesContext

PATH = "/compute/v2.1/servers/detail"


def populate(live: int, deleted: int):
    from django.utils import timezone

    from compute.models import Instance, InstanceFault, Service
    from identity.services import accounts
    from identity.models import Role
    from network.models import FixedIP
    from network.services.networks import create_network

    accounts.ensure_default_roles()
    project = accounts.create_project("bench")
    user = accounts.create_user("bench-user", "bench-pass", default_project=project)
    accounts.assign_role(user, Role.objects.get(name="member"), project)
    for i in range(20):
        Service.objects.create(host=f"bench-{i}", binary="nova-compute", topic="compute",
                               availability_zone="nova", last_seen_up=timezone.now())
    now = timezone.now()

    def row(index, gone):
        return Instance(
            uuid=uuid.uuid4(), display_name=f"vm-{index}", hostname=f"vm-{index}", project=project, user=user,
            flavorid="m1.tiny", flavor_name="m1.tiny", memory_mb=512, vcpus=1, reservation_id=f"r-{index}",
            vm_state="deleted" if gone else ("error" if index % 50 == 0 else "active"), power_state=1,
            host=f"bench-{index % 20}", key_name="bench-key", image_ref=str(uuid.uuid4()),
            created_at=now - timezone.timedelta(seconds=index), deleted_at=now if gone else None,
            launched_at=now, metadata={"role": "bench"}, security_groups=[{"name": "default"}])

    for start in range(0, deleted, 10000):
        Instance.all_objects.bulk_create([row(live + i, True) for i in range(start, min(deleted, start + 10000))],
                                         batch_size=2000)
    rows = [row(i, False) for i in range(live)]
    Instance.objects.bulk_create(rows, batch_size=2000)
    network = create_network("benchnet", "10.253.0.0/18", bridge="cptbn9")  # database rows only
    free = list(FixedIP.objects.filter(network=network, reserved=False).order_by("id")[:live])
    for instance, fixed in zip(rows, free):
        fixed.instance_uuid, fixed.allocated, fixed.host = instance.uuid, True, instance.host
    FixedIP.objects.bulk_update(free, ["instance_uuid", "allocated", "host"], batch_size=2000)
    InstanceFault.objects.bulk_create([
        InstanceFault(instance=instance, code=500, message="No valid host was found.", details="")
        for instance in rows[::50]])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    from identity.services.tokens import issue_token

    token, _row = issue_token(user, project)
    return token


def main():
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", type=int, default=10000)
    parser.add_argument("--deleted", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="cProfile one request")
    parser.add_argument("--database", default="cloudproj_bench_api", help="the throw-away database (dropped)")
    args = parser.parse_args()
    with throwaway_database(args.database):
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections
        from django.test import Client

        # one connection for the whole run (the query counts then see every query)
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        started = time.monotonic()
        token = populate(args.servers, args.deleted)
        print(f"# servers/detail, {machine()}, {connection.vendor}; {args.servers} servers + {args.deleted} "
              f"deleted rows (filled in {time.monotonic() - started:.0f} s)")
        client = Client(HTTP_X_AUTH_TOKEN=token)
        for limit in (10, 100, 1000):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(PATH, {"limit": limit})
            assert response.status_code == 200, response.content[:500]
            count = len(json.loads(response.content)["servers"])
            print(f"limit={limit:<5} {count:>5} servers  {len(queries):>3} SQL queries")
        if args.profile:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.runcall(client.get, PATH, {"limit": 1000})
            pstats.Stats(profile).sort_stats("tottime").print_stats(20)
        times, cpu = [], []
        for _ in range(args.runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(PATH, {"limit": 1000})
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        # cpu: this process's CPU time (not PostgreSQL's): on a loaded machine the wall time
        # also counts the waits for a core
        print(f"limit=1000 x{args.runs}: p50 {statistics.median(times):.1f} ms  p99 {percentile(times, 0.99):.1f} ms  "
              f"max {max(times):.1f} ms  cpu p50 {statistics.median(cpu):.1f} ms  "
              f"({len(response.content) // 1024} KiB)  ({load_average()})")


if __name__ == "__main__":
    main()
