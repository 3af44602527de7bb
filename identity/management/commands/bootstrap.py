"""./manage.py bootstrap: seed the cloud's defaults and write the admin's credentials."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from identity.services import bootstrap


class Command(BaseCommand):
    help = (
        "Create what a new cloud needs (roles, the five flavors, the admin and demo projects, the "
        "admin user, the default network) and write the admin's openrc and clouds.yaml. Running it again reuses what is there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--admin-password", help="use this password (default: the saved one, or a new random one)")
        parser.add_argument(
            "--credentials-dir",
            default=str(settings.CLOUD_DIR),
            help="where openrc, clouds.yaml and the saved admin password go (default: CLOUD_DIR, .cloud/)",
        )

    def handle(self, *args, **options):
        credentials_dir = Path(options["credentials_dir"])
        result = bootstrap.seed_defaults(options["admin_password"], credentials_dir)
        openrc, clouds_yaml = bootstrap.write_credentials(result, credentials_dir)
        self.stdout.write(f"admin user: {result.admin.username} (project {result.admin_project.name})")
        if result.password_generated:
            self.stdout.write("a new admin password was generated")
        self.stdout.write(f"credentials: {openrc}  {clouds_yaml}")
        from network.services.networks import ensure_default_network

        network = ensure_default_network()
        self.stdout.write(f"network: {network.label} {network.cidr} on bridge {network.bridge}")
