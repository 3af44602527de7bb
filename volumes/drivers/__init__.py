"""Volume drivers (the only code of this app that touches the host): `file` and `lvm`.

    get_driver()            the driver settings.VOLUME_DRIVER names, configured from settings
    get_driver("lvm")       a given one (a volume keeps the driver it was made with)

    get_export()            the iSCSI exporter (tgt) for volumes attached from another host,
                            or None when VOLUME_EXPORT is "none" (see iscsi.py)
"""
from django.conf import settings

from .base import Connection, DeviceMapperMissing, Stats, VolumeDriver, VolumeDriverError  # noqa: F401 - re-exported

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


def get_export():
    if settings.VOLUME_EXPORT == "none":
        return None
    if settings.VOLUME_EXPORT != "tgt":
        raise VolumeDriverError(f"unknown VOLUME_EXPORT {settings.VOLUME_EXPORT!r} (tgt or none)")
    # imported only when exporting: libvirt_driver imports libvirt, tgt is optional
    from compute.virt.libvirt_driver import _host_ip

    from .iscsi import TgtExport

    return TgtExport(settings.ISCSI_IQN_PREFIX, settings.ISCSI_IP_ADDRESS or _host_ip(), settings.ISCSI_PORT,
                     settings.TGT_CONTROL_PORT)
