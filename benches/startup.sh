#!/usr/bin/env bash
# Time from launch to the first frame of the built-in demo, in a real terminal (tmux), against a
# baseline run side by side: launching `/bin/true` the same way. sigscope quits right after its
# first frame when SIGSCOPE_EXIT_AFTER_FIRST_FRAME is set.
# usage: benches/startup.sh [RUNS=20]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
cargo build --release --quiet --bin sigscope
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"; tmux kill-session -t sigscope-startup 2>/dev/null || true' EXIT
cat > "$OUT/run.sh" <<SH
for i in \$(seq $RUNS); do
  t0=\$(date +%s%N); SIGSCOPE_EXIT_AFTER_FIRST_FRAME=1 SIGSCOPE_CONFIG=/nonexistent $PWD/target/release/sigscope; t1=\$(date +%s%N)
  echo \$(( (t1 - t0) / 1000 )) >> $OUT/sigscope
  t0=\$(date +%s%N); /bin/true; t1=\$(date +%s%N)
  echo \$(( (t1 - t0) / 1000 )) >> $OUT/true
done
touch $OUT/done
SH
tmux new-session -d -s sigscope-startup -x 120 -y 40 "bash $OUT/run.sh"
for _ in $(seq 600); do [ -f "$OUT/done" ] && break; sleep 0.1; done
[ -f "$OUT/done" ] || { echo "startup runs did not finish" >&2; exit 3; }
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(median "$OUT/sigscope"); t=$(median "$OUT/true")
printf 'first frame of the demo: median %.1f ms over %s runs (launching /bin/true: %.1f ms; difference %.1f ms)\n' \
  "$(echo "$s/1000" | bc -l)" "$RUNS" "$(echo "$t/1000" | bc -l)" "$(echo "($s-$t)/1000" | bc -l)"
