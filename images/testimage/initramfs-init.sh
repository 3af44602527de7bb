#!/bin/busybox sh
# cloudproj test image: initramfs (ari). Loads the virtio modules in dependency order,
# mounts the root device (root= on the kernel command line, default /dev/vda) and
# switches to it. Every step says what it does on the console.
/bin/busybox mkdir -p /proc /sys /dev /newroot /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "cloudproj-initramfs: loading virtio modules"
for mod in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$mod.ko" 2>/dev/null || echo "cloudproj-initramfs: insmod $mod failed (built in?)"
done
root=/dev/vda
rootfstype=ext4
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        root=*) root="${arg#root=}" ;;
        rootfstype=*) rootfstype="${arg#rootfstype=}" ;;
    esac
done
n=0
while [ ! -b "$root" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
if ! mount -t "$rootfstype" -o rw "$root" /newroot; then
    echo "CLOUDPROJ-TESTIMAGE-FAILED cannot mount root $root"
    exec sh
fi
echo "cloudproj-initramfs: switching to $root"
mount --move /dev /newroot/dev
umount /sys
umount /proc
exec switch_root /newroot /sbin/init
