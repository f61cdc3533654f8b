package results

import (
	"bufio"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/fuka-load/fuka/report"
)

// maxResult bounds one vegeta result: it holds the response body, so it
// may be far longer than a line of the other formats.
const maxResult = 64 << 20

// vegetaResult holds the fields of vegeta's Result that fuka keeps; gob
// and JSON both match fields by name, so the others (the body, headers)
// are read past and dropped.
type vegetaResult struct {
	Attack    string        `json:"attack"`
	Code      uint16        `json:"code"`
	Timestamp time.Time     `json:"timestamp"` // when the request was sent
	Latency   time.Duration `json:"latency"`   // nanoseconds
	BytesOut  uint64        `json:"bytes_out"`
	BytesIn   uint64        `json:"bytes_in"`
	Error     string        `json:"error"`
	Method    string        `json:"method"`
	URL       string        `json:"url"`
}

// vegeta records every request; requests are named by method and URL path
// (vegeta has no names); the target is their URL when they all had one,
// else the first one's scheme and host, as fuka attack and fuka run name
// theirs.
type vegeta struct {
	s      *samples
	url    string // the first request's URL
	urls   bool   // requests went to more than one URL
	target string
	method string
	mixed  bool
}

func (v *vegeta) add(r *vegetaResult) error {
	if r.Timestamp.IsZero() {
		return errors.New("a result without a timestamp")
	}
	if r.Latency < 0 {
		return fmt.Errorf("latency %v: negative", r.Latency)
	}
	name := r.Method
	if u, err := url.Parse(r.URL); err == nil && r.URL != "" {
		if v.target == "" {
			v.target = (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
			v.url = r.URL
		}
		v.urls = v.urls || r.URL != v.url
		name += " " + u.EscapedPath()
	}
	switch {
	case v.method == "":
		v.method = r.Method
	case v.method != r.Method:
		v.mixed = true
	}
	x := sample{name: name, start: r.Timestamp, latency: r.Latency, status: int(r.Code), in: int64(min(r.BytesIn, 1<<62)), out: int64(min(r.BytesOut, 1<<62))}
	if r.Error != "" && r.Code == 0 {
		x.err = goError(r.Error)
	}
	v.s.add(x)
	return nil
}

func (v *vegeta) summary() (*report.Summary, error) {
	if v.s.total.Requests == 0 {
		return nil, errors.New("no results")
	}
	sum := v.s.summary(importedAs("vegeta", report.PercentilesRecomputed, []string{"service_time"},
		"vegeta runs an open model (a fixed rate), but measures each latency from when a worker sent the request, "+
			"not from its intended start: when all workers are busy, requests go out late and the wait is not in the latencies (coordinated omission)"))
	sum.Model = report.ModelOpen
	sum.LatencyFrom = report.FromSend
	sum.Target = v.target
	if !v.urls {
		sum.Target = v.url
	}
	if !v.mixed {
		sum.Method = v.method
	}
	return sum, nil
}

func parseVegetaJSON(r io.Reader) (*report.Summary, error) {
	v := &vegeta{s: newSamples()}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxResult)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var res vegetaResult
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if err := v.add(&res); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a result longer than %d MiB: not vegeta's output", maxResult>>20)
		}
		return nil, err
	}
	return v.summary()
}

func parseVegetaGob(r io.Reader) (*report.Summary, error) {
	v := &vegeta{s: newSamples()}
	dec := gob.NewDecoder(&gobFrames{r: bufio.NewReader(r), max: maxResult})
	for n := 1; ; n++ {
		var res vegetaResult
		err := dec.Decode(&res)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("result %d: %w (not vegeta's binary output?)", n, err)
		}
		if err := v.add(&res); err != nil {
			return nil, fmt.Errorf("result %d: %w", n, err)
		}
	}
	return v.summary()
}

// lineErr says what a too-long line means.
func lineErr(err error) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("a line longer than %d bytes: not a result file", maxLine)
	}
	return err
}

// gobFrames passes a gob stream through, refusing a message longer than
// max bytes before encoding/gob allocates room for it (it would take up to
// a gigabyte on the word of a corrupt length). A gob message is a length,
// as gob encodes an unsigned integer (one byte below 128, else a negated
// byte count and that many big-endian bytes), then that many bytes.
type gobFrames struct {
	r       *bufio.Reader
	max     uint64
	left    uint64 // bytes left in the current message
	hdr     [9]byte
	pending []byte // the length just read, still to hand on
}

func (g *gobFrames) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(g.pending) == 0 && g.left == 0 {
		if err := g.header(); err != nil {
			return 0, err
		}
	}
	if len(g.pending) > 0 {
		n := copy(p, g.pending)
		g.pending = g.pending[n:]
		return n, nil
	}
	if uint64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, err := g.r.Read(p)
	g.left -= uint64(n)
	return n, err
}

// header reads the next message's length and checks it.
func (g *gobFrames) header() error {
	b, err := g.r.ReadByte()
	if err != nil {
		return err
	}
	g.hdr[0] = b
	if b < 0x80 {
		g.left, g.pending = uint64(b), g.hdr[:1]
		return nil
	}
	size := 256 - int(b) // a negated byte count
	if size > 8 {
		return errors.New("corrupt gob message length")
	}
	if _, err := io.ReadFull(g.r, g.hdr[1:1+size]); err != nil {
		return io.ErrUnexpectedEOF
	}
	var n uint64
	for _, c := range g.hdr[1 : 1+size] {
		n = n<<8 | uint64(c)
	}
	if n > g.max {
		return fmt.Errorf("a gob message of %d bytes: more than %d, not vegeta's output", n, g.max)
	}
	g.left, g.pending = n, g.hdr[:1+size]
	return nil
}
