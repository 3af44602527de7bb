"""Whether a guest's console is serial only: its VNC screen then stays blank (or frozen on the
firmware's last words) while everything it says goes to the serial port, which is the console
log. An instance booted from a kernel (its image's kernel_id) writes where its kernel command
line says: the image's os_command_line, else the driver's default (console=ttyS0, as
compute/virt/spec.py DEFAULT_CMDLINE). A command line whose every console= is a serial port
(ttyS*, hvc*) shows nothing on the VNC screen."""
import re

DEFAULT_KERNEL_CONSOLE = "console=ttyS0"  # what compute/virt/spec.py's DEFAULT_CMDLINE says
_CONSOLE = re.compile(r"(?:^|\s)console=([A-Za-z]+)")
SERIAL_DEVICES = ("ttyS", "ttyAMA", "hvc")


def serial_console_only(instance) -> bool:
    if not instance.kernel_id:
        return False  # booted from a disk: its bootloader decides, the VNC screen usually shows it
    cmdline = (instance.image_properties or {}).get("os_command_line") or DEFAULT_KERNEL_CONSOLE
    devices = _CONSOLE.findall(str(cmdline))
    return bool(devices) and all(device in SERIAL_DEVICES for device in devices)
