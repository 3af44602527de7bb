#!/bin/sh
# cloudproj test image: leaves a note on the root disk that the next boot of this disk (or of a
# snapshot of it) prints as "CLOUDPROJ-NOTE TOKEN".
#   GET /cgi-bin/note?write=TOKEN   writes /var/lib/cloudproj/note and syncs: NOTE-WRITTEN TOKEN
#   GET /cgi-bin/note               NOTE <the current note, or none>
#   GET /cgi-bin/note?dev=vdb       NOTE <the note on the root filesystem of /dev/vdb, mounted
#                                   read-only: a rescued server reads its own disk>
# TOKEN: 1-64 of [A-Za-z0-9_-].
printf 'Content-Type: text/plain\r\n\r\n'
note=/var/lib/cloudproj/note
case "$QUERY_STRING" in
    "") echo "NOTE $(cat "$note" 2>/dev/null || echo none)"; exit 0 ;;
    dev=*)
        dev="${QUERY_STRING#dev=}"
        case "$dev" in
            vd[b-z]) ;;
            *) echo "NOTE-BAD-DEVICE"; exit 0 ;;
        esac
        [ -b "/dev/$dev" ] || { echo "NOTE-NO-DEVICE $dev"; exit 0; }
        mkdir -p "/mnt/$dev"
        grep -q " /mnt/$dev " /proc/mounts || mount -t ext4 -o ro "/dev/$dev" "/mnt/$dev" 2>/dev/null \
            || { echo "NOTE-MOUNT-FAILED $dev"; exit 0; }
        echo "NOTE $(cat "/mnt/$dev$note" 2>/dev/null || echo none)"; exit 0 ;;
    write=*) token="${QUERY_STRING#write=}" ;;
    *) echo "NOTE-BAD-REQUEST"; exit 0 ;;
esac
case "$token" in
    ""|*[!A-Za-z0-9_-]*) echo "NOTE-BAD-TOKEN"; exit 0 ;;
esac
[ ${#token} -le 64 ] || { echo "NOTE-BAD-TOKEN"; exit 0; }
mkdir -p /var/lib/cloudproj
printf '%s\n' "$token" > "$note.tmp" && mv "$note.tmp" "$note" && sync && echo "NOTE-WRITTEN $token" \
    || echo "NOTE-WRITE-FAILED"
