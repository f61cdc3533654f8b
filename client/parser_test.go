package client

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// outcome is everything a caller can observe after feeding a response.
type outcome struct {
	n           int   // bytes Feed said belong to the response
	done        bool  // Feed reported the response complete
	err         error // first Feed error
	eofDone     bool  // EOF() result, when the test closes the connection
	eofErr      error
	status      int
	bytes       int64
	keepAlive   bool
	headersDone bool
}

func (o outcome) String() string {
	return fmt.Sprintf("n=%d done=%v err=%v eof=(%v,%v) status=%d bytes=%d keepAlive=%v headersDone=%v",
		o.n, o.done, o.err, o.eofDone, o.eofErr, o.status, o.bytes, o.keepAlive, o.headersDone)
}

// feed runs one response through p in the given pieces, the way a read loop
// would: it stops at the first error, keeps feeding after done (a complete
// response must consume nothing more), and then, if eof is set and the
// response is not complete, tells the parser the connection closed.
func feed(p *Parser, head, eof bool, pieces ...[]byte) outcome {
	p.Reset(head)
	var o outcome
	for _, b := range pieces {
		n, done, err := p.Feed(b)
		o.n += n
		if n > len(b) {
			o.err = fmt.Errorf("consumed %d of %d bytes", n, len(b))
			break
		}
		if err != nil {
			o.err = err
			break
		}
		if o.done && (n != 0 || !done) {
			o.err = fmt.Errorf("fed after done: n=%d done=%v", n, done)
			break
		}
		o.done = done
	}
	if eof && o.err == nil && !o.done {
		o.eofDone, o.eofErr = p.EOF()
	}
	o.status, o.bytes, o.keepAlive, o.headersDone = p.Status, p.Bytes, p.KeepAlive(), p.HeadersDone()
	return o
}

// sameOutcome compares two ways of feeding the same input. Where a parse
// failed, only the error must match: how far the parser got before noticing
// depends on where the reads were split.
func sameOutcome(a, b outcome) bool {
	if a.err != nil || b.err != nil {
		return errors.Is(a.err, b.err) && errors.Is(b.err, a.err)
	}
	return a == b
}

const (
	clResp      = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
	chunkedResp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5;name=value\r\nhello\r\n" +
		"6 ; a=b; c=\"d\"\r\n world\r\n" +
		"A\r\n0123456789\r\n" +
		"0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
	upgradeResp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
)

type parserCase struct {
	name string
	in   string
	head bool // the request was a HEAD
	eof  bool // close the connection after feeding

	// Expected; bytes < 0 means len(in).
	status      int
	done        bool // after Feed (before any EOF)
	n           int  // consumed; < 0 means len(in)
	bytes       int64
	keepAlive   bool
	eofDone     bool
	err, eofErr error
}

var parserCases = []parserCase{
	{name: "content-length body", in: clResp, status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "content-length zero", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "content-length repeated with the same value",
		in:     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length:3\r\n\r\nabc",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "header names in any case, values padded",
		in:     "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: \t2 \r\nX-Empty:\r\n\r\nok",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "status line without reason", in: "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", status: 404, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "status 503 with long reason", in: "HTTP/1.1 503 Service Unavailable Right Now\r\nContent-Length: 1\r\n\r\nx", status: 503, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "status 599", in: "HTTP/1.1 599 Whatever\r\nContent-Length: 0\r\n\r\n", status: 599, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "blank line before status line", in: "\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", status: 201, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "chunked with extensions and trailers", in: chunkedResp, status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "chunked with bare LF line endings",
		in:     "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n4;x\n\r\nde\n0\nTrailer: v\n\n",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "chunked after another coding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "chunked wins over content-length",
		in:     "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "transfer-encoding not chunked: body until close",
		in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nsome bytes", eof: true,
		status: 200, done: false, n: -1, bytes: -1, keepAlive: false, eofDone: true},
	{name: "HEAD with content-length has no body",
		in: "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", head: true,
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "HEAD with chunked has no body",
		in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", head: true,
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "204 has no body", in: "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", status: 204, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "304 has no body", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n", status: 304, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "100 continue then 200",
		in:     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "100 continue with connection close does not leak into the 200",
		in:     "HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "103 early hints then 200",
		in: "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
			"HTTP/1.1 103 Early Hints\r\nLink: </app.js>; rel=preload\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "1xx then HEAD response", head: true,
		in:     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "101 switching protocols ends HTTP",
		in:     upgradeResp + "\x81\x02hi", // a websocket frame follows
		status: 101, done: true, n: len(upgradeResp), bytes: int64(len(upgradeResp)), keepAlive: false},
	{name: "HTTP/1.0 without length: body until EOF",
		in: "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body runs to close", eof: true,
		status: 200, done: false, n: -1, bytes: -1, keepAlive: false, eofDone: true},
	{name: "HTTP/1.1 without length: body until EOF",
		in: "HTTP/1.1 200 OK\r\n\r\nabc", eof: true,
		status: 200, done: false, n: -1, bytes: -1, keepAlive: false, eofDone: true},
	{name: "HTTP/1.0 with keep-alive and length",
		in:     "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 3\r\n\r\nabc",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: true},
	{name: "HTTP/1.0 with length but no keep-alive",
		in:     "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: false},
	{name: "connection close",
		in:     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: false},
	{name: "connection close among tokens",
		in:     "HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 0\r\n\r\n",
		status: 200, done: true, n: -1, bytes: -1, keepAlive: false},
	{name: "connection close with close-delimited body",
		in: "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\noops", eof: true,
		status: 500, done: false, n: -1, bytes: -1, keepAlive: false, eofDone: true},
	{name: "bytes after the response are not consumed",
		in:     clResp + "HTTP/1.1 200 OK\r\n",
		status: 200, done: true, n: len(clResp), bytes: int64(len(clResp)), keepAlive: true},

	// Errors.
	{name: "conflicting content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", err: ErrMalformed},
	{name: "content-length not a number", in: "HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc", err: ErrMalformed},
	{name: "content-length negative", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: ErrMalformed},
	{name: "content-length empty", in: "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", err: ErrMalformed},
	{name: "content-length too large", in: "HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999999\r\n\r\n", err: ErrMalformed},
	{name: "status line: HTTP/2", in: "HTTP/2 200 OK\r\n\r\n", err: ErrMalformed},
	{name: "status line: HTTP/1.2", in: "HTTP/1.2 200 OK\r\n\r\n", err: ErrMalformed},
	{name: "status line: lower-case http", in: "http/1.1 200 OK\r\n\r\n", err: ErrMalformed},
	{name: "status line: two-digit code", in: "HTTP/1.1 20 OK\r\n\r\n", err: ErrMalformed},
	{name: "status line: four-digit code", in: "HTTP/1.1 2000 OK\r\n\r\n", err: ErrMalformed},
	{name: "status line: letter in code", in: "HTTP/1.1 2x0 OK\r\n\r\n", err: ErrMalformed},
	{name: "status line: two spaces", in: "HTTP/1.1  200 OK\r\n\r\n", err: ErrMalformed},
	{name: "status line: no space before code", in: "HTTP/1.1_200 OK\r\n\r\n", err: ErrMalformed},
	{name: "status line: garbage", in: "SSH-2.0-OpenSSH_9.6\r\n", err: ErrMalformed},
	{name: "status line: too short", in: "HTTP/1.1\r\n\r\n", err: ErrMalformed},
	{name: "header without colon", in: "HTTP/1.1 200 OK\r\nContent-Length 3\r\n\r\nabc", err: ErrMalformed},
	{name: "header with empty name", in: "HTTP/1.1 200 OK\r\n: v\r\n\r\n", err: ErrMalformed},
	{name: "chunk size not hex", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", err: ErrMalformed},
	{name: "chunk size empty", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", err: ErrMalformed},
	{name: "chunk data longer than its size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", err: ErrMalformed},
	{name: "chunk data followed by CR CR", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\r0\r\n\r\n", err: ErrMalformed},
	{name: "header line too long",
		in:  "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", maxLine) + "\r\nContent-Length: 0\r\n\r\n",
		err: ErrLineTooLong},
	{name: "status line too long", in: "HTTP/1.1 200 " + strings.Repeat("a", maxLine) + "\r\n\r\n", err: ErrLineTooLong},
	{name: "endless header line without newline", in: "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", maxLine+1), err: ErrLineTooLong},
	{name: "chunk-size line too long",
		in:  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", maxLine) + "\r\nx\r\n0\r\n\r\n",
		err: ErrLineTooLong},

	// Truncated: the connection closes before the response is complete.
	{name: "truncated body", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", eof: true,
		status: 200, done: false, n: -1, bytes: -1, keepAlive: true, eofErr: ErrTruncated},
	{name: "truncated headers", in: "HTTP/1.1 200 OK\r\nContent-Len", eof: true,
		status: 200, done: false, n: -1, bytes: -1, keepAlive: true, eofErr: ErrTruncated},
	{name: "truncated status line", in: "HTTP/1.", eof: true,
		done: false, n: -1, bytes: -1, keepAlive: true, eofErr: ErrTruncated},
	{name: "truncated chunked body", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", eof: true,
		status: 200, done: false, n: -1, bytes: -1, keepAlive: true, eofErr: ErrTruncated},
	{name: "truncated before the last chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", eof: true,
		status: 200, done: false, n: -1, bytes: -1, keepAlive: true, eofErr: ErrTruncated},
	{name: "truncated in trailers", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n", eof: true,
		status: 200, done: false, n: -1, bytes: -1, keepAlive: true, eofErr: ErrTruncated},
	{name: "truncated after 100 continue", in: "HTTP/1.1 100 Continue\r\n\r\n", eof: true,
		done: false, n: -1, bytes: -1, keepAlive: true, eofErr: ErrTruncated},
}

func (tt parserCase) want() outcome {
	if tt.err != nil {
		return outcome{err: tt.err}
	}
	w := outcome{n: tt.n, done: tt.done, eofDone: tt.eofDone, eofErr: tt.eofErr,
		status: tt.status, bytes: tt.bytes, keepAlive: tt.keepAlive}
	if w.n < 0 {
		w.n = len(tt.in)
	}
	if w.bytes < 0 {
		w.bytes = int64(len(tt.in))
	}
	return w
}

// matches compares got with the table's expectation, which leaves
// HeadersDone to the split comparisons and TestParserStarted.
func (w outcome) matches(got outcome) bool {
	got.headersDone = false
	return sameOutcome(got, w)
}

func TestParser(t *testing.T) {
	for _, tt := range parserCases {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			var p Parser
			want := tt.want()
			got := feed(&p, tt.head, tt.eof, in)
			if !want.matches(got) {
				t.Fatalf("whole:\n got %v\nwant %v", got, want)
			}

			// The same response, however the reads split it, gives the same result.
			for i := 0; i <= len(in); i++ {
				if g := feed(&p, tt.head, tt.eof, in[:i:i], in[i:]); !sameOutcome(g, got) {
					t.Fatalf("split at %d (%q | %q):\n got %v\nwant %v", i, in[:i], in[i:], g, got)
				}
			}
			pieces := make([][]byte, len(in))
			for i := range in {
				pieces[i] = in[i : i+1 : i+1]
			}
			if g := feed(&p, tt.head, tt.eof, pieces...); !sameOutcome(g, got) {
				t.Fatalf("byte by byte:\n got %v\nwant %v", g, got)
			}
		})
	}
}

// TestParserReuse checks that a parser reset between responses carries
// nothing over, in particular a line that was spilled half way.
func TestParserReuse(t *testing.T) {
	var p Parser
	// A response abandoned mid-line (the request timed out).
	p.Reset(false)
	if _, _, err := p.Feed([]byte("HTTP/1.1 200 OK\r\nContent-Le")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range parserCases {
		if tt.err != nil {
			continue
		}
		// Each response once more after the previous one, on the same parser.
		got := feed(&p, tt.head, tt.eof, []byte(tt.in))
		if want := tt.want(); !want.matches(got) {
			t.Errorf("%s after reuse:\n got %v\nwant %v", tt.name, got, want)
		}
	}
}

func TestParserStarted(t *testing.T) {
	var p Parser
	p.Reset(false)
	if p.Started() || p.HeadersDone() || p.Done() {
		t.Fatal("fresh parser says started, headers done or done")
	}
	if _, _, err := p.Feed(nil); err != nil || p.Started() {
		t.Fatalf("empty feed: err %v, started %v", err, p.Started())
	}
	if _, _, err := p.Feed([]byte("HTTP/1.1 200 OK\r\n")); err != nil || !p.Started() || p.HeadersDone() {
		t.Fatalf("status line fed: err %v, started %v, headers done %v", err, p.Started(), p.HeadersDone())
	}
	if _, _, err := p.Feed([]byte("Content-Length: 4\r\n\r\nab")); err != nil || !p.HeadersDone() || p.Done() {
		t.Fatalf("headers fed: err %v, headers done %v, done %v", err, p.HeadersDone(), p.Done())
	}
	if done, err := p.EOF(); done || !errors.Is(err, ErrTruncated) {
		t.Fatalf("EOF mid-body = %v, %v; want false, ErrTruncated", done, err)
	}
}

func TestParserEOFWhenDone(t *testing.T) {
	var p Parser
	p.Reset(false)
	if _, done, err := p.Feed([]byte(clResp)); !done || err != nil {
		t.Fatalf("Feed = done %v, err %v", done, err)
	}
	if done, err := p.EOF(); !done || err != nil {
		t.Fatalf("EOF after a complete response = %v, %v; want true, nil", done, err)
	}
}

func TestParserNoAllocs(t *testing.T) {
	resp := []byte("HTTP/1.1 200 OK\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Type: application/json\r\n" +
		"Server: test\r\nContent-Length: 27\r\n\r\n{\"id\":1,\"name\":\"a product\"}")
	chunked := []byte(chunkedResp)
	tests := []struct {
		name   string
		pieces [][]byte
	}{
		{"whole", [][]byte{resp}},
		{"split header", [][]byte{resp[:40], resp[40:]}},
		{"split status line and body", [][]byte{resp[:7], resp[7:130], resp[130:]}},
		{"chunked split in a chunk-size line", [][]byte{chunked[:50], chunked[50:]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Parser
			run := func() {
				p.Reset(false)
				var done bool
				for _, b := range tt.pieces {
					_, done, _ = p.Feed(b)
				}
				if !done {
					panic("response not done")
				}
			}
			run() // warm up: the spill buffer grows once
			if n := testing.AllocsPerRun(200, run); n != 0 {
				t.Errorf("allocs per response = %v, want 0", n)
			}
		})
	}
}

func BenchmarkParser(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Type: application/json\r\n" +
		"Server: test\r\nContent-Length: 27\r\n\r\n{\"id\":1,\"name\":\"a product\"}")
	var p Parser
	b.SetBytes(int64(len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		p.Reset(false)
		p.Feed(resp)
	}
}

func FuzzParser(f *testing.F) {
	for _, tt := range parserCases {
		if len(tt.in) < 4096 {
			f.Add([]byte(tt.in), tt.head)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		var p Parser
		whole := feed(&p, head, true, in)
		if whole.n > len(in) || whole.bytes > int64(len(in)) {
			t.Fatalf("consumed more than the input (%d bytes): %v", len(in), whole)
		}
		if whole.err == nil && whole.bytes != int64(whole.n) {
			t.Fatalf("Bytes %d != consumed %d", whole.bytes, whole.n)
		}
		if whole.status < 0 || whole.status > 999 {
			t.Fatalf("status %d from three digits", whole.status)
		}
		for _, at := range []int{len(in) / 2, 1, len(in) - 1} {
			if at < 0 || at > len(in) {
				continue
			}
			split := feed(&p, head, true, in[:at:at], in[at:])
			if !sameOutcome(split, whole) {
				t.Fatalf("split at %d:\n got %v\nwant %v (whole)", at, split, whole)
			}
		}
		if len(in) < 512 {
			pieces := make([][]byte, len(in))
			for i := range in {
				pieces[i] = in[i : i+1 : i+1]
			}
			if g := feed(&p, head, true, pieces...); !sameOutcome(g, whole) {
				t.Fatalf("byte by byte:\n got %v\nwant %v (whole)", g, whole)
			}
		}
		// A parser reused after this input parses a normal response normally.
		if g := feed(&p, false, false, []byte(clResp)); !g.done || g.err != nil || g.status != 200 || g.n != len(clResp) {
			t.Fatalf("reused parser on a normal response: %v", g)
		}
	})
}
