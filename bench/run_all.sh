#!/bin/sh
# The five benchmarks of issue 7, one after the other, into one dated log:
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/cloudproj_bench \
#   CELERY_BROKER_URL=redis://127.0.0.1:6379/7 bench/run_all.sh [output file]
#
# Needs root (the real-guest run uses libvirt, a bridge and dnsmasq), PostgreSQL and a Redis
# database of its own (it is flushed). Every benchmark makes and drops its own database
# (cloudproj_bench_*). Takes 15-30 minutes on two cores. Copy the figures to bench/RESULTS.md.
set -u
cd "$(dirname "$0")/.."
out="${1:-bench/out/run-$(date -u +%Y%m%dT%H%M%SZ).txt}"
mkdir -p "$(dirname "$out")"
: "${DATABASE_URL:?set DATABASE_URL=postgres://...}"
: "${CELERY_BROKER_URL:?set CELERY_BROKER_URL=redis://.../N (a database of its own: it is flushed)}"
py=.venv/bin/python
run() {
    echo "## $* ($(date -u +%FT%TZ);$(uptime | sed 's/.*load average/ load average/'))" | tee -a "$out"
    "$py" "$@" 2>&1 | grep --line-buffered -v '^libvirt: ' | tee -a "$out"
    echo | tee -a "$out"
}
echo "# cloudproj benchmarks, $(uname -n), $(nproc) cpu(s), $(git rev-parse --short HEAD), $(date -u +%FT%TZ)" | tee "$out"
run bench/scheduler_placement.py                                   # 3: scheduler
run bench/api_servers_detail.py                                    # 4: API list
run bench/control_plane.py                                         # 1 + 5: boots, memory
run bench/real_guest.py                                            # 2: real guest vs virsh create
echo "log: $out"
