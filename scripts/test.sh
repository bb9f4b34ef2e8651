#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine: installs the real servers the tests start
# (docker-registry, htpasswd, the token server's Python deps, ferro-oci-server, moto, tmux), then runs
# formatting, lints and every test. Re-running skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v htpasswd >/dev/null || need_apt+=(apache2-utils)
command -v tmux >/dev/null || need_apt+=(tmux)
command -v openssl >/dev/null || need_apt+=(openssl)
python3 -c 'import cryptography' 2>/dev/null || need_apt+=(python3-cryptography)
# moto's venv (below) needs ensurepip, which Debian ships in python3-venv.
if [ ! -x .tools/moto/bin/moto_server ]; then python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}" >&2
  as_root apt-get update -qq
  # policy-rc.d keeps the packaged registry service from starting; the tests start their own.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "cargo not found: install the Rust toolchain (https://rustup.rs) and re-run" >&2
  exit 2
fi

if [ ! -x .tools/bin/ferro-oci-server ]; then
  echo "== installing ferro-oci-server into .tools/" >&2
  cargo install --quiet --root .tools ferro-oci-server
fi
export SIGSCOPE_FERRO="$PWD/.tools/bin/ferro-oci-server"

# moto serves the ECR API for tests/ecr.rs (a project venv: the system's moto, if any, is older).
if [ ! -x .tools/moto/bin/moto_server ]; then
  echo "== installing moto[server] into .tools/moto" >&2
  rm -rf .tools/moto
  python3 -m venv .tools/moto
  .tools/moto/bin/pip install --quiet 'moto[server]==5.2.5'
fi
export SIGSCOPE_MOTO="$PWD/.tools/moto/bin/moto_server"

# A one-off build gains nothing from incremental state, which would roughly double target/.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export NO_COLOR=1 INSTA_UPDATE=no CARGO_TERM_COLOR=never
echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --all-targets --quiet -- -D warnings
echo "== cargo build --release (the binary the terminal tests drive)" >&2
cargo build --release --quiet
echo "== cargo test" >&2
cargo test --all-targets --quiet "$@"
