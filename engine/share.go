package engine

import (
	"time"

	"github.com/fuka-load/fuka/load"
)

// Share is worker Index of Count's part of a load: the workers together
// run exactly the whole load, and each has the clients for its part.
//
// Clients are dealt like cards: client k (and its ramp-up slot) to worker
// k mod Count, in both models (max clients in the open model). Everything
// else follows the clients (load.Deal, with one slot per client): the
// open model's starts (worker w's share of the rate is its share of max
// clients), the closed model's -n requests (each client's share of them),
// its max_rps (each client's share of the cap) and the rows of unique
// data. A worker with no client (fewer clients than workers) gets nothing
// to do rather than work it cannot do. In a run of Parts, each part's
// load is shared so.
type Share struct{ Index, Count int }

// of returns (index, count), count >= 1.
func (s Share) of() (int, int) {
	if s.Count <= 1 {
		return 0, 1
	}
	return s.Index, s.Count
}

// share splits total into n parts whose sum is total; part j of n.
func share(total int64, n, j int) int64 { return load.Part(total, n, j) }

// deal is the share's part of items handled by slots clients.
func (s Share) deal(slots int) load.Deal {
	w, n := s.of()
	return load.Deal{Slots: slots, N: n, W: w}
}

// slotsOf is l's clients (closed) or max clients (open); 0 for no load.
func slotsOf(l Load) int {
	if l == nil {
		return 0
	}
	return l.Slots()
}

// Clients is how many of the load's clients (closed model) or max clients
// (open model) are the share's.
func (s Share) Clients(c *Config) int { return s.deal(slotsOf(c.Load)).PerRound() }

// Requests is the share's part of the closed model's request count (-n):
// the requests of its clients. -1 when there is no bound.
func (s Share) Requests(c *Config) int64 {
	l, ok := c.Load.(Closed)
	if !ok {
		return -1
	}
	return s.requests(l)
}

func (s Share) requests(l Closed) int64 {
	if l.Requests <= 0 {
		return -1
	}
	return s.deal(l.Clients).Of(l.Requests)
}

// MaxRPS is the share's part of the closed model's throughput cap: its
// clients' part. 0: no cap.
func (s Share) MaxRPS(c *Config) float64 {
	l, ok := c.Load.(Closed)
	if !ok {
		return 0
	}
	return s.maxRPS(l)
}

func (s Share) maxRPS(l Closed) float64 {
	if l.MaxRPS <= 0 || l.Clients <= 0 {
		return 0
	}
	return l.MaxRPS * float64(s.deal(l.Clients).PerRound()) / float64(l.Clients)
}

// Fraction is the share's part of the load, 0 to 1: its part of the
// clients (closed) or of the starts and max clients (open); in a run of
// several scenario loads, of the largest one.
func (s Share) Fraction(c *Config) float64 {
	d := s.Rows(c)
	if d.Slots <= 0 {
		return 0
	}
	return float64(d.PerRound()) / float64(d.Slots)
}

// Rows is how the share's data rows are dealt: like its clients (see
// Share), those of the largest scenario load in a run of several.
func (s Share) Rows(c *Config) load.Deal {
	w, ok := c.Work.(Parts)
	if !ok {
		return s.deal(slotsOf(c.Load))
	}
	best := 0
	var d load.Deal
	for _, p := range w.Parts {
		if n := slotsOf(p.Load); n > best {
			best, d = n, s.deal(n)
		}
	}
	return d
}

// Due returns how many open-model starts of the share were due by offset t
// from the run's start (closed model: 0). In a run of several scenario
// loads, a load that starts after another is taken to start when that one
// was planned to end.
func (s Share) Due(c *Config, t time.Duration) int64 {
	w, ok := c.Work.(Parts)
	if !ok {
		l, ok := c.Load.(Open)
		if !ok {
			return 0
		}
		return s.deal(l.MaxClients).Of(l.Rate.Due(t))
	}
	var n int64
	for i, p := range w.Parts {
		if l, ok := p.Load.(Open); ok {
			if at := partStart(w.Parts, i, 0); t >= at {
				n += s.deal(l.MaxClients).Of(l.Rate.Due(t - at))
			}
		}
	}
	return n
}

// partStart is when part i is planned to start: its delay, or the planned
// end of the part it waits for if later. depth guards against cycles.
func partStart(parts []Part, i, depth int) time.Duration {
	p := &parts[i]
	at := max(p.Delay, 0)
	if a := p.After; a >= 0 && a < len(parts) && a != i && depth < len(parts) {
		at = max(at, partStart(parts, a, depth+1)+plannedOf(parts[a].Load))
	}
	return at
}

// plannedOf is when l's scheduling stops; 0: no time bound (or no load).
func plannedOf(l Load) time.Duration {
	if l == nil {
		return 0
	}
	return l.planned()
}
