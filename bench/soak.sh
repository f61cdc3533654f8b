#!/usr/bin/env bash
# Soak: runs `fuka attack` at a constant rate for a long time against a
# loopback nginx and measures how fast fuka's resident memory grows.
# Samples VmRSS from /proc/PID/status every INTERVAL seconds and prints the
# least-squares slope (KB/s) of RSS over time after WARMUP seconds.
#
#   bash bench/soak.sh                          # 30 min at 2,000/s, builds fuka
#   FUKA_BIN=/tmp/fuka-old DURATION=10m bash bench/soak.sh
#   OUT=/tmp/soak-new RATE=2000 DURATION=30m NICE=5 bash bench/soak.sh
#
# nginx (../shared/bench/nginx.conf, port rewritten to PORT) is started when
# NGINX (default /usr/sbin/nginx) exists; otherwise set URL to a running target.
# Loopback only.
#
# RSS moves with the Go runtime's own housekeeping (pages it has not yet
# returned, the binary's pages in and out of the page cache), so the script
# also samples the live heap after a forced GC — the figure a leak moves —
# when the binary serves pprof: a build with -tags soakpprof does on
# $FUKA_PPROF_ADDR (the script builds one when FUKA_BIN is unset).
set -euo pipefail
root=${FUKA_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RATE=${RATE:-2000}
DURATION=${DURATION:-30m}
INTERVAL=${INTERVAL:-10}
WARMUP=${WARMUP:-60}
NICE=${NICE:-5}
PORT=${PORT:-18471}
OUT=${OUT:-$(mktemp -d /tmp/soak-XXXX)}
NGINX=${NGINX:-/usr/sbin/nginx}
mkdir -p "$OUT"

if [ -z "${FUKA_BIN:-}" ]; then
	FUKA_BIN=$OUT/fuka
	(cd "$root" && go build -tags soakpprof -o "$FUKA_BIN" ./cmd/fuka)
fi

nginx_pid=
if [ -z "${URL:-}" ]; then
	[ -x "$NGINX" ] || { echo "soak.sh: no nginx at $NGINX; set URL to a loopback target" >&2; exit 1; }
	conf=${NGINX_CONF:-$root/../shared/bench/nginx.conf}
	mkdir -p "$OUT/nginx/tmp"
	sed "s/127\.0\.0\.1:8080/127.0.0.1:$PORT/" "$conf" >"$OUT/nginx/nginx.conf"
	"$NGINX" -c "$OUT/nginx/nginx.conf" -p "$OUT/nginx/" -e "$OUT/nginx/error.log"
	sleep 0.5
	nginx_pid=$(cat "$OUT/nginx/nginx.pid")
	URL=http://127.0.0.1:$PORT/
fi
cleanup() { [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true; }
trap cleanup EXIT

pprof=127.0.0.1:$((PORT + 1))
FUKA_PPROF_ADDR=$pprof nice -n "$NICE" "$FUKA_BIN" attack "$URL" --rate "$RATE" -d "$DURATION" \
	--results "$OUT/results" --no-history -o json --json-out "$OUT/summary.json" \
	>"$OUT/stdout.log" 2>"$OUT/stderr.log" &
pid=$!
start=$(date +%s)
# VmRSS is what the issue measures; RssAnon leaves out the binary's own
# pages (RssFile), which fault in and out with the page cache and are not
# fuka's data.
echo "# t_s vmrss_kb rssanon_kb heap_kb" >"$OUT/rss.tsv"
while kill -0 "$pid" 2>/dev/null; do
	row=$(awk '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} END {if (r != "") print r, a}' "/proc/$pid/status" 2>/dev/null || true)
	heap=$(curl -s -m 2 "http://$pprof/debug/pprof/heap?debug=1&gc=1" 2>/dev/null | awk '/^# HeapAlloc = / {print int($4 / 1024)}' || true)
	[ -n "$row" ] && echo "$(( $(date +%s) - start )) $row ${heap:--}" >>"$OUT/rss.tsv"
	sleep "$INTERVAL"
done
wait "$pid" && rc=0 || rc=$?

# Least-squares slope of each column against time, after the warm-up.
awk -v w="$WARMUP" -v rc="$rc" -v out="$OUT" '
	!/^#/ {
		if ($2 > max) max = $2
		if ($1 < w) next
		n++; sx += $1; sxx += $1*$1
		sy += $2; sxy += $1*$2; sa += $3; sxa += $1*$3
		if (n == 1) { first = $2; afirst = $3 }
		last = $2; alast = $3
		if ($4 != "-" && $4 != "") { hn++; hx += $1; hxx += $1*$1; hy += $4; hxy += $1*$4; if (hn == 1) hfirst = $4; hlast = $4 }
	}
	END {
		if (n < 2) { print "soak.sh: too few samples after warm-up" > "/dev/stderr"; exit 1 }
		d = n*sxx - sx*sx
		slope = (n*sxy - sx*sy) / d; aslope = (n*sxa - sx*sa) / d
		printf "exit %d, %d samples after %ds warm-up\n", rc, n, w
		printf "VmRSS   %d -> %d KB (peak %d KB), slope %.3f KB/s (%.1f MB/day)\n", first, last, max, slope, slope*86400/1024
		printf "RssAnon %d -> %d KB, slope %.3f KB/s (%.1f MB/day)\n", afirst, alast, aslope, aslope*86400/1024
		if (hn >= 2) {
			hslope = (hn*hxy - hx*hy) / (hn*hxx - hx*hx)
			printf "heap    %d -> %d KB live after GC, slope %.3f KB/s (%.1f MB/day)\n", hfirst, hlast, hslope, hslope*86400/1024
		}
		print "samples: " out "/rss.tsv"
	}' "$OUT/rss.tsv" | tee "$OUT/slope.txt"
