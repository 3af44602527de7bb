"""Which guests have a serial console only (their VNC screen stays blank): booted from a kernel
whose command line sends every console to a serial port."""
from types import SimpleNamespace

import pytest

from consoles.services.serial import serial_console_only


@pytest.mark.parametrize(("kernel_id", "cmdline", "serial"), [
    ("k", None, True),  # the driver's default command line: console=ttyS0
    ("k", "root=/dev/vda console=ttyS0,115200", True),
    ("k", "console=hvc0", True),
    ("k", "console=tty0 console=ttyS0", False),  # also on the screen
    ("k", "root=/dev/vda quiet", False),  # no console= at all: the kernel's default, the screen
    ("", "console=ttyS0", False),  # booted from a disk: its bootloader decides
])
def test_serial_console_only(kernel_id, cmdline, serial):
    properties = {"os_command_line": cmdline} if cmdline else {}
    assert serial_console_only(SimpleNamespace(kernel_id=kernel_id, image_properties=properties)) is serial
