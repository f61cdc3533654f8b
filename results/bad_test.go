package results

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
		{"vegeta json line too long", VegetaJSON, strings.Repeat("x", maxResult+10), "a result longer than 64 MiB"},
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
// request when it ends, stamped with its start) land in their seconds and
// in those seconds' percentiles, unless they come more than window
// seconds late: then they count in the second's requests only.
func TestTimelineOutOfOrder(t *testing.T) {
	in := "timeStamp,elapsed,label,responseCode,success\n" +
		"1764892800100,20,a,200,true\n" + // second 0 (ends 0.120)
		"1764892801500,10,a,500,false\n" + // second 1 (ends 1.510)
		"1764892802100,30,a,200,true\n" + // second 2 (ends 2.130)
		"1764892800000,400,a,200,true\n" + // second 0 (ends 0.400), written late
		"1764892870000,5,a,200,true\n" + // second 70
		"1764892800050,900,a,200,true\n" // second 0 (ends 0.950), 70 s late: not in its percentiles
	sum, err := Import(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(sum.Timeline); got != 71 {
		t.Fatalf("%d points: %+v", got, sum.Timeline)
	}
	for i, w := range []struct {
		n, failed int64
		max       float64
	}{{3, 0, 400}, {1, 1, 10}, {1, 0, 30}} { // wall-clock seconds 0, 1 and 2
		iv := sum.Timeline[i]
		if iv.Requests != w.n || iv.Failed != w.failed || iv.MaxMS == nil || !closeTo(*iv.MaxMS, w.max) {
			t.Errorf("point %d: %d requests, %d failed, max %v; want %d, %d, %v", i, iv.Requests, iv.Failed, *iv.MaxMS, w.n, w.failed, w.max)
		}
	}
	if sum.Latency.MaxMS < 900 {
		t.Errorf("the late sample is missing from the run's max: %v", sum.Latency.MaxMS)
	}
	if last := sum.Timeline[70]; !closeTo(last.TS, 70.005) || !closeTo(last.SpanS, 0.005) || sum.Timeline[0].TS != 1 {
		t.Errorf("last point ends at %v s after %v s; want 70.005 and 0.005 (the run's end)", last.TS, last.SpanS)
	}
}

// TestTimelineFirstSecond: a run that starts within a wall-clock second
// has a first point as short as its part of that second.
func TestTimelineFirstSecond(t *testing.T) {
	in := "timeStamp,elapsed,label,responseCode,success\n" +
		"1764892800600,10,a,200,true\n" +
		"1764892801200,10,a,200,true\n"
	sum, err := Import(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Timeline) != 2 || !closeTo(sum.Timeline[0].TS, 0.4) || !closeTo(sum.Timeline[0].SpanS, 0.4) || !closeTo(sum.Timeline[0].RPS, 2.5) {
		t.Fatalf("timeline %+v; want a first point of 0.4 s", sum.Timeline)
	}
}

// TestSmallInputs: what the fixtures do not show, each in a few lines.
func TestSmallInputs(t *testing.T) {
	for _, tc := range []struct {
		name, format, in  string
		requests, failed  int64
		refused, timeouts int64
		status            map[string]int64
	}{
		// wrk 4 counts a timeout when a response completes after --timeout:
		// it is among the 10 requests already, and fails it.
		{"wrk socket errors are failed requests", Wrk,
			"  10 requests in 1.00s, 1.00KB read\n  Socket errors: connect 2, read 3, write 0, timeout 5\n  Non-2xx or 3xx responses: 1\n",
			15, 11, 2, 5, nil},
		{"wrk timeouts no more than its requests", Wrk,
			"  4 requests in 1.00s, 1.00KB read\n  Socket errors: connect 0, read 0, write 0, timeout 4\n  Non-2xx or 3xx responses: 2\n",
			4, 4, 0, 4, nil},
		// wrk2 counts a timeout per connection still waiting at each check:
		// those are not among its requests.
		{"wrk2 timeouts are added", Wrk,
			"  Latency Distribution (HdrHistogram - Recorded Latency)\n 50.000%    1.00ms\n 99.900%    2.00ms\n  10 requests in 1.00s, 1.00KB read\n  Socket errors: connect 0, read 0, write 0, timeout 5\n",
			15, 5, 0, 5, nil},
		{"vegeta error without a response", VegetaJSON,
			`{"code":0,"timestamp":"2025-12-05T00:00:00Z","latency":1000000,"error":"dial tcp 127.0.0.1:1: connect: connection refused","method":"GET","url":"http://127.0.0.1:1/"}` + "\n" +
				`{"code":200,"timestamp":"2025-12-05T00:00:00.5Z","latency":1000000,"method":"GET","url":"http://127.0.0.1:1/"}`,
			2, 1, 1, 0, map[string]int64{"200": 1}},
		{"vegeta 5xx with an error text is a response", VegetaJSON,
			`{"code":503,"timestamp":"2025-12-05T00:00:00Z","latency":1000000,"error":"503 Service Unavailable","method":"GET","url":"http://x/"}`,
			1, 1, 0, 0, map[string]int64{"503": 1}},
		{"bombardier 4xx, others and errors fail", Bombardier,
			`{"spec":{"numberOfConnections":2,"url":"http://x/"},"result":{"timeTakenSeconds":1,"req2xx":5,"req4xx":2,"others":1,"errors":[{"description":"dial tcp: i/o timeout","count":3}]}}`,
			11, 6, 0, 3, map[string]int64{"200": 5, "400": 2, "invalid": 1}},
		{"hey errors", Hey,
			"Summary:\n  Total:\t1.0000 secs\n\nStatus code distribution:\n  [200]\t4 responses\n\nError distribution:\n  [3]\tGet \"http://x/\": dial tcp: connection refused\n",
			7, 3, 3, 0, map[string]int64{"200": 4}},
		{"jtl refused", JTLCSV,
			"timeStamp,elapsed,label,responseCode,responseMessage,success\n1764892800000,3,a,Non HTTP response code: java.net.ConnectException,Connection refused,false\n1764892800000,3,a,Non HTTP response code: java.net.SocketTimeoutException,Read timed out,false\n",
			2, 2, 1, 1, map[string]int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, err := Import(strings.NewReader(tc.in), Options{Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Requests != tc.requests || sum.Failed != tc.failed || sum.Errors[1] != tc.timeouts || sum.Errors[2] != tc.refused {
				t.Errorf("requests %d failed %d errors %v; want %d %d, refused %d, timeouts %d", sum.Requests, sum.Failed, sum.Errors, tc.requests, tc.failed, tc.refused, tc.timeouts)
			}
			for code, n := range tc.status {
				if sum.Status[code] != n {
					t.Errorf("status %v; want %s: %d", sum.Status, code, n)
				}
			}
		})
	}
}

// TestVegetaTarget: requests to one URL have it as the target, as fuka
// attack's summary has; to several, their scheme and host.
func TestVegetaTarget(t *testing.T) {
	line := func(u string) string {
		return `{"code":200,"timestamp":"2025-12-05T00:00:00Z","latency":1000000,"method":"GET","url":"` + u + `"}` + "\n"
	}
	for _, tc := range []struct{ name, in, want string }{
		{"one URL", line("http://x:8080/a?q=1") + line("http://x:8080/a?q=1"), "http://x:8080/a?q=1"},
		{"two URLs", line("http://x:8080/a") + line("http://x:8080/b"), "http://x:8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, err := Import(strings.NewReader(tc.in), Options{Format: VegetaJSON})
			if err != nil || sum.Target != tc.want {
				t.Fatalf("target %q, %v; want %q", sum.Target, err, tc.want)
			}
		})
	}
}

// TestGobFramesSmallReads: the framing check passes a stream through
// unchanged however small the reads above it are.
func TestGobFramesSmallReads(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "vegeta.bin"))
	if err != nil {
		t.Fatal(err)
	}
	g := &gobFrames{r: bufio.NewReader(bytes.NewReader(data)), max: maxResult}
	var got []byte
	buf := make([]byte, 3)
	for {
		n, err := g.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("passed %d bytes of %d, changed", len(got), len(data))
	}
}
