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
	if len(c.Parts) > 0 {
		var atOnce, largestConns, largestMem int64
		var atOnceMem int64
		for i := range c.Parts {
			p := &c.Parts[i]
			pc := p.Config
			pc.Share, pc.HTTP2 = c.Share, c.HTTP2 || pc.HTTP2
			n, m := pc.Footprint()
			largestConns, largestMem = max(largestConns, n), max(largestMem, m)
			if p.Delay == 0 && p.After < 0 {
				atOnce += n
				atOnceMem += m
			}
		}
		return max(atOnce, largestConns), max(atOnceMem, largestMem)
	}
	clients := int64(c.Clients)
	if c.Open() {
		clients = int64(c.MaxClients)
	}
	w, n := c.Share.of()
	clients = share(clients, n, w)
	per := int64(stdClientBytes)
	if c.Scenario == nil && !c.ForceStd && !c.HTTP2 && c.Request != nil && c.Request.URL.Scheme == "http" {
		per = fastClientBytes
	}
	mem = clients * per
	if clients > 0 && mem/clients != per {
		mem = 1<<63 - 1 // overflow: more than any machine has
	}
	if c.HTTP2 {
		return 0, mem
	}
	return clients, mem
}
