#!/usr/bin/env bash
# How much the VM's time per request grows from 10 to 100,000 RBAC policies, on a noisy machine:
# runs `profile_vm rbac-10` and `profile_vm rbac-100000` in turn, PAIRS times, pinned to one core
# when `taskset` exists, and prints the fastest, 25th-percentile and median time of each and the
# same for the per-pair ratio. Extra arguments are set in the environment of every run, e.g.
# `benches/growth.sh 15 GLIBC_TUNABLES=glibc.malloc.hugetlb=1`.
set -euo pipefail
pairs=${1:-15}
shift || true
cd "$(dirname "$0")/.."
cargo build --quiet --profile profiling -p thuja-benches --example profile_vm
bin=${CARGO_TARGET_DIR:-target}/profiling/examples/profile_vm
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 1); fi
# run WORKLOAD: its time per request in ns.
run() { env "${settings[@]}" "${pin[@]}" "$bin" "$1" 300000 | sed -E 's/.*: ([0-9]+) ns.*/\1/'; }
settings=("$@")
small=(); large=(); ratios=()
for _ in $(seq "$pairs"); do
  a=$(run rbac-10)
  b=$(run rbac-100000)
  small+=("$a"); large+=("$b")
  ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')")
done
quantiles() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "fastest %s, p25 %s, median %s", v[1], v[int(NR / 4) + 1], v[int((NR + 1) / 2)] }'
}
echo "rbac-10 ns: $(quantiles "${small[@]}")"
echo "rbac-100000 ns: $(quantiles "${large[@]}")"
echo "ratio per pair: $(quantiles "${ratios[@]}")"
