#!/usr/bin/env bash
# Full-graph discovery benchmark: `sigscope tree HOST -o json` on a registry seeded with IMAGES
# images x REFERRERS referrers, against the floor measured in the same run: the very same GET
# requests (taken from sigscope's --request-log) issued by `curl --parallel --parallel-max 32`.
# Runs on docker-registry (tag-schema fallback) and ferro-oci-server (referrers API).
#
# usage: benches/discovery.sh [IMAGES=1000] [REFERRERS=3] [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-1000}; REFERRERS=${2:-3}; RUNS=${3:-5}
FERRO=${SIGSCOPE_FERRO:-$PWD/.tools/bin/ferro-oci-server}
command -v docker-registry >/dev/null || { echo "needs docker-registry (apt-get install docker-registry)" >&2; exit 2; }
[ -x "$FERRO" ] || { echo "needs ferro-oci-server (cargo install --root .tools ferro-oci-server)" >&2; exit 2; }

cargo build --release --quiet --bin sigscope --example seed
BIN=target/release/sigscope
WORK=$(mktemp -d)
PIDS=()
trap 'kill ${PIDS[@]+"${PIDS[@]}"} 2>/dev/null || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "http://$1/v2/" && return 0; sleep 0.1; done; echo "server $1 did not start" >&2; exit 3; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

start_distribution() {
  local port; port=$(free_port); mkdir -p "$WORK/dist"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$WORK/dist" "$port" > "$WORK/dist.yml"
  docker-registry serve "$WORK/dist.yml" > "$WORK/dist.log" 2>&1 & PIDS+=($!)
  HOST="127.0.0.1:$port"
}
start_ferro() {
  local port; port=$(free_port); mkdir -p "$WORK/ferro"
  FERRO_OCI_LISTEN=127.0.0.1:$port FERRO_OCI_STORAGE_DIR="$WORK/ferro" "$FERRO" > "$WORK/ferro.log" 2>&1 & PIDS+=($!)
  HOST="127.0.0.1:$port"
}

ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.artifact.manifest.v1+json, application/vnd.cncf.oras.artifact.manifest.v1+json'

bench() {
  local name=$1 host=$2
  wait_up "$host"
  target/release/examples/seed "$host" "$IMAGES" "$REFERRERS" 50 2>&1 | sed "s/^/  /" >&2
  local log="$WORK/$name.requests"
  "$BIN" tree "$host" -o json --concurrency 32 --request-log "$log" > "$WORK/$name.json"
  local requests dups nodes
  requests=$(wc -l < "$log")
  dups=$(awk '$1=="GET"{print $2}' "$log" | grep -E '/(manifests|blobs)/sha256:' | sort | uniq -d | wc -l)
  nodes=$(grep -c '"digest"' "$WORK/$name.json")
  awk '$1=="GET"{print "url = \"" $2 "\"\noutput = \"/dev/null\""}' "$log" > "$WORK/$name.curl"
  local s=() c=()
  for _ in $(seq "$RUNS"); do
    t0=$(now); "$BIN" tree "$host" -o json --concurrency 32 > /dev/null; t1=$(now)
    s+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); curl -s --no-progress-meter --parallel --parallel-max 32 -H "$ACCEPT" -K "$WORK/$name.curl" 2>/dev/null; t1=$(now)
    c+=("$(echo "$t1 - $t0" | bc)")
  done
  local sm cm
  sm=$(printf '%s\n' "${s[@]}" | median); cm=$(printf '%s\n' "${c[@]}" | median)
  printf '%-16s images=%-5s referrers/image=%s requests=%-6s digests fetched twice=%s nodes=%s\n' "$name" "$IMAGES" "$REFERRERS" "$requests" "$dups" "$nodes"
  printf '%-16s sigscope tree median %.3fs   curl floor (same %s GETs, 32 parallel) median %.3fs   ratio %.2fx\n' "" "$sm" "$requests" "$cm" "$(echo "$sm / $cm" | bc -l)"
}

start_distribution; bench docker-registry "$HOST"
start_ferro; bench ferro-oci-server "$HOST"
