#!/usr/bin/env bash
# Signing benchmark: IMAGES images on a local registry each signed by `sigscope sign
# HOST/REPO@DIGEST --key K --cert C` (one process per signature, as a CI job signs), against
# floors measured in the same run, runs interleaved:
#   - the bare primitive: one ES256 signature (RustCrypto p256, the leaf's key, a JWS signing
#     input of the size sigscope signs), plus the very same HTTP requests sigscope issued (its
#     --request-log, bodies read back from the registry) replayed by curl on a twin registry
#     seeded the same (so each request meets the same state: the envelope absent, no index
#     yet), one process per dependency round (everything but the PUTs, then the PUTs),
#     connections kept alive;
#   - `sigscope --version`, IMAGES processes: what process start-up alone costs.
# Also the pipeline in one process (`cargo bench --bench sign`: sign_manifest in a loop, one
# signer and connection pool), which removes start-up, key loading and TLS/HTTP client setup.
# Runs on docker-registry (blob uploads + manifest PUT + tag-schema index) and ferro-oci-server
# (referrers API). The chain is made by openssl: an EC P-256 code-signing leaf under a root.
#
# Every signature is the first of its image (each run signs images of its own): signing an
# image again within the same second writes nothing new (RFC 6979 signatures, second-resolution
# signing time: the same bytes), which would time a no-op.
#
# usage: benches/sign.sh [IMAGES=100] [RUNS=5]
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
IMAGES=${1:-100}; RUNS=${2:-5}; REPOS=10; WARM=10
FERRO=${SIGSCOPE_FERRO:-$PWD/.tools/bin/ferro-oci-server}
command -v docker-registry >/dev/null || { echo "needs docker-registry (apt-get install docker-registry)" >&2; exit 2; }
[ -x "$FERRO" ] || { echo "needs ferro-oci-server (cargo install --root .tools ferro-oci-server)" >&2; exit 2; }

cargo build --release --quiet --bin sigscope --example seed
# Built once and run by path: `cargo bench` per run could rebuild mid-benchmark.
BENCH=$(cargo bench --bench sign --no-run 2>&1 | sed -n 's/.*Executable.*(\(.*\)).*/\1/p' | tail -1)
[ -x "$BENCH" ] || { echo "could not build the sign bench" >&2; exit 3; }
BIN=$PWD/target/release/sigscope
WORK=$(mktemp -d)
PIDS=()
trap 'kill ${PIDS[@]+"${PIDS[@]}"} 2>/dev/null || true; [ -n "${SIGN_BENCH_KEEP:-}" ] || rm -rf "$WORK"' EXIT

# No user configuration or credentials are read: an empty config file, XDG and docker's
# config pointed into the work directory.
: > "$WORK/empty.toml"
export SIGSCOPE_CONFIG=$WORK/empty.toml XDG_CONFIG_HOME=$WORK/xdg DOCKER_CONFIG=$WORK/no-docker-config

pki() {
  local d=$WORK/pki; mkdir -p "$d"; cd "$d"
  printf '[ca_ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n[leaf_ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > ext.cnf
  openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -new -key ca.key -subj "/CN=Bench Root/O=Bench" -out ca.csr
  openssl x509 -req -in ca.csr -signkey ca.key -days 30 -extfile ext.cnf -extensions ca_ext -out ca.pem 2>/dev/null
  openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out leaf.key 2>/dev/null
  openssl req -new -key leaf.key -subj "/CN=bench signer/O=Bench" -out leaf.csr
  openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 10 -extfile ext.cnf -extensions leaf_ext -out leaf.pem 2>/dev/null
  cat leaf.pem ca.pem > chain.pem
  cd - >/dev/null
}
pki
KEY=$WORK/pki/leaf.key; CERT=$WORK/pki/chain.pem

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "http://$1/v2/" && return 0; sleep 0.1; done; echo "server $1 did not start" >&2; exit 3; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

start_distribution() { # name
  local port d=$WORK/dist-$1; port=$(free_port); mkdir -p "$d"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$d" "$port" > "$d.yml"
  docker-registry serve "$d.yml" > "$d.log" 2>&1 & PIDS+=($!)
  HOST="127.0.0.1:$port"
}
start_ferro() { # name
  local port d=$WORK/ferro-$1; port=$(free_port); mkdir -p "$d"
  FERRO_OCI_LISTEN=127.0.0.1:$port FERRO_OCI_STORAGE_DIR="$d" "$FERRO" > "$d.log" 2>&1 & PIDS+=($!)
  HOST="127.0.0.1:$port"
}

ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json'

# The COUNT seeded images as HOST/REPO@DIGEST, one a line.
targets() {
  local host=$1 count=$2 out=$3 i repo digest
  : > "$out"
  for i in $(seq 0 $((count - 1))); do
    repo=$(printf 'bench/r%03d' $((i % REPOS)))
    digest=$(curl -sfI -H "$ACCEPT" "http://$host/v2/$repo/manifests/$(printf 't%04d' "$i")" |
      tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
    [ -n "$digest" ] || { echo "image $i of $host has no digest" >&2; exit 3; }
    echo "$host/$repo@$digest" >> "$out"
  done
}

sign_all() { # targets-file [request-log]
  local t log=${2:-}
  while read -r t; do
    if [ -n "$log" ]; then "$BIN" sign "$t" --key "$KEY" --cert "$CERT" --request-log "$log" > /dev/null
    else "$BIN" sign "$t" --key "$KEY" --cert "$CERT" > /dev/null; fi
  done < "$1"
}

# From a request log (`METHOD URL STATUS`), two curl configs replaying it on the twin registry
# (seeded the same, so it holds the same images and none of the signatures: every request
# meets the state sigscope's met): round A the requests that need no earlier answer (HEAD, GET,
# the upload POSTs, whose Location the PUTs need), round B the PUTs, each with the bytes sigscope
# sent (read back from the registry by digest, or the tag-schema index as it now stands, which
# is what was PUT last). Their bodies are fetched here, outside the timing.
replay_configs() { # log dir host twin
  local log=$1 dir=$2 host=$3 twin=$4 n=0 method url status path repo ref hex ctype
  mkdir -p "$dir/bodies"; : > "$dir/a.curl"; : > "$dir/b.tmpl"
  while read -r method url status; do
    local at=http://$twin${url#http://"$host"}
    case "$method" in
      POST)
        printf 'url = "%s"\nrequest = "POST"\ndata-binary = ""\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{time_total} %%header{location}\\n"\nnext\n' "$at" >> "$dir/a.curl" ;;
      HEAD)
        printf 'url = "%s"\nhead\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{time_total} %%{url_effective}\\n"\nnext\n' "$at" >> "$dir/a.curl" ;;
      GET)
        printf 'url = "%s"\nheader = "%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{time_total} %%{url_effective}\\n"\nnext\n' "$at" "$ACCEPT" >> "$dir/a.curl" ;;
      PUT)
        n=$((n + 1)); path=${url#http://"$host"}; path=${path%%\?*}
        if [[ $path == */blobs/uploads/* ]]; then
          hex=$(sed -n 's/.*digest=sha256\(%3A\|:\)\([0-9a-f]*\).*/\2/p' <<< "$url")
          repo=${path#/v2/}; repo=${repo%/blobs/uploads/*}
          curl -sf -o "$dir/bodies/$n" "http://$host/v2/$repo/blobs/sha256:$hex"
          # The upload URL comes from round A's answers, in order.
          printf 'UPLOAD sha256:%s %s application/octet-stream\n' "$hex" "$dir/bodies/$n" >> "$dir/b.tmpl"
        else
          ref=${path##*/manifests/}; repo=${path#/v2/}; repo=${repo%/manifests/*}
          ctype=$(curl -sf -H "$ACCEPT" -o "$dir/bodies/$n" -w '%{content_type}' "http://$host/v2/$repo/manifests/$ref")
          printf 'URL %s %s %s\n' "$at" "$dir/bodies/$n" "$ctype" >> "$dir/b.tmpl"
        fi ;;
      *) echo "unexpected request in the log: $method $url" >&2; exit 3 ;;
    esac
  done < "$log"
  # `next` separates transfers; a last one would start a transfer without a URL.
  sed -i '$d' "$dir/a.curl"
}

# Round A, then round B built from A's Location headers; prints the wall time of both, and
# fails unless every request got the status sigscope's own did (2xx, or 404 for a HEAD/GET).
replay() { # dir twin
  local dir=$1 host=$2 t0 t1 t2 t3
  t0=$(now); curl -s -K "$dir/a.curl" > "$dir/a.out"; t1=$(now)
  awk -v host="http://$host" '$1 == 202 {loc = $3; if (loc ~ /^\//) loc = host loc; print loc}' "$dir/a.out" > "$dir/locations"
  awk -v locs="$dir/locations" '
    $1 == "UPLOAD" { getline loc < locs; sep = (loc ~ /\?/) ? "&" : "?"
                     printf "url = \"%s%sdigest=%s\"\n", loc, sep, $2; body = $3; ctype = $4 }
    $1 == "URL"    { printf "url = \"%s\"\n", $2; body = $3; ctype = $4 }
    { printf "request = \"PUT\"\nheader = \"Content-Type: %s\"\nheader = \"Expect:\"\ndata-binary = \"@%s\"\noutput = \"/dev/null\"\nwrite-out = \"%%{http_code} %%{time_total} %%{url_effective}\\n\"\nnext\n", ctype, body }
  ' "$dir/b.tmpl" | sed '$d' > "$dir/b.curl"
  t2=$(now); curl -s -K "$dir/b.curl" > "$dir/b.out"; t3=$(now)
  if awk '$1 !~ /^(2..|404)$/' "$dir/a.out" | grep -q . || awk '$1 != 201' "$dir/b.out" | grep -q .; then
    echo "the curl replay did not get the answers sigscope got: $dir" >&2; exit 3
  fi
  # sigscope waits after writing a tag-schema index (twice its read + write, 25 ms to 1 s) and
  # reads it again, to catch a concurrent writer; no floor has that wait, so it is estimated
  # from the replay's own read and write of each index.
  local settle
  settle=$(awk '
    FNR == NR { if ($3 ~ /\/manifests\/sha256-/ && !($3 in get)) get[$3] = $2; next }
    $3 ~ /\/manifests\/sha256-/ { t = 2 * ($2 + get[$3]); if (t < 0.025) t = 0.025; if (t > 1) t = 1; w += t }
    END { printf "%.6f", w + 0 }' "$dir/a.out" "$dir/b.out")
  echo "$(echo "($t1 - $t0) + ($t3 - $t2)" | bc) $settle"
}

RESULTS=()
bench() {
  local name=$1 host=$2 twin=$3
  wait_up "$host"; wait_up "$twin"
  # A warm-up set, then per run one set for the processes and one for the in-process loop.
  local total=$((WARM + 2 * RUNS * IMAGES)) all=$WORK/$name.targets
  target/release/examples/seed "$host" "$total" 0 "$REPOS" 2>&1 | sed "s/^/  /" >&2
  target/release/examples/seed "$twin" "$total" 0 "$REPOS" 2>&1 | sed "s/^/  twin: /" >&2
  targets "$host" "$total" "$all"
  targets "$twin" "$total" "$WORK/$name.twin"
  # The seed is deterministic: the twin must hold the very same images.
  cmp -s <(sed 's#^[^/]*/##' "$all") <(sed 's#^[^/]*/##' "$WORK/$name.twin") ||
    { echo "the twin registry holds other images" >&2; exit 3; }
  set_of() { sed -n "$((WARM + $1 * IMAGES + 1)),$((WARM + ($1 + 1) * IMAGES))p" "$all" > "$2"; }
  head -n "$WARM" "$all" > "$WORK/$name.warm"
  sign_all "$WORK/$name.warm"
  local s=() p=() c=() w=() v=() prim=() requests=0 puts=0 r t0 t1 out floor_s
  for r in $(seq "$RUNS"); do
    local log="$WORK/$name.r$r.log" cli="$WORK/$name.r$r.cli" inproc="$WORK/$name.r$r.inproc"
    set_of $((2 * r - 2)) "$cli"; set_of $((2 * r - 1)) "$inproc"
    t0=$(now); sign_all "$cli" "$log"; t1=$(now)
    s+=("$(echo "($t1 - $t0) / $IMAGES" | bc -l)")
    replay_configs "$log" "$WORK/$name.r$r" "$host" "$twin"
    floor_s=$(replay "$WORK/$name.r$r" "$twin")
    c+=("$(echo "${floor_s% *} / $IMAGES" | bc -l)")
    w+=("$(echo "${floor_s#* } / $IMAGES" | bc -l)")
    out=$("$BENCH" "$KEY" "$CERT" "$inproc")
    prim+=("$(sed -n 's/^primitive_us=\([0-9.]*\).*/\1/p' <<< "$out")")
    p+=("$(echo "$(sed -n 's/^pipeline_s=\([0-9.]*\).*/\1/p' <<< "$out") / $IMAGES" | bc -l)")
    t0=$(now); for _ in $(seq "$IMAGES"); do "$BIN" --version > /dev/null; done; t1=$(now)
    v+=("$(echo "($t1 - $t0) / $IMAGES" | bc -l)")
    requests=$(wc -l < "$log"); puts=$(grep -c '^PUT' "$log" || true)
  done
  local sm pm cm wm vm prm floor
  sm=$(printf '%s\n' "${s[@]}" | median); pm=$(printf '%s\n' "${p[@]}" | median)
  wm=$(printf '%s\n' "${w[@]}" | median)
  cm=$(printf '%s\n' "${c[@]}" | median); vm=$(printf '%s\n' "${v[@]}" | median)
  prm=$(printf '%s\n' "${prim[@]}" | median)
  floor=$(echo "$prm / 1000000 + $cm" | bc -l)
  printf '%s: %s images, %s requests per run (%s PUT), %s per signature; the last run'"'"'s log:\n' \
    "$name" "$IMAGES" "$requests" "$puts" "$(echo "$requests / $IMAGES" | bc)"
  sed -E 's/\?[^ ]*//; s#/uploads/[^ ]+#/uploads/UUID#; s/sha256[-:][0-9a-f]{64}/DIGEST/g; s#/r[0-9]{3}/#/rNNN/#; s#http://[^/]+##' \
    "$WORK/$name.r$RUNS.log" | sort | uniq -c | sort -rn | sed 's/^/  /' | head -12
  printf '  sigscope sign (process per signature)  %8.2f ms/signature\n' "$(echo "$sm * 1000" | bc -l)"
  printf '  sign_manifest in one process           %8.2f ms/signature\n' "$(echo "$pm * 1000" | bc -l)"
  printf '  floor: primitive %.1f µs + curl replay %.2f ms = %.2f ms/signature   ratio %.2fx (in-process %.2fx)\n' \
    "$prm" "$(echo "$cm * 1000" | bc -l)" "$(echo "$floor * 1000" | bc -l)" "$(echo "$sm / $floor" | bc -l)" "$(echo "$pm / $floor" | bc -l)"
  printf '  of which the tag-schema settle wait (estimated) %.2f ms: without it %.2f ms, ratio %.2fx (in-process %.2fx)\n' \
    "$(echo "$wm * 1000" | bc -l)" "$(echo "($sm - $wm) * 1000" | bc -l)" "$(echo "($sm - $wm) / $floor" | bc -l)" "$(echo "($pm - $wm) / $floor" | bc -l)"
  printf '  floor: sigscope --version              %8.2f ms/process   sign - start-up = %.2f ms\n' \
    "$(echo "$vm * 1000" | bc -l)" "$(echo "($sm - $vm) * 1000" | bc -l)"
  printf '  runs (sign, in-process, curl, --version; ms): ' 
  for r in $(seq 0 $((RUNS - 1))); do printf '[%.1f %.1f %.1f %.1f] ' "$(echo "${s[$r]} * 1000" | bc -l)" "$(echo "${p[$r]} * 1000" | bc -l)" "$(echo "${c[$r]} * 1000" | bc -l)" "$(echo "${v[$r]} * 1000" | bc -l)"; done
  echo
}

start_distribution main; MAIN=$HOST; start_distribution twin; bench docker-registry "$MAIN" "$HOST"
start_ferro main; MAIN=$HOST; start_ferro twin; bench ferro-oci-server "$MAIN" "$HOST"
echo "openssl speed ecdsap256 (for reference): $(openssl speed -seconds 1 ecdsap256 2>/dev/null | awk '/nistp256/ {print $(NF-1) " sign/s"}')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
