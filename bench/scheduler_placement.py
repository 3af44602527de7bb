"""One placement over 100 to 1,000,000 compute hosts (issue 7, benchmark 3; issue 21: the
whole placement under 20 ms at 10,000 hosts, 100 ms at 100,000, 1 s at 1,000,000).

    DATABASE_URL=postgres://... .venv/bin/python bench/scheduler_placement.py \
        [--hosts 100,1000,10000,100000,1000000] [--runs 30] [--database cloudproj_bench_sched]

Fills a throw-away PostgreSQL database (--database) with N nova-compute services and their
compute nodes in SQL (generate_series; varied usage, every 10th host full, every 50th
disabled, so the filters have work; SERVICE_DOWN_TIME is raised so no host goes down during
the run), then times in-process, with the default filters and weighers:
  select   FilterScheduler.select_hosts: read the host states, filter, weigh (what Nova's
           scheduler measured);
  place    claims.schedule_and_claim: select + the capacity claim on the best free host
           (the whole `schedule` step minus the task plumbing), on a new BUILD instance each
           time.
Each line carries the SQL queries one call took; `place` also this process's CPU time
(not PostgreSQL's): on a loaded machine the wall time also counts the waits for a core.
"""
import argparse
import logging
import statistics
import time
import uuid

from _common import load_average, machine, setup_django, summary_ms, throwaway_database

setup_django()

from django.db import connection
from django.test.utils import CaptureQueriesContext


FILL_SQL = [
    """INSERT INTO compute_service (uuid, host, "binary", topic, availability_zone, disabled, forced_down,
                                    report_count, last_seen_up, created_at, updated_at)
       SELECT gen_random_uuid(), 'h' || lpad(i::text, 7, '0'), 'nova-compute', 'compute', 'nova', i %% 50 = 49,
              false, 0, now(), now(), now()
       FROM generate_series(0, %(count)s - 1) AS i""",
    """INSERT INTO compute_computenode (uuid, service_id, host, hypervisor_hostname, hypervisor_type,
           hypervisor_version, cpu_info, vcpus, memory_mb, local_gb, vcpus_used, memory_mb_used,
           local_gb_used, free_ram_mb, free_disk_gb, current_workload, running_vms, num_instances,
           created_at, updated_at)
       SELECT gen_random_uuid(), id, host, host, 'QEMU', 0, '{"arch": "x86_64"}', 32, 65536, 1000, i %% 32, used, i %% 100,
              65536 - used, 1000 - i %% 100, 0, 0, i %% 40, now(), now()
       FROM (SELECT id, host, i, CASE WHEN i %% 10 = 9 THEN 98000 ELSE 512 * (i %% 64) END AS used
             FROM (SELECT id, host, substr(host, 2)::int AS i FROM compute_service) AS numbered) AS sized""",
    "ANALYZE compute_service, compute_computenode",  # what autovacuum does within a minute
]


def populate(count: int) -> float:
    """`count` nova-compute services and their nodes, filled in PostgreSQL (generate_series):
    varied usage, every 10th host full, every 50th disabled, so the filters have work.
    Returns the seconds it took."""
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE compute_service, compute_computenode CASCADE")
        for sql in FILL_SQL:
            cursor.execute(sql, {"count": count})
    return time.perf_counter() - start


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
    parser.add_argument("--hosts", default="100,1000,10000,100000,1000000")
    parser.add_argument("--database", default="cloudproj_bench_sched", help="the throw-away database (dropped)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="cProfile one placement at the largest size")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the queries of one select at the largest size")
    args = parser.parse_args()
    sizes = [int(x) for x in args.hosts.split(",")]
    with throwaway_database(args.database):
        from django.conf import settings

        from compute.scheduler import claims, get_scheduler
        from compute.scheduler.request_spec import RequestSpec
        from identity.services import accounts

        project = accounts.create_project("bench")
        user = accounts.create_user("bench-user", "bench-pass", default_project=project)
        settings.SERVICE_DOWN_TIME = 24 * 3600  # the hosts' heartbeats stay recent through the run
        print(f"# scheduler placement, {machine()}, {connection.vendor}, {args.runs} runs each")
        for size in sizes:
            filled = populate(size)
            print(f"# {size} hosts filled in {filled:.1f} s  ({load_average()})")
            scheduler = get_scheduler()
            spec = RequestSpec.from_instance(new_instance(project, user))
            scheduler.select_hosts(spec)  # warm: imports, plans
            with CaptureQueriesContext(connection) as select_queries:
                scheduler.select_hosts(spec)
            select = time_calls(lambda: scheduler.select_hosts(spec), args.runs)
            instances = [new_instance(project, user) for _ in range(args.runs + 1)]
            with CaptureQueriesContext(connection) as queries:
                claims.schedule_and_claim(instances.pop())
            place, place_cpu = [], []
            for instance in instances:
                start, start_cpu = time.perf_counter(), time.process_time()
                claims.schedule_and_claim(instance)
                place.append((time.perf_counter() - start) * 1000)
                place_cpu.append((time.process_time() - start_cpu) * 1000)
            if args.profile and size == sizes[-1]:
                import cProfile
                import pstats

                profile = cProfile.Profile()
                profile.runcall(claims.schedule_and_claim, new_instance(project, user))
                pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
            if args.explain and size == sizes[-1]:
                explain(lambda: scheduler.select_hosts(spec))
            print(f"{size:>7} hosts  select  {summary_ms(select)}  {len(select_queries):2d} queries  ({load_average()})")
            print(f"{size:>7} hosts  place   {summary_ms(place)}  {len(queries):2d} queries  "
                  f"cpu p50 {statistics.median(place_cpu):6.2f} ms  ({load_average()})")


if __name__ == "__main__":
    main()
