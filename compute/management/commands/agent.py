"""Run the host agent of one hypervisor host, or a simulated fleet of N hosts (--simulate N)."""
from django.core.management.base import CommandError
from django.db import DatabaseError

from cloudproj.celery import host_queues
from cloudproj.exceptions import Invalid
from compute import agent, fleet
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
        "NODE_AVAILABILITY_ZONE sets the zone). "
        "With --simulate N one process serves N simulated hosts PREFIX00, PREFIX01, ... on "
        "libvirt's test driver (one connection, three queues, services and a compute node per "
        "host; firewall noop; no host hooks: see compute/fleet.py)."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--availability-zone", default=None, help="zone of nova-compute (default nova)")
        parser.add_argument("--simulate", type=int, default=0, metavar="N",
                            help="serve N simulated hosts in this process (libvirt test driver)")
        parser.add_argument("--prefix", default="sim-", help="simulated host names' prefix (default sim-)")
        parser.add_argument("--host-memory-mb", type=int, default=65536, help="each simulated host's memory")
        parser.add_argument("--host-vcpus", type=int, default=16, help="each simulated host's vCPUs")

    def handle(self, *args, **options):
        host = self.checked_options(options)
        if options["simulate"]:
            return self.simulate(options)
        try:
            agent.start_agent(host, options["availability_zone"])
        except DriverError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(f"cannot register the host's services: {exc}".strip()) from exc
        self.run_worker(f"agent@{host}", host_queues(host), options)

    def simulate(self, options) -> None:
        if options["simulate"] < 1 or options["host_memory_mb"] < 1 or options["host_vcpus"] < 1:
            raise CommandError("--simulate, --host-memory-mb and --host-vcpus must be at least 1")
        try:
            names = fleet.host_names(options["simulate"], options["prefix"])
        except Invalid as exc:
            raise CommandError(f"--prefix: {exc}") from exc
        try:
            fleet.start_fleet(names, options["host_memory_mb"], options["host_vcpus"], options["availability_zone"])
        except DriverError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(f"cannot register the hosts' services: {exc}".strip()) from exc
        try:
            self.run_worker(f"fleet@{names[0]}", fleet.fleet_queues(names), options)
        finally:
            fleet.stop_fleet()
