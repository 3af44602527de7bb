"""One placement over 100, 1,000 and 10,000 compute hosts (issue 7, benchmark 3: under 20 ms
at 10,000).

    DATABASE_URL=postgres://... .venv/bin/python bench/scheduler_placement.py [--hosts 100,1000,10000] [--runs 30]

Fills a throw-away database (cloudproj_bench_sched) with N nova-compute services and their
compute nodes (varied usage, every 10th host full, every 50th disabled, so the filters
have work), then times in-process, with the default filters and weighers:
  select   FilterScheduler.select_hosts: read the host states, filter, weigh (what Nova's
           scheduler measured);
  place    claims.schedule_and_claim: select + the capacity claim on the best free host
           (the whole `schedule` step minus the task plumbing), on a new BUILD instance each
           time, with its SQL query count.
"""
import argparse
import logging
import time
import uuid

from _common import load_average, machine, setup_django, summary_ms, throwaway_database

setup_django()

from django.db import connection
from django.test.utils import CaptureQueriesContext


def populate(count: int, offset: int):
    from django.utils import timezone

    from compute.models import ComputeNode, Service

    now = timezone.now()
    services = Service.objects.bulk_create([
        Service(host=f"h{offset + i:05d}", binary="nova-compute", topic="compute", availability_zone="nova",
                last_seen_up=now, disabled=(i % 50 == 49))
        for i in range(count)], batch_size=1000)
    nodes = []
    for i, service in enumerate(services):
        full = i % 10 == 9
        node = ComputeNode(service=service, host=service.host, hypervisor_hostname=service.host,
                           hypervisor_type="QEMU", cpu_info={"arch": "x86_64"},
                           vcpus=32, memory_mb=65536, local_gb=1000, vcpus_used=i % 32,
                           memory_mb_used=98000 if full else 512 * (i % 64), local_gb_used=i % 100,
                           num_instances=i % 40)
        node.recompute_free()
        nodes.append(node)
    ComputeNode.objects.bulk_create(nodes, batch_size=1000)
    with connection.cursor() as cursor:  # what autovacuum does within a minute of such a change
        cursor.execute("ANALYZE compute_service, compute_computenode")


def new_instance(project, user):
    from compute.models import Instance

    return Instance.objects.create(
        uuid=uuid.uuid4(), display_name="bench", hostname="bench", project=project, user=user,
        flavorid="m1.small", flavor_name="m1.small", memory_mb=2048, vcpus=1, root_gb=20,
        reservation_id="r-bench", vm_state="building", task_state="scheduling", image_ref=str(uuid.uuid4()),
        image_properties={"architecture": "x86_64"})


def time_calls(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def explain(call):
    with CaptureQueriesContext(connection) as queries:
        call()
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:  # replayed: settings, savepoints and all
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.startswith("SELECT") or "FROM" not in sql:
                if not sql.startswith(("BEGIN", "COMMIT")):
                    cursor.execute(sql)
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            print(sql[:400], "...")
            print("\n".join(row[0] for row in cursor.fetchall()))


def main():
    logging.disable(logging.INFO)  # one "claimed ..." line per placement is not the figure
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="cProfile one placement at the largest size")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the queries of one select at the largest size")
    args = parser.parse_args()
    sizes = [int(x) for x in args.hosts.split(",")]
    with throwaway_database("cloudproj_bench_sched"):
        from django.utils import timezone

        from compute.models import ComputeNode, Service
        from compute.scheduler import claims, get_scheduler
        from compute.scheduler.request_spec import RequestSpec
        from identity.services import accounts

        project = accounts.create_project("bench")
        user = accounts.create_user("bench-user", "bench-pass", default_project=project)
        print(f"# scheduler placement, {machine()}, {connection.vendor}, {args.runs} runs each")
        for size in sizes:
            ComputeNode.objects.all().delete()
            Service.objects.all().delete()
            populate(size, 0)
            scheduler = get_scheduler()
            spec = RequestSpec.from_instance(new_instance(project, user))
            scheduler.select_hosts(spec)  # warm: imports, plans
            select = time_calls(lambda: scheduler.select_hosts(spec), args.runs)
            instances = [new_instance(project, user) for _ in range(args.runs + 1)]
            with CaptureQueriesContext(connection) as queries:
                claims.schedule_and_claim(instances.pop())
            place = []
            for instance in instances:
                Service.objects.update(last_seen_up=timezone.now())  # the run outlasts SERVICE_DOWN_TIME
                start = time.perf_counter()
                claims.schedule_and_claim(instance)
                place.append((time.perf_counter() - start) * 1000)
            if args.profile and size == sizes[-1]:
                import cProfile
                import pstats

                Service.objects.update(last_seen_up=timezone.now())
                profile = cProfile.Profile()
                profile.runcall(claims.schedule_and_claim, new_instance(project, user))
                pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
            if args.explain and size == sizes[-1]:
                explain(lambda: scheduler.select_hosts(spec))
            print(f"{size:>6} hosts  select  {summary_ms(select)}  ({load_average()})")
            print(f"{size:>6} hosts  place   {summary_ms(place)}  {len(queries)} queries  ({load_average()})")


if __name__ == "__main__":
    main()
