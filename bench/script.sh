#!/bin/bash
# The scenario benchmark (../shared/bench/scenario/run.sh: the 3-request login flow, 64 clients,
# nginx on one CPU, fuka on the other) run twice: with its YAML plan, and with the same flow as a
# script (bench/script/). Its validation pass checks the script's flow as it checks the plan's
# (every /me carries a token a /login returned). Compare req/cpu_s of the two tables.
#   bash bench/script.sh            REPEAT=3 by default; other settings as for run.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench/scenario}
WORK=$(mktemp -d /tmp/fuka-script-bench.XXXXXX)
export FUKA_BIN=${FUKA_BIN:-$WORK/fuka} TOOLS=fuka-plan REPEAT=${REPEAT:-3}
(cd "$ROOT" && go build -o "$FUKA_BIN" ./cmd/fuka)
for kind in yaml script; do
	cp -r "$SHARED" "$WORK/$kind"
	if [[ $kind == script ]]; then
		cp "$ROOT/bench/script/fuka-plan.yaml" "$ROOT/bench/script/flow.star" "$WORK/$kind/"
	fi
	echo "== $kind"
	OUT_DIR=$WORK/out-$kind bash "$WORK/$kind/run.sh" | sed -n '/^Validation pass/,/^$/p;/^Measured runs/,/^$/p'
done
echo "raw output under $WORK"
