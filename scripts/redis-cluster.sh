#!/usr/bin/env bash
# A local Redis Cluster for tests and benches: 3 masters + 3 replicas on fixed ports
# (REDIS_CLUSTER_BASE_PORT, default 7100: ports 7100-7105), data under /tmp. Idempotent.
#   scripts/redis-cluster.sh start   # start (or keep) the cluster; prints the seed list
#   scripts/redis-cluster.sh seeds   # the seed list (for REDIS_CLUSTER_SEEDS / REDIS_URL)
#   scripts/redis-cluster.sh stop    # stop the nodes and remove their data
set -uo pipefail
BASE=${REDIS_CLUSTER_BASE_PORT:-7100}
DIR=${REDIS_CLUSTER_DIR:-/tmp/arena-redis-cluster-$BASE}
PORTS=$(seq "$BASE" $((BASE + 5)))

seeds() { local s=""; for p in $(seq "$BASE" $((BASE + 2))); do s="$s${s:+,}redis://127.0.0.1:$p"; done; echo "$s"; }
healthy() { redis-cli -p "$BASE" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; }

case "${1:-start}" in
  seeds) seeds ;;
  stop)
    for p in $PORTS; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1; done
    rm -rf "$DIR" ;;
  start)
    if healthy; then seeds; exit 0; fi
    mkdir -p "$DIR"
    for p in $PORTS; do
      if redis-cli -p "$p" ping >/dev/null 2>&1; then continue; fi
      mkdir -p "$DIR/$p"
      redis-server --port "$p" --bind 127.0.0.1 --dir "$DIR/$p" --cluster-enabled yes \
        --cluster-config-file nodes.conf --cluster-node-timeout 2000 --appendonly yes --appendfsync everysec \
        --save '' --daemonize yes --logfile "$DIR/$p/redis.log" >/dev/null || exit 1
    done
    for p in $PORTS; do for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done; done
    if ! redis-cli -p "$BASE" cluster info 2>/dev/null | grep -q 'cluster_slots_assigned:16384'; then
      nodes=""; for p in $PORTS; do nodes="$nodes 127.0.0.1:$p"; done
      # shellcheck disable=SC2086
      redis-cli --cluster create $nodes --cluster-replicas 1 --cluster-yes >&2 || exit 1
    fi
    for _ in $(seq 100); do healthy && break; sleep 0.1; done
    healthy || { echo "redis cluster on $BASE did not become healthy" >&2; exit 1; }
    # Replicas must be in sync before tests fail masters over.
    for _ in $(seq 100); do
      [ "$(for p in $PORTS; do redis-cli -p "$p" info replication | grep -c 'master_link_status:up'; done | paste -sd+ | bc)" -ge 3 ] && break
      sleep 0.1
    done
    seeds ;;
  *) echo "usage: $0 start|seeds|stop" >&2; exit 2 ;;
esac
