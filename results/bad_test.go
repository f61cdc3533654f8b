package results

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestImportBadInput(t *testing.T) {
	jtlHead := "timeStamp,elapsed,label,responseCode,success\n"
	long := strings.Repeat("x", maxLine+10)
	for _, tc := range []struct {
		name, format, in, want string
	}{
		{"empty", "", "", "the file is empty"},
		{"unknown", "", "hello world\n", "name it with --format"},
		{"bad format flag", "csv", "x", `--format "csv": want one of`},
		{"jtl without header", JTLCSV, "1764892800000,10,home,200,true\n", `header has no "timeStamp" column`},
		{"jtl only header", JTLCSV, jtlHead, "no samples after the header"},
		{"jtl date timestamps", JTLCSV, jtlHead + "2025/12/05 00:00:00.000,10,home,200,true\n", "record 2: timeStamp \"2025/12/05 00:00:00.000\": want Unix milliseconds"},
		{"jtl negative elapsed", JTLCSV, jtlHead + "1764892800000,-1,home,200,true\n", `elapsed "-1"`},
		{"jtl bad quote", JTLCSV, jtlHead + "1764892800000,10,\"home,200,true\n", "line 2, column"},
		{"jtl line too long", JTLCSV, jtlHead + long + "\n", "longer than"},
		{"xml other root", JTLXML, "<plan/>", "not JMeter's <testResults>"},
		{"xml no samples", JTLXML, "<testResults version=\"1.2\"></testResults>", "no samples"},
		{"xml broken", JTLXML, "<testResults><httpSample t=\"1\"", "line 1"},
		{"xml deep", JTLXML, "<testResults>" + strings.Repeat("<a>", 100), "nested more than 64 deep"},
		{"locust no aggregated", LocustStats, "Type,Name,Request Count,Failure Count,Requests/s\nGET,home,1,0,1\n", `no "Aggregated" row`},
		{"locust bad count", LocustStats, "Type,Name,Request Count,Failure Count,Requests/s\n,Aggregated,x,0,1\n", `Request Count "x": not a count`},
		{"locust history backwards", LocustHistory, "Timestamp,Name,Total Request Count,Total Failure Count\n10,Aggregated,1,0\n5,Aggregated,2,0\n", "goes back in time"},
		{"k6 summary no http_reqs", K6Summary, `{"metrics":{}}`, `no "metrics"."http_reqs"."count"`},
		{"k6 summary not json", K6Summary, `{"metrics":`, "not k6's --summary-export JSON"},
		{"k6 json other type", K6JSON, `{"type":"Row"}`, `type "Row": want Metric or Point`},
		{"k6 json no requests", K6JSON, `{"type":"Point","metric":"vus","data":{"time":"2025-12-05T00:00:00Z","value":1}}`, "no http_req_duration points"},
		{"k6 json negative", K6JSON, `{"type":"Point","metric":"http_req_duration","data":{"time":"2025-12-05T00:00:00Z","value":-1}}`, "not a measurement"},
		{"vegeta json no timestamp", VegetaJSON, `{"code":200,"latency":1}`, "line 1: a result without a timestamp"},
		{"vegeta json line too long", VegetaJSON, long, "longer than"},
		{"vegeta gob garbage", VegetaGob, "\x03abc", "not vegeta's binary output"},
		{"vegeta gob huge message", VegetaGob, string(gobLength(1 << 30)), "more than"},
		{"vegeta gob bad length", VegetaGob, "\x80", "corrupt gob message length"},
		{"wrk unfinished", Wrk, "Running 3s test @ http://x/\n  2 threads and 8 connections\n", `no "N requests in T" line`},
		{"wrk bad latency", Wrk, "Running 3s test @ http://x/\n    Latency   1.0parsec 2ms 3ms 90%\n  1 requests in 1.00s, 1KB read\n", `duration "1.0parsec"`},
		{"wrk bad size", Wrk, "  1 requests in 1.00s, 1XB read\n", `size "1XB"`},
		{"hey no summary", Hey, "Status code distribution:\n  [200]\t1 responses\n", `no "Total:" line`},
		{"hey bad seconds", Hey, "Summary:\n  Total:\tabc secs\n", "Total \"abc secs\": want seconds"},
		{"bombardier no result", Bombardier, `{"spec":{}}`, `no "spec" and "result"`},
		{"bombardier negative", Bombardier, `{"spec":{"numberOfConnections":1},"result":{"req2xx":-1}}`, "not a count"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, err := Import(strings.NewReader(tc.in), Options{Format: tc.format, File: "in.txt"})
			if err == nil {
				t.Fatalf("imported %+v; want an error", sum)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q; want it to say %q", err, tc.want)
			}
		})
	}
}

// gobLength is a gob message header announcing n bytes.
func gobLength(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return append([]byte{byte(256 - 8)}, b[:]...)
}

// TestDetectUnknownIsErrFormat: callers can tell a file in no known format.
func TestDetectUnknownIsErrFormat(t *testing.T) {
	if _, err := Detect([]byte("id,value\n1,2\n")); !errors.Is(err, ErrFormat) {
		t.Fatalf("err = %v; want ErrFormat", err)
	}
}

// TestNamesAreCapped: a file with more distinct labels than maxNames keeps
// maxNames of them and counts the rest under one name, so a label with an
// id in it cannot take memory without bound.
func TestNamesAreCapped(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("timeStamp,elapsed,label,responseCode,success\n")
	for i := range maxNames + 50 {
		fmt.Fprintf(&b, "%d,5,/item/%d,200,true\n", 1764892800000+int64(i), i)
	}
	sum, err := Import(&b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.ByName) != maxNames+1 || sum.ByName[maxNames].Name != otherNames || sum.ByName[maxNames].Requests != 50 {
		t.Fatalf("%d names, last %+v", len(sum.ByName), sum.ByName[len(sum.ByName)-1])
	}
	if sum.Requests != maxNames+50 {
		t.Fatalf("requests %d", sum.Requests)
	}
}

// TestTimelineOutOfOrder: samples written out of order (a tool writes a
// request when it ends, stamped with its start) land in their seconds;
// the per-second percentiles come from the samples of that second.
func TestTimelineOutOfOrder(t *testing.T) {
	in := "timeStamp,elapsed,label,responseCode,success\n" +
		"1764892801500,10,a,200,true\n" + // second 1 (ends 1.510)
		"1764892800000,400,a,200,true\n" + // second 0 (ends 0.400), written after
		"1764892800100,20,a,200,true\n" + // second 0
		"1764892802100,30,a,200,true\n" // second 2
	sum, err := Import(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(sum.Timeline); got != 3 {
		t.Fatalf("%d points: %+v", got, sum.Timeline)
	}
	for i, w := range []struct {
		n   int64
		max float64
	}{{2, 400}, {1, 10}, {1, 30}} { // wall-clock seconds 0, 1 and 2
		iv := sum.Timeline[i]
		if iv.Requests != w.n || iv.MaxMS == nil || !closeTo(*iv.MaxMS, w.max) {
			t.Errorf("point %d: %d requests, max %v; want %d, %v", i, iv.Requests, iv.MaxMS, w.n, w.max)
		}
	}
	if last := sum.Timeline[2]; !closeTo(last.TS, 2.13) || !closeTo(last.SpanS, 0.13) || sum.Timeline[0].TS != 1 {
		t.Errorf("last point ends at %v s after %v s; want 2.13 and 0.13 (the run's end)", last.TS, last.SpanS)
	}
}
