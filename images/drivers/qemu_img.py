"""The only code that runs qemu-img (argument lists, never a shell)."""
import json
import subprocess
from pathlib import Path

QEMU_IMG = "qemu-img"
# qemu-img info on a hostile file must not eat the host: bound it in time.
INFO_TIMEOUT = 30


class QemuImgError(Exception):
    pass


def _run(args: list[str], timeout: int = 600) -> str:
    try:
        proc = subprocess.run([QEMU_IMG, *args], capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise QemuImgError("qemu-img is not installed (Debian package qemu-utils)") from exc
    except subprocess.TimeoutExpired as exc:
        raise QemuImgError(f"qemu-img {args[0]} timed out") from exc
    if proc.returncode != 0:
        raise QemuImgError(f"qemu-img {args[0]} failed: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout


def info(path: Path | str, fmt: str | None = None) -> dict:
    """`qemu-img info --output=json` as a dict. Pass fmt to stop qemu from probing."""
    args = ["info", "--output=json"]
    if fmt:
        args += ["-f", fmt]
    args.append(str(path))
    return json.loads(_run(args, timeout=INFO_TIMEOUT))


def create_overlay(base: Path | str, overlay: Path | str, backing_format: str, size_bytes: int | None = None) -> None:
    """qemu-img create -f qcow2 -F <fmt> -b <base> <overlay> [size]."""
    args = ["create", "-f", "qcow2", "-F", backing_format, "-b", str(base), str(overlay)]
    if size_bytes:
        args.append(str(int(size_bytes)))
    _run(args)


def convert(src: Path | str, dst: Path | str, out_format: str, in_format: str | None = None,
            force_share: bool = False) -> None:
    """Copy `src` (with its whole backing chain: the result stands alone) to `dst`.
    force_share (-U) reads an image a running QEMU holds open."""
    args = ["convert", "-O", out_format]
    if in_format:
        args += ["-f", in_format]
    if force_share:
        args.append("-U")
    _run([*args, str(src), str(dst)], timeout=3600)


def grow(path: Path | str, size_bytes: int, fmt: str = "qcow2") -> None:
    """qemu-img resize -f <fmt> <path> <size>: the virtual disk grows to `size_bytes` (never
    shrinks: --shrink is not passed, qemu-img refuses a smaller size)."""
    if not isinstance(size_bytes, int) or isinstance(size_bytes, bool) or size_bytes <= 0:
        raise QemuImgError(f"qemu-img resize: size {size_bytes!r} is not a positive integer")
    _run(["resize", "-f", fmt, str(path), str(size_bytes)])


def rebase_unsafe(path: Path | str, base: Path | str, backing_format: str) -> None:
    """qemu-img rebase -u: point the qcow2 overlay `path` at `base` without reading data (for
    an overlay moved to a host where the same verified base lives at another path)."""
    _run(["rebase", "-u", "-f", "qcow2", "-F", backing_format, "-b", str(base), str(path)])
