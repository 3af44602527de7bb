#!/bin/sh
# cloudproj container entrypoint: `cloudproj-entrypoint ROLE` or any command.
#
#   api        wait for the database, migrate, bootstrap, then serve the API with gunicorn
#   scheduler  wait until the schema is migrated, then run the scheduler worker
#   beat       wait, then run celery beat with the database scheduler
#   flower     run the Celery monitor
#   agent      wait, then run the host agent of $CLOUD_HOST (run it as root)
#   metadata   wait, then serve the metadata service (guests reach it at 169.254.169.254
#              through the agent's DNAT to this host's address on the bridge, METADATA_PORT)
#   anything else is executed as given, e.g. `manage.py project list` or `sh`
set -eu
cd /app

MANAGE="python /app/manage.py"
WAIT_SECONDS="${WAIT_SECONDS:-120}"

log() { echo "[entrypoint] $*" >&2; }

# Wait until the database answers (api) or until it answers with every migration applied
# (the other processes: the api container applies them).
wait_for_db() {
    check="$1"
    deadline=$(( $(date +%s) + WAIT_SECONDS ))
    while :; do
        if [ "$check" = "schema" ]; then
            $MANAGE migrate --check >/dev/null 2>&1 && return 0
        else
            python - <<'PY' >/dev/null 2>&1 && return 0
import django
django.setup()
from django.db import connection
connection.ensure_connection()
PY
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "database not ready after ${WAIT_SECONDS}s (wait for: $check); giving up"
            exit 1
        fi
        log "waiting for the database ($check)..."
        sleep 2
    done
}

role="${1:-api}"
case "$role" in
    api)
        shift || true
        wait_for_db connection
        log "applying migrations"
        $MANAGE db sync
        log "bootstrapping defaults (roles, flavors, admin project and user)"
        if [ -n "${ADMIN_PASSWORD:-}" ]; then
            $MANAGE bootstrap --admin-password "$ADMIN_PASSWORD"
        else
            $MANAGE bootstrap
        fi
        exec gunicorn cloudproj.asgi:application \
            --worker-class uvicorn_worker.UvicornWorker \
            --config python:cloudproj.gunicorn_conf \
            --bind "${API_BIND:-0.0.0.0}:${API_PORT:-8774}" \
            --workers "${GUNICORN_WORKERS:-4}" \
            --timeout "${GUNICORN_TIMEOUT:-120}" \
            --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
            "$@"
        ;;
    scheduler)
        shift
        wait_for_db schema
        exec $MANAGE scheduler "$@"
        ;;
    beat)
        shift
        wait_for_db schema
        exec celery -A cloudproj beat -S django_celery_beat.schedulers:DatabaseScheduler \
            --loglevel "${LOG_LEVEL:-INFO}" "$@"
        ;;
    flower)
        shift
        # An empty FLOWER_BASIC_AUTH (compose passes the variable even when unset) means none.
        [ -n "${FLOWER_BASIC_AUTH:-}" ] || unset FLOWER_BASIC_AUTH
        exec celery -A cloudproj flower --port="${FLOWER_PORT:-5555}" "$@"
        ;;
    agent)
        shift
        if [ "$(id -u)" -ne 0 ]; then
            log "the agent drives bridges, iptables and LVM: run it as root (user: root, privileged)"
            exit 1
        fi
        : "${CLOUD_HOST:?set CLOUD_HOST to this hypervisor host name}"
        wait_for_db schema
        exec $MANAGE agent --host "$CLOUD_HOST" "$@"
        ;;
    metadata)
        shift
        wait_for_db schema
        exec gunicorn metadata.wsgi \
            --bind "${METADATA_BIND:-0.0.0.0}:${METADATA_PORT:-8775}" \
            --workers "${METADATA_WORKERS:-2}" \
            --threads "${METADATA_THREADS:-4}" \
            --access-logfile - \
            "$@"
        ;;
    manage.py)
        shift
        exec $MANAGE "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
