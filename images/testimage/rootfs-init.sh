#!/bin/sh
# cloudproj test image: /sbin/init of the root filesystem (ami).
# Console markers (kernel command line console=ttyS0):
#   CLOUDPROJ-TESTIMAGE-UP hostname=<h> ip=<addr>       lease taken, HTTP server on port 80
#   CLOUDPROJ-TESTIMAGE-NOLEASE hostname=<h>            no DHCP answer
#   CLOUDPROJ-METADATA instance-id=<id> hostname=<h>    the metadata service answered
#   CLOUDPROJ-METADATA-KEY <first 40 chars> md5=<md5>   the public key it read (or: none)
#   CLOUDPROJ-TESTIMAGE-POWEROFF                        ACPI power button pressed
#   CLOUDPROJ-NOTE <token>                              a note left by /cgi-bin/note on this disk
# Address: static from ip=... on the kernel command line (Flat manager), else DHCP.
# CGIs on port 80: fetch (outbound request), disk (attached volumes), note (root-disk note).
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep -q " /dev " /proc/mounts || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp /www
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
hostname cloudproj-test
# ACPI power button -> /etc/acpi/PWRF/00000080 (clean poweroff)
acpid -c /etc/acpi -l /run/acpid.log
echo "CLOUDPROJ-TESTIMAGE-BOOT kernel=$(uname -r)"

[ -s /var/lib/cloudproj/note ] && echo "CLOUDPROJ-NOTE $(cat /var/lib/cloudproj/note)"

ip link set lo up
ip link set eth0 up
# A static address from the kernel command line (the Flat manager):
#   ip=<address>:<server>:<gateway>:<netmask>:<hostname>:<device>:<autoconf>[:<dns0>]
static=""
for arg in $(cat /proc/cmdline); do
    case "$arg" in ip=*:*) static="${arg#ip=}" ;; esac
done
if [ -n "$static" ]; then
    IFS=: read -r s_ip s_server s_gw s_mask s_host s_dev s_auto s_dns <<EOT
$static
EOT
    s_dev="${s_dev:-eth0}"
    echo "cloudproj: static address $s_ip/$s_mask gateway $s_gw on $s_dev (kernel command line)"
    ip link set "$s_dev" up
    ifconfig "$s_dev" "$s_ip" netmask "${s_mask:-255.255.255.0}" up
    [ -n "$s_gw" ] && route add default gw "$s_gw" dev "$s_dev"
    [ -n "$s_dns" ] && echo "nameserver $s_dns" > /etc/resolv.conf
    [ -n "$s_host" ] && hostname "$s_host"
    echo "$s_ip" > /run/cloudproj-ip
else
    # First lease in the foreground (bounded), then udhcpc stays in the background to renew.
    udhcpc -i eth0 -s /etc/udhcpc.script -t 10 -T 2 -A 3 -b -p /run/udhcpc.pid
fi

addr=""
n=0
while [ -z "$addr" ] && [ $n -lt 60 ]; do
    [ -s /run/cloudproj-ip ] && addr=$(cat /run/cloudproj-ip)
    [ -z "$addr" ] && sleep 1
    n=$((n + 1))
done
host=$(hostname)
if [ -n "$addr" ]; then
    marker="CLOUDPROJ-TESTIMAGE-UP hostname=$host ip=$addr"
else
    marker="CLOUDPROJ-TESTIMAGE-NOLEASE hostname=$host"
fi
printf '<html><body><pre>%s</pre></body></html>\n' "$marker" > /www/index.html
echo "$marker" > /www/marker.txt
httpd -p 80 -h /www
echo "$marker"

# --- metadata hook ---------------------------------------------------------------------
# Reads the EC2-style metadata service if it answers. Runs in the background with hard
# timeouts and never blocks boot (busybox wget crashed without a route: nc is used instead).
# Disable with a file /etc/cloudproj/no-metadata in the image.
metadata_get() {
    printf 'GET /latest/meta-data/%s HTTP/1.0\r\nHost: 169.254.169.254\r\n\r\n' "$1" \
        | timeout 8 nc -w 4 169.254.169.254 80 2>/dev/null > /tmp/md.$$ || return 1
    head -n 1 /tmp/md.$$ | grep -q ' 200 ' || return 1
    sed '1,/^\r*$/d' /tmp/md.$$ | head -n 1 | tr -d '\r\n'
}
fetch_metadata() {
    [ -e /etc/cloudproj/no-metadata ] && return 0
    [ -n "$addr" ] || return 0
    # a few bounded attempts: the service may still be catching up with a brand new instance
    iid=""
    for attempt in 1 2 3; do
        iid=$(metadata_get instance-id) && [ -n "$iid" ] && break
        iid=""
        sleep 2
    done
    [ -n "$iid" ] || { echo "CLOUDPROJ-METADATA-UNAVAILABLE"; return 0; }
    mdhost=$(metadata_get hostname) || mdhost=""
    echo "CLOUDPROJ-METADATA instance-id=$iid hostname=$mdhost"
    echo "CLOUDPROJ-METADATA instance-id=$iid hostname=$mdhost" >> /www/index.html
    # key prefixes look alike (ssh-rsa AAAAB3NzaC1yc2E...): the md5 of the whole line tells keys apart
    if key=$(metadata_get public-keys/0/openssh-key) && [ -n "$key" ]; then
        key="$(printf '%s' "$key" | cut -c1-40) md5=$(printf '%s' "$key" | md5sum | cut -d ' ' -f 1)"
    else
        key=none
    fi
    echo "CLOUDPROJ-METADATA-KEY $key"
    echo "CLOUDPROJ-METADATA-KEY $key" >> /www/index.html
}
fetch_metadata &
# --- end of metadata hook ----------------------------------------------------------------

# PID 1 must never exit. Reap children and idle.
while true; do
    sleep 3600
done
