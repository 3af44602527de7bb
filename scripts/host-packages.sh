#!/usr/bin/env bash
# Installs the Debian packages the project needs (build headers for psycopg2 and
# libvirt-python, and what a host agent drives: libvirt/QEMU, dnsmasq, iptables, LVM, and
# tgt + QEMU's iSCSI block driver for volumes attached from another host; Chromium and its
# WebDriver for the dashboard's browser tests; node and npm, which install noVNC; PostgreSQL's
# server and redis-server, which `make run` runs privately under .cloud/, scripts/run_services.py).
# Only what is missing is installed; without root it only reports what is missing.
set -euo pipefail
PACKAGES=(
  pkg-config libpq-dev libvirt-dev
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
  dnsmasq-base dnsmasq-utils lvm2 iptables conntrack bridge-utils iproute2 cpio kmod e2fsprogs busybox-static
  tgt qemu-block-extra
  chromium chromium-driver
  postgresql redis-server
)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# npm comes with Debian's nodejs+npm or with NodeSource's nodejs alone: ask for them only if absent.
command -v npm >/dev/null || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages (run as root to install): ${missing[*]}" >&2
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
