package engine

// What one client holds at the least, measured on Linux/amd64 and halved so
// that an estimate refuses only what cannot run: on the fast path a socket
// and its state (~0.4 KiB in the process, the kernel's socket besides); on
// net/http (TLS, HTTP/2, plans) a goroutine, its connection's buffers and
// reader and writer goroutines, ~70 KiB with a plan's variables and cookie
// jar.
const (
	fastClientBytes = 2 << 10
	stdClientBytes  = 32 << 10
)

// Footprint is what a run holds at its peak, at the least: conns
// connections (each a file descriptor) and mem bytes for its clients. The
// closed model holds a connection per client, the open model up to
// MaxClients; HTTP/2 multiplexes, so it counts no connection per client.
// For a worker (Share) it is the worker's part. Parts that start with the
// run are counted together; a delayed part may overlap the others or not,
// so it counts only when it alone is larger.
func (c *Config) Footprint() (conns, mem int64) {
	switch w := c.Work.(type) {
	case Parts:
		var atOnce, atOnceMem, largestConns, largestMem int64
		for _, p := range w.Parts {
			n, m := c.Share.footprint(p.Load, stdClientBytes, w.HTTP2)
			largestConns, largestMem = max(largestConns, n), max(largestMem, m)
			if p.Delay == 0 && p.After < 0 {
				atOnce += n
				atOnceMem += m
			}
		}
		return max(atOnce, largestConns), max(atOnceMem, largestMem)
	case Request:
		per := int64(stdClientBytes)
		if c.fast(w) {
			per = fastClientBytes
		}
		return c.Share.footprint(c.Load, per, w.HTTP2)
	case Plan:
		return c.Share.footprint(c.Load, stdClientBytes, w.HTTP2)
	}
	return c.Share.footprint(c.Load, stdClientBytes, false)
}

// footprint is the share's part of l's clients at per bytes each.
func (s Share) footprint(l Load, per int64, http2 bool) (conns, mem int64) {
	w, n := s.of()
	clients := share(int64(slotsOf(l)), n, w)
	mem = clients * per
	if clients > 0 && mem/clients != per {
		mem = 1<<63 - 1 // overflow: more than any machine has
	}
	if http2 {
		return 0, mem
	}
	return clients, mem
}

// fast reports whether the request work may take the fast path: plain-text
// HTTP/1.1, not forced onto net/http.
func (c *Config) fast(w Request) bool {
	return !c.ForceStd && !w.HTTP2 && w.Request != nil && w.Request.URL.Scheme == "http"
}
