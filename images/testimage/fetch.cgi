#!/bin/sh
# cloudproj test image: GET /cgi-bin/fetch?ADDRESS[:PORT]
# The guest makes one outbound HTTP request to ADDRESS:PORT (default 80) and answers with
# FETCH-OK and the body it got, or FETCH-FAILED: a test sees the guest's outbound traffic and
# the source address the other side saw (e.g. the SNAT of a floating IP). Only digits, dots
# and one colon are accepted.
printf 'Content-Type: text/plain\r\n\r\n'
target="$QUERY_STRING"
case "$target" in
    ""|*[!0-9.:]*|*:*:*) echo "FETCH-BAD-TARGET"; exit 0 ;;
esac
host="${target%:*}"
port="${target##*:}"
[ "$host" != "$target" ] || port=80
reply=$(printf 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" | timeout 8 nc -w 5 "$host" "$port" 2>/dev/null)
if [ -n "$reply" ]; then
    echo "FETCH-OK"
    printf '%s\n' "$reply" | sed '1,/^\r*$/d'
else
    echo "FETCH-FAILED"
fi
