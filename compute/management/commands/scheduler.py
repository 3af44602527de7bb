"""Run the scheduler worker."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from cloudproj.celery import SCHEDULER_QUEUE, app
from compute import agent


class Command(BaseCommand):
    help = (
        "Run the scheduler: an in-process Celery worker (threads pool, hostname "
        "scheduler@CLOUD_HOST) consuming the `scheduler` queue. It registers a nova-scheduler "
        "service for CLOUD_HOST and heartbeats every REPORT_INTERVAL seconds. Equivalent celery "
        "invocation: `celery -A cloudproj worker -n scheduler@HOST -Q scheduler -P threads`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.CLOUD_HOST, help="host name (default CLOUD_HOST)")
        parser.add_argument("--concurrency", type=int, default=4, help="worker threads (default 4)")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, **options):
        host = options["host"]
        if not host or "@" in host or any(c.isspace() for c in host):
            raise CommandError(f"invalid host name {host!r}")
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1")
        try:
            agent.start_scheduler(host)
        except DatabaseError as exc:
            raise CommandError(f"cannot register the scheduler service: {exc}".strip()) from exc
        worker = app.Worker(
            hostname=f"scheduler@{host}",
            queues=[SCHEDULER_QUEUE],
            pool="threads",
            concurrency=options["concurrency"],
            loglevel=options["loglevel"],
        )
        try:
            worker.start()
        finally:
            agent.stop_all()
        return None
