"""Run the host agent of one hypervisor host."""
from django.core.management.base import CommandError
from django.db import DatabaseError

from cloudproj.celery import host_queues
from compute import agent
from compute.management.worker_command import WorkerCommand
from compute.virt.driver import DriverError


class Command(WorkerCommand):
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
        super().add_arguments(parser)
        parser.add_argument("--availability-zone", default=None, help="zone of nova-compute (default nova)")

    def handle(self, *args, **options):
        host = self.checked_options(options)
        try:
            agent.start_agent(host, options["availability_zone"])
        except DriverError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(f"cannot register the host's services: {exc}".strip()) from exc
        self.run_worker(f"agent@{host}", host_queues(host), options)
