#!/bin/sh
# cloudproj test image: a test's hands on the guest's extra disks (attached volumes).
#   GET /cgi-bin/disk?list                  DISK-LIST <names of the whole disks, e.g. vda vdb>
#   GET /cgi-bin/disk?write=TOKEN&dev=vdb   writes "CLOUDPROJ-DISK TOKEN" at the start of /dev/vdb,
#                                           syncs it, answers DISK-WRITTEN TOKEN
#   GET /cgi-bin/disk?read&dev=vdb          DISK-READ <the first line of /dev/vdb>
#   GET /cgi-bin/disk?size&dev=vdb          DISK-SIZE <bytes>
# TOKEN: 1-64 of [A-Za-z0-9_-]; dev: vd + letters, never vda (the root disk).
printf 'Content-Type: text/plain\r\n\r\n'
op=""; token=""; dev="vdb"
for pair in $(echo "$QUERY_STRING" | tr '&' ' '); do
    case "$pair" in
        list|read|size) op="$pair" ;;
        write=*) op=write; token="${pair#write=}" ;;
        dev=*) dev="${pair#dev=}" ;;
        *) echo "DISK-BAD-REQUEST"; exit 0 ;;
    esac
done
case "$dev" in
    vda|""|*[!a-z]*) echo "DISK-BAD-DEVICE"; exit 0 ;;
    vd*) ;;
    *) echo "DISK-BAD-DEVICE"; exit 0 ;;
esac
case "$op" in
    list)
        echo "DISK-LIST $(awk 'NR > 2 && $4 ~ /^vd[a-z]+$/ {print $4}' /proc/partitions | tr '\n' ' ')"
        exit 0 ;;
    "") echo "DISK-BAD-REQUEST"; exit 0 ;;
esac
[ -b "/dev/$dev" ] || { echo "DISK-NO-DEVICE $dev"; exit 0; }
case "$op" in
    write)
        case "$token" in
            ""|*[!A-Za-z0-9_-]*) echo "DISK-BAD-TOKEN"; exit 0 ;;
        esac
        [ ${#token} -le 64 ] || { echo "DISK-BAD-TOKEN"; exit 0; }
        printf 'CLOUDPROJ-DISK %s\n' "$token" | dd of="/dev/$dev" bs=512 conv=sync,fsync 2>/dev/null \
            && sync && echo "DISK-WRITTEN $token" || echo "DISK-WRITE-FAILED"
        ;;
    read)
        echo "DISK-READ $(dd if="/dev/$dev" bs=512 count=1 2>/dev/null | head -n 1 | tr -cd 'A-Za-z0-9_ -')"
        ;;
    size)
        echo "DISK-SIZE $(( $(cat "/sys/block/$dev/size") * 512 ))"
        ;;
esac
