#!/usr/bin/env bash
# Starts virtlogd and libvirtd on this machine if they are not running (root only).
# Debian's libvirt-daemon without libvirt-daemon-system has no qemu.conf and no
# libvirt-qemu user; QEMU then runs as root (see DESIGN.md section 9).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: not starting libvirtd (set LIBVIRT_URI to a libvirt you can reach)" >&2
  exit 0
fi
command -v libvirtd >/dev/null || { echo "libvirtd is not installed" >&2; exit 1; }
if virsh -c qemu:///system version >/dev/null 2>&1; then
  exit 0
fi
mkdir -p /var/log/libvirt /var/run/libvirt /var/lib/libvirt/qemu /var/cache/libvirt/qemu
# libvirtd refuses to start its QEMU driver without these (its built-in defaults name them).
getent group kvm >/dev/null || groupadd -r kvm
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
if [ ! -f /etc/libvirt/qemu.conf ]; then
  # Guests' disks live under the project's STATE_PATH: let QEMU run as root to reach them.
  mkdir -p /etc/libvirt
  printf '# written by cloudproj scripts/libvirt-up.sh\nuser = "root"\ngroup = "root"\n' > /etc/libvirt/qemu.conf
fi
pgrep -x virtlogd >/dev/null || virtlogd -d
pgrep -x libvirtd >/dev/null || libvirtd -d
for _ in $(seq 1 30); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "libvirtd did not come up" >&2
exit 1
