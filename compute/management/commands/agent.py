"""Run the host agent of one hypervisor host."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from cloudproj.celery import app, host_queues
from compute import agent
from compute.virt.driver import DriverError


class Command(BaseCommand):
    help = (
        "Run the agent of hypervisor host HOST: an in-process Celery worker (threads pool, "
        "hostname agent@HOST) consuming exactly compute.HOST, network.HOST and volume.HOST. "
        "On start it registers nova-compute, nova-network and nova-volume for HOST and the "
        "host's compute node (capacity from libvirt at LIBVIRT_URI), then heartbeats every "
        "REPORT_INTERVAL seconds. Equivalent celery invocation: "
        "`celery -A cloudproj worker -n agent@HOST -Q compute.HOST,network.HOST,volume.HOST "
        "-P threads` (registration then happens through the worker_init signal; "
        "NODE_AVAILABILITY_ZONE sets the zone)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.CLOUD_HOST, help="host name (default CLOUD_HOST)")
        parser.add_argument("--availability-zone", default=None, help="zone of nova-compute (default nova)")
        parser.add_argument("--concurrency", type=int, default=4, help="worker threads (default 4)")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, **options):
        host = options["host"]
        if not host or "@" in host or any(c.isspace() for c in host):
            raise CommandError(f"invalid host name {host!r}")
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1")
        try:
            agent.start_agent(host, options["availability_zone"])
        except DriverError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(f"cannot register the host's services: {exc}".strip()) from exc
        worker = app.Worker(
            hostname=f"agent@{host}",
            queues=host_queues(host),
            pool="threads",
            concurrency=options["concurrency"],
            loglevel=options["loglevel"],
        )
        try:
            worker.start()
        finally:
            agent.stop_all()
        return None
