"""What `./manage.py agent` and `./manage.py scheduler` share: arguments, host-name checks and
running an in-process Celery worker (threads pool: libvirt's test driver keeps its state in
the process, DESIGN.md section 9)."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cloudproj.celery import app
from compute import agent
from cloudproj.exceptions import Invalid
from compute.services.hosts import validate_host_name


class WorkerCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.CLOUD_HOST, help="host name (default CLOUD_HOST)")
        parser.add_argument("--concurrency", type=int, default=4, help="worker threads (default 4)")
        parser.add_argument("--loglevel", default="INFO")

    def checked_options(self, options) -> str:
        try:
            host = validate_host_name(options["host"])
        except Invalid as exc:
            raise CommandError(str(exc)) from exc
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1")
        return host

    def run_worker(self, hostname: str, queues: list[str], options) -> None:
        worker = app.Worker(
            hostname=hostname,
            queues=queues,
            pool="threads",
            concurrency=options["concurrency"],
            loglevel=options["loglevel"],
        )
        try:
            worker.start()
        finally:
            agent.stop_all()
