#!/bin/sh
# ACPI power button (libvirt `shutdown`, QEMU `system_powerdown`): stop cleanly.
echo "CLOUDPROJ-TESTIMAGE-POWEROFF" > /dev/console
kill "$(cat /run/udhcpc.pid 2>/dev/null)" 2>/dev/null
sync
mount -o remount,ro / 2>/dev/null
poweroff -f
