#!/usr/bin/env bash
# Peak memory of `sigscope tree HOST` over a whole registry, per node of its graph: a
# docker-registry seeded by examples/seed.rs with IMAGES images x REFERRERS referrers (as
# benches/discovery.sh), the peak resident set from /usr/bin/time, the nodes counted in the
# JSON (one "type" member each: registry, repositories, artifacts). "Above one image" subtracts
# the peak of the same binary walking a single image, i.e. what the process costs before any
# graph. BEFORE=path/to/another/sigscope runs that binary too, on the same registry in the same
# run, and compares both outputs (-o json and -o tree) byte for byte. HOST=host:port measures
# against a registry already seeded with IMAGES x REFERRERS (seeding 2,500 images takes minutes
# on a small machine; one seeding can then serve several runs).
#
# usage: [BEFORE=bin] [HOST=host:port] benches/tree-memory.sh [IMAGES=10000] [REFERRERS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-10000}; REFERRERS=${2:-3}
command -v docker-registry >/dev/null || { echo "needs docker-registry (apt-get install docker-registry)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin sigscope --example seed
BIN=target/release/sigscope
WORK=$(mktemp -d)
PIDS=()
trap 'kill ${PIDS[@]+"${PIDS[@]}"} 2>/dev/null || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "http://$1/v2/" && return 0; sleep 0.1; done; echo "server $1 did not start" >&2; exit 3; }

if [ -z "${HOST:-}" ]; then
  port=$(free_port); mkdir -p "$WORK/dist"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$WORK/dist" "$port" > "$WORK/dist.yml"
  docker-registry serve "$WORK/dist.yml" > "$WORK/dist.log" 2>&1 & PIDS+=($!)
  HOST="127.0.0.1:$port"
  wait_up "$HOST"
  target/release/examples/seed "$HOST" "$IMAGES" "$REFERRERS" 50 2>&1 | sed "s/^/  /" >&2
else
  wait_up "$HOST"
fi

# Peak resident KiB of one run; its stdout goes to $2.
peak() {
  local out=$1; shift
  /usr/bin/time -f '%M' -o "$WORK/rss" "$@" > "$out" 2> "$WORK/stderr" || true
  tail -1 "$WORK/rss"
}

measure() {
  local name=$1 bin=$2
  local one json text nodes
  one=$(peak /dev/null "$bin" tree "$HOST/bench/r000:t0000" -o json)
  json=$(peak "$WORK/$name.json" "$bin" tree "$HOST" -o json --concurrency 32)
  text=$(peak "$WORK/$name.txt" "$bin" tree "$HOST" --concurrency 32)
  nodes=$(grep -c '"type": ' "$WORK/$name.json")
  for f in json text; do
    local kib=${!f}
    printf '%-8s -o %-4s nodes=%-6s peak %6.1f MiB  %5.0f B/node  %5.0f B/node above one image (%.1f MiB)\n' \
      "$name" "$f" "$nodes" "$(echo "$kib / 1024" | bc -l)" "$(echo "$kib * 1024 / $nodes" | bc -l)" \
      "$(echo "($kib - $one) * 1024 / $nodes" | bc -l)" "$(echo "$one / 1024" | bc -l)"
  done
}

echo "images=$IMAGES referrers/image=$REFERRERS"
if [ -n "${BEFORE:-}" ]; then
  measure before "$BEFORE"
fi
measure now "$BIN"
if [ -n "${BEFORE:-}" ]; then
  cmp "$WORK/before.json" "$WORK/now.json" && echo "-o json: byte-identical"
  cmp "$WORK/before.txt" "$WORK/now.txt" && echo "-o tree: byte-identical"
fi
