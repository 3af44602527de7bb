"""This host's uptime line, as Nova's libvirt driver answers os-hypervisors/{id}/uptime: the
output of `uptime` in the C locale, e.g. " 08:32:11 up 93 days, 18:25,  1 user,  load average:
0.20, 0.12, 0.14"."""
import subprocess

UPTIME_COMMAND = ["/usr/bin/env", "LANG=C", "LC_ALL=C", "uptime"]


def host_uptime() -> str:
    proc = subprocess.run(UPTIME_COMMAND, capture_output=True, text=True, timeout=10, check=True)
    return proc.stdout.rstrip("\n")
