"""Exporting a volume to another host over iSCSI with tgt (the seeds' ISCSIDriver did the
same with `tgtadm`/`ietadm`), for a server whose compute host is not the volume's host.

The volume host runs `tgtd` (started here when its control port does not answer, with the
portal ISCSI_IP_ADDRESS:ISCSI_PORT) and each exported volume is one target
`ISCSI_IQN_PREFIX<volume-%08x>` whose LUN 1 is the volume's file or logical volume. The
compute host needs no kernel initiator: QEMU opens the LUN itself (its libiscsi block driver,
Debian's qemu-block-extra), so the guest sees the same virtio disk as for a local volume.

What these machines allow: tgt and qemu-block-extra install from Debian and work entirely in
userspace (tests run their own tgtd on a private control port and portal). LIO
(`targetcli`) needs the kernel's target_core/iscsi_target modules and configfs, and the
kernel initiator (`iscsiadm`) needs iscsi_tcp: this kernel has neither (no modules, no
configfs), so those paths are not used.
"""
import re
import shutil
import time

from cloudproj.host.run import run as run_command

from .base import Connection, VolumeDriverError, check_name, run

IQN_PREFIX_RE = re.compile(r"^iqn\.\d{4}-\d{2}\.[a-z0-9.-]+:$")
IP_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
TARGET_RE = re.compile(r"^Target (\d+): (\S+)$", re.M)
LUN = 1


class TgtExport:
    def __init__(self, iqn_prefix: str, ip: str, port: int = 3260, control_port: int = 0):
        if not IQN_PREFIX_RE.match(iqn_prefix) or not IP_RE.match(ip or ""):
            raise VolumeDriverError(f"invalid iSCSI settings: prefix {iqn_prefix!r}, address {ip!r}")
        if not (0 < int(port) < 65536 and 0 <= int(control_port) < 65536):
            raise VolumeDriverError(f"invalid iSCSI ports {port!r}/{control_port!r}")
        self.prefix, self.ip, self.port, self.control_port = iqn_prefix, ip, int(port), int(control_port)

    def _tgtadm(self, *args, what: str) -> str:
        return run(["tgtadm", "-C", self.control_port, "--lld", "iscsi", *args], what, timeout=30)

    def available(self) -> str | None:
        """None when tgt can be used here, else why not."""
        missing = [tool for tool in ("tgtd", "tgtadm") if shutil.which(tool) is None]
        return f"{' and '.join(missing)} not installed (Debian package tgt)" if missing else None

    def ensure_daemon(self, timeout: float = 10) -> None:
        reason = self.available()
        if reason:
            raise VolumeDriverError(f"cannot export volumes over iSCSI: {reason}")
        if self._answers():
            return
        # tgtd daemonizes itself; it stays up when this agent restarts, like a system service
        run(["tgtd", "-C", self.control_port, "--iscsi", f"portal={self.ip}:{self.port}"], "starting tgtd")
        deadline = time.monotonic() + timeout
        while not self._answers():
            if time.monotonic() > deadline:
                raise VolumeDriverError(f"tgtd on control port {self.control_port} did not answer")
            time.sleep(0.1)

    def _answers(self) -> bool:
        proc = run_command(["tgtadm", "-C", str(self.control_port), "--lld", "iscsi", "--op", "show",
                            "--mode", "target"], check=False, timeout=30)
        return proc.returncode == 0

    def targets(self) -> dict:
        """{iqn: tid} of the targets tgtd has."""
        out = self._tgtadm("--op", "show", "--mode", "target", what="listing iSCSI targets")
        return {iqn: int(tid) for tid, iqn in TARGET_RE.findall(out)}

    def iqn(self, name: str) -> str:
        return f"{self.prefix}{check_name(name)}"

    def export(self, name: str, path: str) -> Connection:
        """Export `path` as LUN 1 of the volume's target (idempotent); how QEMU reaches it."""
        self.ensure_daemon()
        iqn = self.iqn(name)
        targets = self.targets()
        if iqn not in targets:
            tid = max(targets.values(), default=0) + 1
            self._tgtadm("--op", "new", "--mode", "target", "--tid", tid, "-T", iqn, what=f"creating target {iqn}")
            try:
                self._tgtadm("--op", "new", "--mode", "logicalunit", "--tid", tid, "--lun", LUN, "-b", path,
                             what=f"adding {path} to {iqn}")
                self._tgtadm("--op", "bind", "--mode", "target", "--tid", tid, "-I", "ALL",
                             what=f"opening {iqn} to initiators")
            except VolumeDriverError:
                self._tgtadm("--op", "delete", "--force", "--mode", "target", "--tid", tid, what=f"removing {iqn}")
                raise
        return Connection(kind="iscsi", path=f"{iqn}/{LUN}", format="raw", host=self.ip, port=self.port)

    def unexport(self, name: str) -> bool:
        if self.available() or not self._answers():
            return False
        tid = self.targets().get(self.iqn(name))
        if tid is None:
            return False
        self._tgtadm("--op", "delete", "--force", "--mode", "target", "--tid", tid, what=f"removing {self.iqn(name)}")
        return True

    def stop_daemon(self) -> None:
        """Shut this tgtd down (tests; an operator's tgtd is a system service)."""
        if self._answers():
            run(["tgtadm", "-C", self.control_port, "--op", "delete", "--mode", "system"], "stopping tgtd")
