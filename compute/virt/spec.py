"""InstanceSpec: everything the hypervisor driver needs to build a domain, as plain data.

The boot pipeline builds it from the Instance row (and the flavor, image cache and fixed
IPs); the driver never sees a Django model. `validate()` (called by `__post_init__`)
rejects anything that could not safely reach the domain XML or the file system.
"""
import os
import re
import uuid as uuidlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .driver import InvalidSpec

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
INSTANCE_NAME_TEMPLATE = "instance-%08x"
INSTANCE_NAME_RE = re.compile(r"^instance-[0-9a-f]{8,}\Z")  # names INSTANCE_NAME_TEMPLATE makes
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,254}\Z")
MAC_RE = re.compile(r"^fa:16:3e(:[0-9a-f]{2}){3}\Z")
# Linux interface names: IFNAMSIZ 16 incl. NUL -> at most 15 chars, no '/', ':' or blanks
BRIDGE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}\Z")
VIRT_TYPES = ("qemu", "kvm")
DISK_FORMATS = ("qcow2", "raw")
VNC_LISTEN_RE = re.compile(r"^(127\.0\.0\.1|0\.0\.0\.0|::1|::|\d{1,3}(\.\d{1,3}){3})\Z")
DEFAULT_CMDLINE = "root=/dev/vda console=ttyS0"
MAX_DISPLAY_NAME = 255
MAX_CMDLINE = 1024


def libvirt_name(instance_id: int) -> str:
    """The hypervisor name of instance row `instance_id` (Nova's `instance-%08x`)."""
    if not isinstance(instance_id, int) or isinstance(instance_id, bool) or instance_id < 0:
        raise InvalidSpec(f"instance id must be a non-negative integer, not {instance_id!r}")
    return INSTANCE_NAME_TEMPLATE % instance_id


def console_log_path(instances_path, name: str) -> str:
    """INSTANCES_PATH/<name>/console.log"""
    _check_name(name)
    return str(Path(instances_path) / name / "console.log")


@dataclass(frozen=True)
class Nic:
    mac: str
    bridge: str

    def __post_init__(self):
        if isinstance(self.mac, str):
            object.__setattr__(self, "mac", self.mac.lower())
        if not isinstance(self.mac, str) or not MAC_RE.match(self.mac):
            raise InvalidSpec(f"MAC address {self.mac!r} is not of the form fa:16:3e:xx:xx:xx (lower-case hex)")
        if not isinstance(self.bridge, str) or not BRIDGE_RE.match(self.bridge):
            raise InvalidSpec(
                f"bridge name {self.bridge!r} is not a valid interface name (1-15 chars of A-Z a-z 0-9 _ . -)"
            )


@dataclass
class InstanceSpec:
    uuid: str
    name: str
    memory_mb: int
    vcpus: int
    disk_path: str
    console_log_path: str
    display_name: str = ""
    disk_format: str = "qcow2"
    kernel_path: str | None = None
    initrd_path: str | None = None
    cmdline: str | None = None
    nics: list = field(default_factory=list)
    virt_type: str = "qemu"
    vnc: bool = True
    vnc_listen: str = "127.0.0.1"
    # attached volumes: {"kind", "path", "format", "target", "serial"} (see virt/volume_attach.py)
    volumes: list = field(default_factory=list)
    # booted from a volume: its connection (same keys) is the root disk vda, disk_path is unused
    root_volume: dict | None = None
    # the agent (host) that owns the domain, kept in its <metadata>: reconciliation only
    # ever touches domains of its own host (several agents may share one libvirt)
    host: str | None = None

    def __post_init__(self):
        for attr in ("disk_path", "console_log_path", "kernel_path", "initrd_path"):
            value = getattr(self, attr)
            if isinstance(value, os.PathLike):
                setattr(self, attr, os.fspath(value))
        if isinstance(self.display_name, str):
            self.display_name = clean_display_name(self.display_name)
        self.nics = [n if isinstance(n, Nic) else _nic(n) for n in (self.nics or [])]
        if self.kernel_path and self.cmdline is None:
            self.cmdline = DEFAULT_CMDLINE
        self.validate()

    @property
    def instance_dir(self) -> str:
        """The directory holding the console log (INSTANCES_PATH/<name>)."""
        return str(PurePosixPath(self.console_log_path).parent)

    @property
    def memory_kib(self) -> int:
        return self.memory_mb * 1024

    def validate(self) -> None:
        _check_name(self.name)
        try:
            parsed = uuidlib.UUID(str(self.uuid))
        except (ValueError, AttributeError, TypeError):
            raise InvalidSpec(f"uuid {self.uuid!r} is not a UUID") from None
        self.uuid = str(parsed)
        if not isinstance(self.display_name, str):
            raise InvalidSpec("display_name must be a string")
        if len(self.display_name) > MAX_DISPLAY_NAME:
            raise InvalidSpec(f"display_name is longer than {MAX_DISPLAY_NAME} characters")
        _positive_int("memory_mb", self.memory_mb, minimum=16, maximum=4 * 1024 * 1024)
        _positive_int("vcpus", self.vcpus, minimum=1, maximum=1024)
        _abs_path("disk_path", self.disk_path)
        _abs_path("console_log_path", self.console_log_path)
        if self.disk_format not in DISK_FORMATS:
            raise InvalidSpec(f"disk_format {self.disk_format!r} is not one of {', '.join(DISK_FORMATS)}")
        if self.kernel_path is not None:
            _abs_path("kernel_path", self.kernel_path)
        if self.initrd_path is not None:
            _abs_path("initrd_path", self.initrd_path)
            if self.kernel_path is None:
                raise InvalidSpec("initrd_path needs a kernel_path")
        if self.cmdline is not None:
            if self.kernel_path is None:
                raise InvalidSpec("cmdline needs a kernel_path")
            if not isinstance(self.cmdline, str) or len(self.cmdline) > MAX_CMDLINE:
                raise InvalidSpec(f"cmdline must be a string of at most {MAX_CMDLINE} characters")
            if any(ord(ch) < 32 for ch in self.cmdline):
                raise InvalidSpec("cmdline contains control characters")
        if self.virt_type not in VIRT_TYPES:
            raise InvalidSpec(f"virt_type {self.virt_type!r} is not one of {', '.join(VIRT_TYPES)}")
        if not isinstance(self.vnc, bool):
            raise InvalidSpec("vnc must be a boolean")
        if not isinstance(self.vnc_listen, str) or not VNC_LISTEN_RE.match(self.vnc_listen):
            raise InvalidSpec(f"vnc_listen {self.vnc_listen!r} is not an IP address")
        if self.host is not None and (not isinstance(self.host, str) or not HOST_RE.match(self.host)):
            raise InvalidSpec(f"host {self.host!r} is not a valid host name")
        macs = [n.mac for n in self.nics]
        if len(set(macs)) != len(macs):
            raise InvalidSpec("two NICs have the same MAC address")


_XML_UNSAFE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_display_name(value: str) -> str:
    """The display name as XML 1.0 can carry it unchanged through libvirt: CR/CRLF become
    LF (an XML parser would fold them anyway); other control characters, lone surrogates
    and U+FFFE/U+FFFF become U+FFFD. It is metadata only, so nothing else is touched."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _XML_UNSAFE_RE.sub("\ufffd", value)


def _nic(value) -> Nic:
    if isinstance(value, dict):
        return Nic(mac=value.get("mac"), bridge=value.get("bridge"))  # type: ignore[arg-type]  # checked by Nic
    try:
        mac, bridge = value
    except (TypeError, ValueError):
        raise InvalidSpec(f"a NIC is a (mac, bridge) pair, not {value!r}") from None
    return Nic(mac=mac, bridge=bridge)


def _check_name(name) -> None:
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise InvalidSpec(
            f"instance name {name!r} is not valid (1-64 chars of A-Z a-z 0-9 _ . -, starting alphanumeric)"
        )


def _positive_int(what: str, value, minimum: int, maximum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidSpec(f"{what} must be an integer, not {value!r}")
    if not minimum <= value <= maximum:
        raise InvalidSpec(f"{what} must be between {minimum} and {maximum}, not {value}")


def _abs_path(what: str, value) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidSpec(f"{what} must be a non-empty string path")
    path = PurePosixPath(value)
    if not path.is_absolute():
        raise InvalidSpec(f"{what} {value!r} is not an absolute path")
    if ".." in path.parts:
        raise InvalidSpec(f"{what} {value!r} contains '..'")
    if any(ord(ch) < 32 or ch == "\x7f" for ch in value) or "," in value:
        # a comma would be split by QEMU's option parser if a path ever reached -drive
        raise InvalidSpec(f"{what} {value!r} contains control characters or a comma")
