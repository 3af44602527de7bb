"""Run the scheduler worker."""
from django.core.management.base import CommandError
from django.db import DatabaseError

from cloudproj.celery import SCHEDULER_QUEUE
from compute import agent
from compute.management.worker_command import WorkerCommand


class Command(WorkerCommand):
    help = (
        "Run the scheduler: an in-process Celery worker (threads pool, hostname "
        "scheduler@CLOUD_HOST) consuming the `scheduler` queue. It registers a nova-scheduler "
        "service for CLOUD_HOST and heartbeats every REPORT_INTERVAL seconds. Equivalent celery "
        "invocation: `celery -A cloudproj worker -n scheduler@HOST -Q scheduler -P threads`."
    )

    def handle(self, *args, **options):
        host = self.checked_options(options)
        try:
            agent.start_scheduler(host)
        except DatabaseError as exc:
            raise CommandError(f"cannot register the scheduler service: {exc}".strip()) from exc
        self.run_worker(f"scheduler@{host}", [SCHEDULER_QUEUE], options)
