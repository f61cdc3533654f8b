package monitor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Nginx samples nginx's stub_status page (ngx_http_stub_status_module):
//
//	Active connections: 291
//	server accepts handled requests
//	 16630948 16630948 31070465
//	Reading: 6 Writing: 179 Waiting: 106
//
// into the series nginx.active, nginx.reading, nginx.writing, nginx.waiting
// (connections now) and nginx.accepts_per_s, nginx.requests_per_s (rates
// since the previous scrape, so none on the first).
//
// The scrape is itself a request on a keep-alive connection: it counts once
// in nginx.active and nginx.writing, and adds about 1/s to
// nginx.requests_per_s.
//
// stub_status does not say how many connections nginx may hold, so the
// target may say it: "URL,worker_connections=N[,workers=W]" adds the series
// nginx.connection_limit, N × W (W defaults to 1), the most connections
// nginx's workers may have open together.
type nginxSampler struct {
	url    string
	limit  float64 // worker_connections × workers; 0 when not given
	client *http.Client
	now    func() time.Time
	rates  counterRates
}

var _ Sampler = (*nginxSampler)(nil)

// NewNginx returns a Sampler that scrapes the stub_status page at target's
// URL, e.g. "http://127.0.0.1/nginx_status", optionally followed by
// ",worker_connections=N" and ",workers=W" (see nginxSampler).
func NewNginx(target string) (Sampler, error) {
	url, limit, err := parseNginxTarget(target)
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	if err := checkHTTPURL(url); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	return &nginxSampler{url: url, limit: limit, client: newScrapeClient(), now: time.Now}, nil
}

// parseNginxTarget splits the trailing ",worker_connections=N" and
// ",workers=W" options off target. Only those keys are options: any other
// comma stays in the URL.
func parseNginxTarget(target string) (url string, limit float64, err error) {
	opts := map[string]float64{}
	url = target
	for {
		i := strings.LastIndexByte(url, ',')
		if i < 0 {
			break
		}
		k, v, _ := strings.Cut(url[i+1:], "=")
		if k != "worker_connections" && k != "workers" {
			break
		}
		if _, dup := opts[k]; dup {
			return "", 0, fmt.Errorf("%s given twice", k)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return "", 0, fmt.Errorf("%s=%q: want a positive whole number", k, v)
		}
		opts[k], url = float64(n), url[:i]
	}
	wc, ok := opts["worker_connections"]
	if !ok {
		if _, ok := opts["workers"]; ok {
			return "", 0, errors.New("workers without worker_connections: give both, e.g. worker_connections=1024,workers=4")
		}
		return url, 0, nil
	}
	if w, ok := opts["workers"]; ok {
		wc *= w
	}
	return url, wc, nil
}

func (n *nginxSampler) Name() string { return "nginx" }

func (n *nginxSampler) Sample(ctx context.Context) ([]Value, error) {
	body, err := fetch(ctx, n.client, n.url, "text/plain", 64<<10)
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	at := n.now()
	st, err := parseStubStatus(body)
	if err != nil {
		return nil, fmt.Errorf("nginx: %s: %w", n.url, err)
	}
	vs := []Value{
		{"nginx.active", st.active},
		{"nginx.reading", st.reading},
		{"nginx.writing", st.writing},
		{"nginx.waiting", st.waiting},
	}
	if n.limit > 0 {
		vs = append(vs, Value{"nginx.connection_limit", n.limit})
	}
	r := n.rates.next(at, map[string]float64{
		"nginx.accepts_per_s":  st.accepts,
		"nginx.requests_per_s": st.requests,
	})
	return appendByName(vs, r), nil
}

// stubStatus is one reading of the stub_status page. accepts, handled and
// requests are counters since nginx started; the others are gauges.
type stubStatus struct {
	active, reading, writing, waiting float64
	accepts, handled, requests        float64
}

// parseStubStatus reads the stub_status text. It insists on every field, so
// a page that is not stub_status (an HTML error page, a login form) is an
// error rather than zeros. Extra numbers after the three counters (as some
// nginx forks print) are ignored.
func parseStubStatus(text []byte) (stubStatus, error) {
	var st stubStatus
	var seenActive, seenCounters, seenRWW bool
	sc := bufio.NewScanner(strings.NewReader(string(text)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "Active connections:"):
			v, err := parseCount(strings.TrimSpace(strings.TrimPrefix(line, "Active connections:")))
			if err != nil {
				return st, fmt.Errorf("active connections: %w", err)
			}
			st.active, seenActive = v, true
		case strings.HasPrefix(line, "server accepts handled requests"):
			if !sc.Scan() {
				return st, errors.New("counters line missing after \"server accepts handled requests\"")
			}
			f := strings.Fields(sc.Text())
			if len(f) < 3 {
				return st, fmt.Errorf("counters line %q: want 3 numbers", sc.Text())
			}
			var err error
			for i, dst := range []*float64{&st.accepts, &st.handled, &st.requests} {
				if *dst, err = parseCount(f[i]); err != nil {
					return st, fmt.Errorf("counters line: %w", err)
				}
			}
			seenCounters = true
		case strings.HasPrefix(line, "Reading:"):
			// Reading: R Writing: W Waiting: K
			f := strings.Fields(line)
			if len(f) != 6 || f[2] != "Writing:" || f[4] != "Waiting:" {
				return st, fmt.Errorf("line %q: want \"Reading: R Writing: W Waiting: K\"", line)
			}
			var err error
			for i, dst := range []*float64{&st.reading, &st.writing, &st.waiting} {
				if *dst, err = parseCount(f[1+2*i]); err != nil {
					return st, fmt.Errorf("%s %w", f[2*i], err)
				}
			}
			seenRWW = true
		}
	}
	if err := sc.Err(); err != nil {
		return st, err
	}
	switch {
	case !seenActive:
		return st, errors.New("not a stub_status page: no \"Active connections:\" line")
	case !seenCounters:
		return st, errors.New("not a stub_status page: no \"server accepts handled requests\" counters")
	case !seenRWW:
		return st, errors.New("not a stub_status page: no \"Reading: Writing: Waiting:\" line")
	}
	return st, nil
}

// parseCount reads a non-negative integer count as a float64.
func parseCount(s string) (float64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a count", s)
	}
	return float64(n), nil
}

// checkHTTPURL accepts an absolute http or https URL with a host.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %q: want an http:// or https:// URL", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("url %q: no host", raw)
	}
	return nil
}

// newScrapeClient returns the HTTP client of one scraping sampler: one
// keep-alive connection reused from scrape to scrape, and a ceiling on the
// time a scrape may take in case the caller's context has no deadline.
func newScrapeClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 1
	tr.MaxConnsPerHost = 1
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// fetch GETs url and returns its body, which must be 200 OK and at most
// limit bytes.
func fetch(ctx context.Context, c *http.Client, url, accept string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "fuka-monitor")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%s: body larger than %d bytes", url, limit)
	}
	return body, nil
}

// counterRates turns counters read at successive samples into per-second rates.
// A counter gets a rate from its second reading on; one that went backwards
// (the server restarted, or the counter was reset) gets none for that
// sample, rather than a huge negative rate. The middleware samplers share it.
type counterRates struct {
	at   time.Time
	prev map[string]float64
}

// next records the counters cur, read at now, and returns the rate of each
// since the previous call, keyed like cur.
func (p *counterRates) next(now time.Time, cur map[string]float64) map[string]float64 {
	prev, dt := p.prev, now.Sub(p.at).Seconds()
	p.at, p.prev = now, cur
	if prev == nil || dt <= 0 {
		return nil
	}
	out := make(map[string]float64, len(cur))
	for k, v := range cur {
		if old, ok := prev[k]; ok && v >= old {
			out[k] = (v - old) / dt
		}
	}
	return out
}

// appendByName appends the values of m to vs in name order, so a sampler's
// output is the same order from sample to sample.
func appendByName(vs []Value, m map[string]float64) []Value {
	start := len(vs)
	for k, v := range m {
		vs = append(vs, Value{k, v})
	}
	slices.SortFunc(vs[start:], func(a, b Value) int { return strings.Compare(a.Name, b.Name) })
	return vs
}
