#!/bin/sh
# gen.sh regenerates the fixtures made by real tools, run here against a
# local target (target.go): wrk (Debian), Locust (Debian python3-locust),
# vegeta v12.13.0, hey and bombardier v1.2.6 (go install from the module
# proxy). The JMeter and k6 fixtures are written by hand from their
# documented formats (see docs/import-results.md): neither tool runs here.
# wrk-rounded.txt and wrk-instant.txt are wrk-plain.txt edited by hand: a
# run time wrk rounds ("in 3.08s", "in 0.00s") next to its Requests/sec.
#
#   GOBIN=/tmp/bin go install github.com/tsenart/vegeta/v12@v12.13.0
#   GOBIN=/tmp/bin go install github.com/codesenberg/bombardier@v1.2.6
#   GOBIN=/tmp/bin go install github.com/rakyll/hey@v0.1.5
#   PATH=/tmp/bin:$PATH sh gen.sh
set -eu
cd "$(dirname "$0")"
addr=127.0.0.1:18931
url=http://$addr
bin=$(mktemp -d)
go build -o "$bin/target" target.go
"$bin/target" -addr $addr &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$bin"' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do curl -fsS -o /dev/null $url/ && break; sleep 1; done

wrk -t 2 -c 8 -d 3s --latency $url/ > wrk-latency.txt
wrk -t 1 -c 4 -d 2s $url/flaky > wrk-plain.txt
hey -n 400 -c 8 $url/flaky > hey.txt
printf "GET $url/\n\nGET $url/flaky\n" | vegeta attack -rate 20 -duration 2s > vegeta.bin
vegeta encode --to json < vegeta.bin > vegeta.json
bombardier -c 8 -n 500 -l -o json -p r $url/flaky > bombardier.json
bombardier -c 8 -n 300 -o json -p i,r $url/ > bombardier-ir.json
locust -f locustfile.py --headless -u 4 -r 4 -t 4s --host $url --csv locust --csv-full-history >/dev/null 2>&1 || true
# Debian's Locust 2.12.1 writes only the header and a first row of
# _stats_history.csv here (its writer stops); locust-history.csv is that
# header with rows written by hand from the format.
rm -f locust_failures.csv locust_exceptions.csv locust_stats_history.csv
