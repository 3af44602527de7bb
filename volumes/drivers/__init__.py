"""Volume drivers (the only code of this app that touches the host): `file` and `lvm`.

    get_driver()            the driver settings.VOLUME_DRIVER names, configured from settings
    get_driver("lvm")       a given one (a volume keeps the driver it was made with)

Cross-host volumes (volume host != the server's compute host) would be exported over iSCSI
(tgt's `tgtadm` or LIO's `targetcli` on the volume host, `iscsiadm` on the compute host, the
way the seeds' ISCSIDriver does). Neither target tool is installed on these machines and the
kernel has no iSCSI target support to test against, so such an attach is refused with that
reason (volumes/services/attachments.py); see volumes/README.md.
"""
from django.conf import settings

from .base import Connection, DeviceMapperMissing, Stats, VolumeDriver, VolumeDriverError  # noqa: F401

DRIVERS = ("file", "lvm")


def get_driver(name: str | None = None) -> VolumeDriver:
    name = name or settings.VOLUME_DRIVER
    if name == "file":
        from .file import FileDriver

        return FileDriver(settings.VOLUMES_PATH, fmt=settings.VOLUME_FILE_FORMAT, clear=settings.VOLUME_CLEAR,
                          clear_size_mb=settings.VOLUME_CLEAR_SIZE_MB, capacity_gb=settings.VOLUME_FILE_CAPACITY_GB)
    if name == "lvm":
        from .lvm import LVMDriver

        return LVMDriver(settings.VOLUME_GROUP, activate=settings.VOLUME_LVM_ACTIVATE, clear=settings.VOLUME_CLEAR,
                         clear_size_mb=settings.VOLUME_CLEAR_SIZE_MB)
    raise VolumeDriverError(f"unknown volume driver {name!r} ({', '.join(DRIVERS)})")
