#!/usr/bin/env bash
# Fuzzes the parsers that read hostile bytes: Notation envelopes (JWS, COSE), RFC 3161
# timestamp tokens, the trust policy and OCI manifests. Not part of the test suite.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 600 s, every target)
# Needs the nightly toolchain and cargo-fuzz (installed here if missing). New corpus entries
# go to fuzz/corpus/TARGET (ignored by git); crashes to fuzz/artifacts/TARGET.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-600}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(envelope_jws envelope_cose timestamp_token trust_policy manifest)
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== $t for ${secs}s" >&2
  # -rss_limit_mb and -timeout turn unbounded allocation and hangs into findings.
  cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 | tee "corpus/$t.log" |
    grep -E '^(stat::|==|SUMMARY|Done)|panicked|deadly signal|Test unit written' || true
done
