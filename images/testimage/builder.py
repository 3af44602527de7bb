"""Builds the project's small UEC-style test image offline from Debian packages.

    kernel   vmlinuz of linux-image-<ver>-cloud-amd64                       (aki)
    ramdisk  busybox-static + the virtio modules, loaded in dependency order (ari)
    root     ext4 made with `mkfs.ext4 -d`, /sbin/init = rootfs-init.sh     (ami)

Packages are fetched once with `apt-get download` into STATE_PATH/testimage/debs and
extracted with `dpkg-deb -x`; a rebuild with unchanged inputs reuses the previous outputs
(so their checksums, and registered images, stay the same).
Boot with: kernel + initrd + cmdline KERNEL_CMDLINE, root disk as the first virtio disk.
"""
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
KERNEL_META = "linux-image-cloud-amd64"
BUSYBOX_PKG = "busybox-static"
# What the initramfs must load; their dependencies come from modules.dep (depmod -b).
# button + evdev: the ACPI power button (a clean `virsh shutdown` / soft reboot).
WANTED_MODULES = ("virtio_pci", "virtio_blk", "virtio_net", "button", "evdev")
KERNEL_CMDLINE = "root=/dev/vda console=ttyS0"
ROOT_SIZE_MB = 48
MARKER_UP = "CLOUDPROJ-TESTIMAGE-UP"
MARKER_METADATA = "CLOUDPROJ-METADATA"
MARKER_METADATA_KEY = "CLOUDPROJ-METADATA-KEY"
MARKER_POWEROFF = "CLOUDPROJ-TESTIMAGE-POWEROFF"


class BuildError(Exception):
    pass


@dataclass
class TestImage:
    kernel: Path
    ramdisk: Path
    root: Path
    kernel_version: str
    cmdline: str = KERNEL_CMDLINE


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    except FileNotFoundError as exc:
        raise BuildError(f"{args[0]} is not installed") from exc
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(map(str, args[:3]))}... failed: {proc.stderr.strip()[-500:]}")
    return proc


def default_dir() -> Path:
    return Path(settings.STATE_PATH) / "testimage"


# --- packages -----------------------------------------------------------------------------

def _cached_deb(debs: Path, pattern: str) -> Path | None:
    found = sorted(debs.glob(pattern), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def _kernel_package() -> str:
    out = _run(["apt-cache", "depends", KERNEL_META]).stdout
    match = re.search(r"Depends:\s*(linux-image-[0-9][^\s]*-cloud-amd64)\b", out)
    if not match:
        raise BuildError(f"cannot resolve {KERNEL_META} to a kernel package (apt-get update?)")
    return match.group(1)


def fetch_packages(debs: Path, kernel_package: str | None = None) -> tuple[Path, Path]:
    """(kernel .deb, busybox-static .deb), downloaded only when not cached."""
    debs.mkdir(parents=True, exist_ok=True)
    kernel_glob = f"{kernel_package}_*.deb" if kernel_package else "linux-image-*-cloud-amd64_*.deb"
    kernel = _cached_deb(debs, kernel_glob)
    busybox = _cached_deb(debs, f"{BUSYBOX_PKG}_*.deb")
    wanted = []
    if kernel is None:
        wanted.append(kernel_package or _kernel_package())
    if busybox is None:
        wanted.append(BUSYBOX_PKG)
    if wanted:
        log.info("downloading %s", " ".join(wanted))
        _run(["apt-get", "download", *wanted], cwd=debs, timeout=600)
        kernel = _cached_deb(debs, kernel_glob)
        busybox = _cached_deb(debs, f"{BUSYBOX_PKG}_*.deb")
    if kernel is None or busybox is None:
        raise BuildError("apt-get download did not produce the kernel and busybox-static packages")
    return kernel, busybox


def extract(deb: Path, into: Path) -> Path:
    """dpkg-deb -x, once per package file (a stamp marks a finished extraction)."""
    dest = into / deb.stem
    stamp = dest / ".extracted"
    if not stamp.exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        _run(["dpkg-deb", "-x", deb, dest], timeout=600)
        stamp.touch()
    return dest


# --- modules ------------------------------------------------------------------------------

def module_load_order(tree: Path, version: str, wanted=WANTED_MODULES) -> list[tuple[str, Path]]:
    """[(module name, .ko path)] with every dependency before its users (depmod -b)."""
    moddir = tree / "lib" / "modules" / version
    if not (moddir / "modules.dep").exists():
        _run(["depmod", "-b", tree, version])
    deps: dict[str, list[str]] = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        if ":" in line:
            mod, _, rest = line.partition(":")
            deps[mod.strip()] = rest.split()
    by_name = {_mod_name(path): path for path in deps}
    order: list[str] = []

    def visit(rel: str, seen=()):
        if rel in order:
            return
        if rel in seen:
            raise BuildError(f"module dependency cycle at {rel}")
        for dep in reversed(deps.get(rel, [])):  # modules.dep lists the deepest last
            visit(dep, (*seen, rel))
        order.append(rel)

    for name in wanted:
        if name not in by_name:
            raise BuildError(f"kernel {version} has no module {name}")
        visit(by_name[name])
    return [(_mod_name(rel), moddir / rel) for rel in order]


def _mod_name(rel: str) -> str:
    return re.sub(r"\.ko(\.(xz|gz|zst))?$", "", Path(rel).name).replace("-", "_")


# --- cpio (newc) written directly: device nodes need no root ---------------------------

class Cpio:
    def __init__(self):
        self.parts: list[bytes] = []
        self.ino = 1

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        header = b"070701" + b"".join(f"{f:08x}".encode() for f in fields)
        self.parts += [header, name_b, b"\0" * (-(len(header) + len(name_b)) % 4), data, b"\0" * (-len(data) % 4)]

    def directory(self, name: str):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name: str, data: bytes, mode: int = 0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def chardev(self, name: str, major: int, minor: int, mode: int = 0o600):
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        data = b"".join(self.parts)
        return data + b"\0" * (-len(data) % 512)


def build_initramfs(busybox: Path, modules: list[tuple[str, Path]], out: Path) -> None:
    cpio = Cpio()
    for d in ("bin", "dev", "proc", "sys", "newroot", "lib", "lib/modules"):
        cpio.directory(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3, 0o666)
    cpio.file("bin/busybox", busybox.read_bytes(), 0o755)
    cpio.file("init", (HERE / "initramfs-init.sh").read_bytes(), 0o755)
    for name, path in modules:
        cpio.file(f"lib/modules/{name}.ko", path.read_bytes())
    cpio.file("lib/modules/load-order", ("\n".join(name for name, _ in modules) + "\n").encode())
    tmp = out.with_suffix(".part")
    tmp.write_bytes(gzip.compress(cpio.finish(), compresslevel=6, mtime=0))
    os.replace(tmp, out)


# --- root filesystem ------------------------------------------------------------------------

def build_rootfs(busybox: Path, out: Path, work: Path, size_mb: int = ROOT_SIZE_MB) -> None:
    root = work / "rootfs"
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc/cloudproj", "dev", "proc", "sys", "run", "tmp",
              "www", "www/cgi-bin", "root", "var/log", "var/lib/cloudproj"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(busybox, root / "bin" / "busybox")
    (root / "bin" / "busybox").chmod(0o755)
    applets = _run([busybox, "--list-full"]).stdout.split()
    for applet in applets:
        link = root / applet
        if applet in ("bin/busybox", "sbin/init", "linuxrc") or link.exists():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/bin/busybox")
    (root / "etc" / "acpi" / "PWRF").mkdir(parents=True)
    for name, target, mode in (("rootfs-init.sh", "sbin/init", 0o755), ("udhcpc.script", "etc/udhcpc.script", 0o755),
                               ("power-button.sh", "etc/acpi/PWRF/00000080", 0o755),
                               ("fetch.cgi", "www/cgi-bin/fetch", 0o755), ("disk.cgi", "www/cgi-bin/disk", 0o755),
                               ("note.cgi", "www/cgi-bin/note", 0o755)):
        shutil.copy(HERE / name, root / target)
        (root / target).chmod(mode)
    (root / "etc" / "hostname").write_text("cloudproj-test\n")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    (root / "etc" / "fstab").write_text("/dev/vda / ext4 rw 0 1\n")
    (root / "tmp").chmod(0o1777)
    tmp = out.with_suffix(".part")
    tmp.unlink(missing_ok=True)
    _run(["mkfs.ext4", "-q", "-F", "-L", "cloudproj-root", "-E", "root_owner=0:0",
          "-U", "6c0e1b7a-3c3d-4c53-9d6a-27c1c0a1e5f0", "-d", root, tmp, f"{size_mb}M"], timeout=300)
    os.replace(tmp, out)


# --- the whole build ----------------------------------------------------------------------

def _inputs_digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.stat().st_size < 1 << 20 else str(path.stat().st_size).encode())
    return digest.hexdigest()


def build(out_dir: Path | None = None, force: bool = False, kernel_package: str | None = None,
          debs_dir: Path | None = None) -> TestImage:
    """Build (or reuse) the three files. `debs_dir` is the package download cache."""
    out_dir = Path(out_dir or default_dir())
    out_dir.mkdir(parents=True, exist_ok=True)
    kernel_deb, busybox_deb = fetch_packages(Path(debs_dir or default_dir() / "debs"), kernel_package)
    digest = _inputs_digest(kernel_deb, busybox_deb, *(HERE / n for n in
                            ("initramfs-init.sh", "rootfs-init.sh", "udhcpc.script", "power-button.sh", "fetch.cgi",
                             "disk.cgi", "note.cgi", "builder.py")))
    manifest_path = out_dir / "manifest.json"
    if not force and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        image = TestImage(Path(manifest["kernel"]), Path(manifest["ramdisk"]), Path(manifest["root"]),
                          manifest["kernel_version"])
        if manifest.get("inputs") == digest and all(p.is_file() for p in (image.kernel, image.ramdisk, image.root)):
            return image
    kernel_tree = extract(kernel_deb, out_dir / "extract")
    busybox_tree = extract(busybox_deb, out_dir / "extract")
    vmlinuz = sorted((kernel_tree / "boot").glob("vmlinuz-*"))
    if not vmlinuz:
        raise BuildError(f"{kernel_deb.name} has no /boot/vmlinuz-*")
    version = vmlinuz[-1].name[len("vmlinuz-"):]
    busybox = busybox_tree / "bin" / "busybox"
    image = TestImage(out_dir / "vmlinuz", out_dir / "initrd.img", out_dir / "root.img", version)
    shutil.copyfile(vmlinuz[-1], image.kernel.with_suffix(".part"))
    os.replace(image.kernel.with_suffix(".part"), image.kernel)
    build_initramfs(busybox, module_load_order(kernel_tree, version), image.ramdisk)
    build_rootfs(busybox, image.root, out_dir)
    manifest_path.write_text(json.dumps({
        "inputs": digest, "kernel": str(image.kernel), "ramdisk": str(image.ramdisk), "root": str(image.root),
        "kernel_version": version, "cmdline": KERNEL_CMDLINE,
    }, indent=2))
    return image


def register(image: TestImage, name: str = "cloudproj-test") -> dict:
    """Register kernel (aki), ramdisk (ari) and root (ami) as public images; reuse images
    with the same name and checksum. Returns {"kernel": Image, "ramdisk": Image, "root": Image}."""
    from images.services import registry
    from images.models import Image

    def md5_of(path: Path) -> str:
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def ensure(path: Path, image_name: str, fmt: str, properties: dict) -> Image:
        existing = Image.objects.filter(
            name=image_name, checksum=md5_of(path), status=Image.ACTIVE, disk_format=fmt
        ).order_by("created_at").first()
        if existing is not None and all(existing.properties.get(k) == v for k, v in properties.items()):
            return existing
        return registry.register_image(path, image_name, fmt, fmt, owner=None,
                                       visibility=Image.PUBLIC, properties=properties)

    kernel = ensure(image.kernel, f"{name}-kernel", "aki", {"architecture": "x86_64"})
    ramdisk = ensure(image.ramdisk, f"{name}-ramdisk", "ari", {"architecture": "x86_64"})
    root = ensure(image.root, name, "ami", {
        "architecture": "x86_64", "kernel_id": str(kernel.id), "ramdisk_id": str(ramdisk.id),
        "os_command_line": KERNEL_CMDLINE,
    })
    return {"kernel": kernel, "ramdisk": ramdisk, "root": root}
