#!/usr/bin/env bash
# Regenerates cli/link/meshctl.order: the functions a sidecar and its `meshctl run`
# supervisor execute, which release builds place together in the binary (see
# cli/build.rs). Run it after a toolchain or dependency update, or when the data-plane
# benchmark reports that many of the listed functions are no longer in the binary.
#
#   cargo build --release -p mesh-bench && bench/link-order.sh
#   cargo build --release -p meshctl   # relink with the new order
#
# meshctl is built here on its own, as `mesh-bench data-plane` builds it: built
# together with mesh-bench, cargo unifies the packages' features differently,
# which changes the hash in every symbol name, and the order would name
# functions that the measured binary does not have.
# How: a local mesh like the benchmark's (echo behind a sidecar, a loadgen client
# sidecar), both `meshctl run`s under valgrind's callgrind; plain HTTP/1.1, h2c and
# mutual-TLS requests through the sidecars, a metrics scrape, then SIGTERM, so the
# startup, steady-state, request and shutdown paths are all recorded.
# Needs valgrind and curl (apt-get install valgrind curl).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}/release"
meshctl="$target/meshctl"
bench="$target/mesh-bench"
for tool in valgrind curl nm python3; do
  command -v "$tool" >/dev/null || { echo "link-order: $tool is required" >&2; exit 1; }
done
[ -x "$bench" ] || {
  echo "link-order: build first: cargo build --release -p mesh-bench" >&2
  exit 1
}
cargo build --release --locked -p meshctl

work=$(mktemp -d)
home="$work/home"
cleanup() {
  pkill -TERM -f "$home" 2>/dev/null || true
  sleep 1
  "$meshctl" --home "$home" uninstall --purge -y >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
m() { "$meshctl" --home "$home" "$@"; }

m install -y >/dev/null
grind=(valgrind --tool=callgrind --demangle=no --trace-children=yes
  "--trace-children-skip=*mesh-bench*,*sleep*" "--callgrind-out-file=$work/callgrind.%p")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
setsid "${grind[@]}" "$meshctl" --home "$home" run --service echo --port 9080 \
  --app-port "$port" --ready-timeout 300 -- "$bench" echo --listen "127.0.0.1:$port" \
  >"$work/echo.log" 2>&1 &
echo_run=$!
setsid "${grind[@]}" "$meshctl" --home "$home" run --service loadgen --port 9081 \
  --ready-timeout 300 -- sleep 100000 >"$work/loadgen.log" 2>&1 &
loadgen_run=$!

echo "link-order: starting two sidecars under callgrind (slow: about a minute)" >&2
addr() { m get workloads -o json | python3 -c "
import json, sys
rows = [r for r in json.load(sys.stdin) if r['service'] == '$1']
print(rows[0]['$2'] if rows else '')"; }
for _ in $(seq 300); do
  out=$(addr loadgen outboundAddress)
  inbound=$(addr echo inboundAddress)
  if [ -n "$out" ] && [ -n "$inbound" ] &&
    curl -sf -m 20 -x "http://$out" http://echo:9080/ >/dev/null 2>&1; then
    break
  fi
  sleep 1
done
[ -n "$out" ] || { echo "link-order: the sidecars did not start:" >&2; cat "$work"/*.log >&2; exit 1; }

echo "link-order: requests through the sidecars" >&2
for _ in $(seq 200); do
  curl -sf -m 20 -x "http://$out" http://echo:9080/ -o /dev/null
done
for _ in $(seq 50); do
  curl -sf -m 20 --http2-prior-knowledge --connect-to "echo:9080:${out%:*}:${out##*:}" \
    http://echo:9080/ -o /dev/null
  curl -sf -m 20 -H "Host: echo:9080" "http://$inbound/" -o /dev/null
done
m get workloads -o json | python3 -c "
import json, sys
[print(r['adminAddress']) for r in json.load(sys.stdin)]" | while read -r admin; do
  curl -sf -m 20 "http://$admin/stats/prometheus" -o /dev/null
done
# Idle a little: the pool sweeper and the control-plane stream's keep-alives.
sleep 30

echo "link-order: stopping (callgrind writes its profiles)" >&2
kill -TERM "$echo_run" "$loadgen_run"
wait "$echo_run" "$loadgen_run" 2>/dev/null || true
python3 bench/link-order.py "$meshctl" cli/link/meshctl.order "$work"/callgrind.*
