"""./manage.py build_test_image [--register] [--name cloudproj-test] [--output DIR] [--force]"""
import time

from django.core.management.base import BaseCommand, CommandError

from images.testimage import builder


class Command(BaseCommand):
    help = "Build the small UEC-style test image (aki/ari/ami) offline from Debian packages."

    def add_arguments(self, parser):
        parser.add_argument("--register", action="store_true", help="register aki, ari and ami as public images")
        parser.add_argument("--name", default="cloudproj-test")
        parser.add_argument("--output", help="build directory (default STATE_PATH/testimage)")
        parser.add_argument("--force", action="store_true", help="rebuild even when the inputs did not change")
        parser.add_argument("--kernel-package", help="e.g. linux-image-6.1.0-56-cloud-amd64 (default: newest)")

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            image = builder.build(options["output"], force=options["force"], kernel_package=options["kernel_package"])
        except builder.BuildError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"kernel   {image.kernel} ({image.kernel_version})")
        self.stdout.write(f"ramdisk  {image.ramdisk}")
        self.stdout.write(f"root     {image.root}")
        self.stdout.write(f"cmdline  {image.cmdline}")
        if options["register"]:
            from images.services.registry import ImageError

            try:
                images = builder.register(image, options["name"])
            except ImageError as exc:
                raise CommandError(exc.message) from None
            for role in ("kernel", "ramdisk", "root"):
                img = images[role]
                self.stdout.write(f"{role}_id {img.id}  {img.name} ({img.disk_format}, {img.size} bytes)")
        self.stdout.write(f"done in {time.monotonic() - started:.1f}s")
