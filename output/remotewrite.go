package output

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// RemoteWriteConfig is where and how a [RemoteWrite] sink pushes.
type RemoteWriteConfig struct {
	URL string // the receiver's push URL, e.g. http://127.0.0.1:9090/api/v1/write

	// Basic auth (User and the password in PasswordFile) or a bearer token
	// (in BearerTokenFile); files, so no secret is on the command line.
	User, PasswordFile string
	BearerTokenFile    string

	// TLS: CAFile verifies the server (default: the system's roots),
	// CertFile and KeyFile are a client certificate, ServerName overrides
	// the name verified, InsecureSkipVerify verifies nothing.
	CAFile, CertFile, KeyFile string
	ServerName                string
	InsecureSkipVerify        bool

	Timeout time.Duration // one push; default 5 s
	Batch   int           // most samples in one push; default 2000
	Queue   int           // most ticks waiting to be pushed; default 120 (two minutes)
	Retries int           // attempts after a failed push (5xx, 429, network); 0: 3, negative: none
}

const (
	rwDefaultTimeout = 5 * time.Second
	rwDefaultBatch   = 2000
	rwDefaultQueue   = 120
	rwDefaultRetries = 3
	// rwBackoff is the wait before the first retry; it doubles each time.
	rwBackoff = 250 * time.Millisecond
)

// ParseRemoteWrite reads a prometheus-rw target: the push URL, then after
// a '|' comma-separated options:
//
//	user=NAME,password_file=FILE   basic auth
//	bearer_token_file=FILE         Authorization: Bearer
//	ca_file=FILE  cert_file=FILE  key_file=FILE  server_name=NAME  insecure_skip_verify=true
//	timeout=5s  batch=2000  queue=120  retries=3
func ParseRemoteWrite(target string) (RemoteWriteConfig, error) {
	u, opts, _ := strings.Cut(target, "|")
	c := RemoteWriteConfig{URL: strings.TrimSpace(u)}
	if strings.TrimSpace(opts) == "" {
		return c, c.check()
	}
	for _, kv := range strings.Split(opts, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return c, fmt.Errorf("prometheus-rw option %q: want NAME=VALUE", kv)
		}
		var err error
		switch k {
		case "user":
			c.User = v
		case "password_file":
			c.PasswordFile = v
		case "bearer_token_file":
			c.BearerTokenFile = v
		case "ca_file":
			c.CAFile = v
		case "cert_file":
			c.CertFile = v
		case "key_file":
			c.KeyFile = v
		case "server_name":
			c.ServerName = v
		case "insecure_skip_verify":
			c.InsecureSkipVerify, err = strconv.ParseBool(v)
		case "timeout":
			c.Timeout, err = time.ParseDuration(v)
			if err == nil && c.Timeout <= 0 {
				err = errors.New("want a positive duration")
			}
		case "batch":
			c.Batch, err = positive(v)
		case "queue":
			c.Queue, err = positive(v)
		case "retries":
			c.Retries, err = strconv.Atoi(v)
			if err == nil && (c.Retries < 0 || c.Retries > 10) {
				err = errors.New("want 0..10")
			}
			if c.Retries == 0 {
				c.Retries = -1 // asked for none, not the default
			}
		default:
			return c, fmt.Errorf("prometheus-rw: unknown option %q (want user, password_file, bearer_token_file, ca_file, cert_file, key_file, server_name, insecure_skip_verify, timeout, batch, queue, retries)", k)
		}
		if err != nil {
			return c, fmt.Errorf("prometheus-rw option %s=%q: %w", k, v, err)
		}
	}
	return c, c.check()
}

func positive(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil && (n <= 0 || n > 1_000_000) {
		err = errors.New("want 1..1000000")
	}
	return n, err
}

// check validates the URL and the combinations of options.
func (c *RemoteWriteConfig) check() error {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("prometheus-rw: URL %q: want an http:// or https:// URL, e.g. http://127.0.0.1:9090/api/v1/write", c.URL)
	case u.User != nil:
		return fmt.Errorf("prometheus-rw: URL %q: put credentials in user= and password_file=, not in the URL", u.Redacted())
	case c.BearerTokenFile != "" && (c.User != "" || c.PasswordFile != ""):
		return errors.New("prometheus-rw: bearer_token_file and basic auth (user, password_file) exclude each other")
	case (c.User == "") != (c.PasswordFile == ""):
		return errors.New("prometheus-rw: basic auth needs both user= and password_file=")
	case (c.CertFile == "") != (c.KeyFile == ""):
		return errors.New("prometheus-rw: a client certificate needs both cert_file= and key_file=")
	}
	return nil
}

// RemoteWrite pushes the run's series to a Prometheus remote-write
// receiver (Prometheus, Mimir, Thanos, VictoriaMetrics, ...) following the
// remote write 1.0 specification: snappy-compressed protobuf
// WriteRequests, each with at most Batch samples, one sample per series per
// tick stamped with the tick's time.
//
// Tick never waits for the network: it publishes the values and hands the
// encoding to a goroutine, which puts the tick's samples on a bounded
// queue; a sender pushes them, retrying a failed push with backoff. When
// the queue is full (the receiver is slow or down) the oldest tick's
// samples are dropped, counted, and reported by Warnings and Close, never
// the load slowed: the counters are cumulative, so the next tick that
// arrives carries everything the dropped one did.
type RemoteWrite struct {
	st     state
	cfg    RemoteWriteConfig
	runID  string
	client *http.Client
	auth   string // Authorization header value

	kick      chan struct{} // Tick -> encoder: a new snapshot
	unencoded atomic.Int64  // kicks the encoder has not queued yet
	kickMu    sync.Mutex    // guards closing kick against a late Tick
	closed    bool
	queue     chan []rwSeries
	ctx       context.Context // canceled when Close gives up
	stop      context.CancelFunc
	encWG     sync.WaitGroup
	sndWG     sync.WaitGroup

	samples   atomic.Int64 // samples put on the queue
	sent      atomic.Int64 // samples the receiver accepted
	dropped   atomic.Int64 // samples dropped with the queue full
	failed    atomic.Int64 // samples dropped after their push failed for good
	pushes    atomic.Int64 // requests made (retries included)
	answered  atomic.Bool  // some push got an HTTP response
	netFails  atomic.Int64 // pushes that got no response (network errors)
	gaveUp    atomic.Bool  // Drain stopped pushing to a receiver that never answered
	lastErrMu sync.Mutex
	lastErr   error

	closeOnce sync.Once
	closeErr  error
}

// NewRemoteWrite starts a sink that pushes to c.URL; nothing is sent
// before the first tick.
func NewRemoteWrite(c RemoteWriteConfig, opts ...SinkOption) (*RemoteWrite, error) {
	cfg := newSinkConfig(opts)
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.Timeout <= 0 {
		c.Timeout = rwDefaultTimeout
	}
	if c.Batch <= 0 {
		c.Batch = rwDefaultBatch
	}
	if c.Queue <= 0 {
		c.Queue = rwDefaultQueue
	}
	if c.Retries == 0 {
		c.Retries = rwDefaultRetries
	} else if c.Retries < 0 {
		c.Retries = 0
	}
	auth, err := c.authHeader()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	tr.MaxIdleConnsPerHost = 2
	ctx, stop := context.WithCancel(context.Background())
	w := &RemoteWrite{
		cfg: c, runID: cfg.runID, auth: auth,
		client: &http.Client{Transport: tr, Timeout: c.Timeout},
		kick:   make(chan struct{}, 1),
		queue:  make(chan []rwSeries, c.Queue),
		ctx:    ctx, stop: stop,
	}
	w.encWG.Add(1)
	go w.encode()
	w.sndWG.Add(1)
	go w.send()
	return w, nil
}

// authHeader reads the credentials' files now, so a missing file is an
// error before the run.
func (c *RemoteWriteConfig) authHeader() (string, error) {
	read := func(opt, path string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("prometheus-rw %s: %w", opt, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("prometheus-rw %s: %s is empty", opt, path)
		}
		return s, nil
	}
	switch {
	case c.BearerTokenFile != "":
		tok, err := read("bearer_token_file", c.BearerTokenFile)
		return "Bearer " + tok, err
	case c.User != "":
		pw, err := read("password_file", c.PasswordFile)
		if err != nil {
			return "", err
		}
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(c.User, pw)
		return r.Header.Get("Authorization"), nil
	}
	return "", nil
}

func (c *RemoteWriteConfig) tlsConfig() (*tls.Config, error) {
	t := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12} // #nosec G402 -- only when asked for
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("prometheus-rw ca_file: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("prometheus-rw ca_file: no PEM certificate in %s", c.CAFile)
		}
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("prometheus-rw cert_file/key_file: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// Finish publishes the whole run, its last partial interval included.
func (w *RemoteWrite) Finish(run *metrics.Run) { w.st.finish(run) }

// SetScopes labels the per-request series with the plan's scenarios and groups.
func (w *RemoteWrite) SetScopes(sc Scopes) { w.st.setScopes(sc) }

// Resources publishes the monitors' latest values.
func (w *RemoteWrite) Resources(_ time.Duration, vals map[string]float64) { w.st.resources(vals) }

// Tick publishes the interval and the run so far, and has them pushed.
func (w *RemoteWrite) Tick(_ time.Duration, p metrics.Point, run *metrics.Run) {
	w.st.update(p, run)
	w.kickMu.Lock()
	defer w.kickMu.Unlock()
	if w.closed {
		return
	}
	w.unencoded.Add(1)
	select {
	case w.kick <- struct{}{}:
	default: // the encoder has not taken the last kick yet: it will read this snapshot
		w.unencoded.Add(-1)
	}
}

// encode turns each kicked snapshot into series and queues them.
func (w *RemoteWrite) encode() {
	defer w.encWG.Done()
	for range w.kick {
		w.enqueue(w.series())
		w.unencoded.Add(-1)
	}
}

// series is the snapshot now as remote-write series, stamped with the
// time of its tick.
func (w *RemoteWrite) series() []rwSeries {
	v, at := w.st.snapshot()
	ts := at.UnixMilli()
	var out []rwSeries
	v.each(func(s sample) {
		f := Families[s.fam]
		base := make([]rwLabel, 0, len(s.labels)+3)
		base = append(base, rwLabel{RunIDLabel, w.runID})
		for i, l := range s.labels {
			if l != "" { // an empty value is no label in Prometheus
				base = append(base, rwLabel{f.Labels[i], l})
			}
		}
		if f.Kind != Histogram {
			out = append(out, newSeries(f.Name, base, s.v, ts))
			return
		}
		cum := s.h.cumulative()
		for i, b := range LatencyBounds {
			out = append(out, newSeries(f.Name+"_bucket", append(slices.Clip(base), rwLabel{"le", formatLe(b)}), float64(cum[i]), ts))
		}
		out = append(out,
			newSeries(f.Name+"_bucket", append(slices.Clip(base), rwLabel{"le", "+Inf"}), float64(s.h.count), ts),
			newSeries(f.Name+"_sum", base, s.h.sum, ts),
			newSeries(f.Name+"_count", base, float64(s.h.count), ts))
	})
	return out
}

// formatLe writes a bucket bound the way the Prometheus text format does,
// so scraped and pushed series are the same series.
func formatLe(b float64) string {
	if math.IsInf(b, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(b, 'g', -1, 64)
}

// enqueue queues one tick's series, dropping the oldest waiting tick when
// the queue is full. It never blocks.
func (w *RemoteWrite) enqueue(s []rwSeries) {
	w.samples.Add(int64(len(s)))
	for range 2 {
		select {
		case w.queue <- s:
			return
		default:
		}
		select {
		case old := <-w.queue:
			w.dropped.Add(int64(len(old)))
		default:
		}
	}
	w.dropped.Add(int64(len(s)))
}

// send pushes what is queued, up to Batch samples a request: ticks that
// waited while a push was slow go out together.
func (w *RemoteWrite) send() {
	defer w.sndWG.Done()
	var carry []rwSeries
	for {
		batch := carry
		carry = nil
		if len(batch) == 0 {
			s, ok := <-w.queue
			if !ok {
				return
			}
			batch = s
		}
	fill:
		for len(batch) < w.cfg.Batch {
			select {
			case s, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, s...)
			default:
				break fill
			}
		}
		if len(batch) > w.cfg.Batch {
			batch, carry = batch[:w.cfg.Batch], batch[w.cfg.Batch:]
		}
		w.push(batch)
	}
}

// push sends one request, retrying 5xx, 429 and network errors with
// backoff; a sample that cannot be delivered is counted as failed.
func (w *RemoteWrite) push(batch []rwSeries) {
	body := snappy.Encode(nil, marshalWriteRequest(batch))
	wait := rwBackoff
	var err error
	for attempt := 0; attempt <= w.cfg.Retries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-w.ctx.Done():
				t.Stop()
				attempt = w.cfg.Retries + 1
				continue
			}
			wait *= 2
		}
		var retry bool
		retry, err = w.post(body)
		if err == nil {
			w.sent.Add(int64(len(batch)))
			return
		}
		if !retry || w.ctx.Err() != nil {
			break
		}
	}
	w.failed.Add(int64(len(batch)))
	w.lastErrMu.Lock()
	if w.lastErr == nil || w.ctx.Err() == nil { // a push cut short by giving up tells nothing new
		w.lastErr = err
	}
	w.lastErrMu.Unlock()
}

// post makes one request; retry says whether trying again may help.
func (w *RemoteWrite) post(body []byte) (retry bool, err error) {
	if err := w.ctx.Err(); err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "fuka")
	if w.auth != "" {
		req.Header.Set("Authorization", w.auth)
	}
	w.pushes.Add(1)
	resp, err := w.client.Do(req)
	if err != nil {
		w.netFails.Add(1)
		return true, err
	}
	w.answered.Store(true)
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	err = fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
	return resp.StatusCode/100 == 5 || resp.StatusCode == http.StatusTooManyRequests, err
}

// Warnings says how many samples were lost so far, for the summary.
func (w *RemoteWrite) Warnings() []string {
	if msg := w.lost(); msg != "" {
		return []string{msg}
	}
	return nil
}

// lost describes the samples not delivered; "" when none.
func (w *RemoteWrite) lost() string {
	dropped, failed := w.dropped.Load(), w.failed.Load()
	if dropped == 0 && failed == 0 {
		return ""
	}
	msg := fmt.Sprintf("prometheus-rw %s: %d of %d samples were not delivered (%d dropped with the queue full, %d after failed pushes)",
		redact(w.cfg.URL), dropped+failed, w.samples.Load(), dropped, failed)
	w.lastErrMu.Lock()
	defer w.lastErrMu.Unlock()
	if w.lastErr != nil {
		msg += "; the last push failed with: " + w.lastErr.Error()
	}
	if w.gaveUp.Load() {
		msg += "; the receiver never answered, so fuka stopped pushing when the load ended (the final counters were not sent)"
	}
	return msg + "; the load itself was not affected"
}

func redact(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return u
}

// rwGiveUp is how long Drain waits for a receiver that has not answered
// yet before it gives up on it.
const rwGiveUp = time.Second

// Drain waits, until ctx ends, for the samples of the ticks so far to be
// delivered or counted lost, so that Warnings tells the whole loss when
// the summary is built. A receiver that never answered (no HTTP response
// to any push) is given up on as soon as a push to it has failed, or
// after rwGiveUp: its retries would only keep fuka waiting after the load.
// Then Close sends nothing more.
func (w *RemoteWrite) Drain(ctx context.Context) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	giveUp := time.Now().Add(rwGiveUp)
	for w.unencoded.Load() > 0 || w.samples.Load() > w.sent.Load()+w.dropped.Load()+w.failed.Load() {
		if !w.answered.Load() && !w.gaveUp.Load() && (w.netFails.Load() > 0 || time.Now().After(giveUp)) {
			w.gaveUp.Store(true)
			w.stop() // the sender counts what is left as failed, without waiting
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// Close pushes the final counters and waits for the queue to drain until
// ctx ends; what was not delivered is reported as an error (a warning to
// the run: its results are out already).
func (w *RemoteWrite) Close(ctx context.Context, sum *report.Summary) error {
	w.closeOnce.Do(func() {
		w.st.final(sum)
		w.kickMu.Lock()
		w.closed = true
		close(w.kick)
		w.kickMu.Unlock()
		w.encWG.Wait()
		if sum != nil && !w.gaveUp.Load() {
			w.enqueue(w.series())
		}
		close(w.queue)
		done := make(chan struct{})
		go func() { w.sndWG.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			w.stop()
			<-done
		}
		w.stop()
		// Whatever the sender did not take is lost too.
		for s := range w.queue {
			w.failed.Add(int64(len(s)))
		}
		w.client.CloseIdleConnections()
		if msg := w.lost(); msg != "" {
			w.closeErr = errors.New(msg)
		}
	})
	return w.closeErr
}

// rwLabel is one label of a series.
type rwLabel struct{ name, value string }

// rwSeries is one sample of one series, its labels sorted by name.
type rwSeries struct {
	labels []rwLabel
	v      float64
	t      int64 // ms since the epoch
}

func newSeries(name string, labels []rwLabel, v float64, t int64) rwSeries {
	ls := make([]rwLabel, 0, len(labels)+1)
	ls = append(ls, rwLabel{"__name__", name})
	ls = append(ls, labels...)
	slices.SortFunc(ls, func(a, b rwLabel) int { return strings.Compare(a.name, b.name) })
	return rwSeries{labels: ls, v: v, t: t}
}

// marshalWriteRequest encodes prometheus.WriteRequest (remote write 1.0):
//
//	WriteRequest { repeated TimeSeries timeseries = 1; }
//	TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//	Label        { string name = 1; string value = 2; }
//	Sample       { double value = 1; int64 timestamp = 2; }
func marshalWriteRequest(series []rwSeries) []byte {
	var b, ts, item []byte
	for _, s := range series {
		ts = ts[:0]
		for _, l := range s.labels {
			item = item[:0]
			item = protowire.AppendTag(item, 1, protowire.BytesType)
			item = protowire.AppendString(item, l.name)
			item = protowire.AppendTag(item, 2, protowire.BytesType)
			item = protowire.AppendString(item, l.value)
			ts = protowire.AppendTag(ts, 1, protowire.BytesType)
			ts = protowire.AppendBytes(ts, item)
		}
		item = item[:0]
		item = protowire.AppendTag(item, 1, protowire.Fixed64Type)
		item = protowire.AppendFixed64(item, math.Float64bits(s.v))
		item = protowire.AppendTag(item, 2, protowire.VarintType)
		item = protowire.AppendVarint(item, uint64(s.t))
		ts = protowire.AppendTag(ts, 2, protowire.BytesType)
		ts = protowire.AppendBytes(ts, item)
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, ts)
	}
	return b
}
