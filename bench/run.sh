#!/usr/bin/env bash
# Builds fuka and runs the shared peer comparison (../shared/bench/peers.sh)
# with fuka's arguments for each mode. Peers must be installed first
# (../shared/bench/INSTALL-PEERS.md). Loopback only.
#
#   bash bench/run.sh                          # sat + rate, all peers
#   MODES="sat rate conns" REPEAT=3 bash bench/run.sh
#   TOOLS="wrk fuka" bash bench/run.sh         # any peers.sh variable passes through
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS_SH:-$root/../shared/bench/peers.sh}
[ -f "$peers" ] || { echo "bench/run.sh: no peers.sh at $peers (set PEERS_SH)" >&2; exit 1; }
bin=$(mktemp -d)/fuka
(cd "$root" && go build -o "$bin" ./cmd/fuka)
export FUKA_BIN=$bin
export FUKA_SAT_ARGS='attack -c {CONNS} -d {DURATION}s -q -o json {URL}'
export FUKA_RATE_ARGS='attack --rate {RATE} -d {DURATION}s --max-clients {CONNS} -q -o json {URL}'
export FUKA_CONNS_ARGS='attack -c {MANY_CONNS} -d {DURATION}s -q -o json {URL}'
exec bash "$peers"
