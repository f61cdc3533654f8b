package load

import "time"

// Deal is one worker's part of a sequence of items (clients, starts, data
// rows) dealt among n workers like cards, by slots: the sequence is cut
// into rounds of Slots items, and item s of every round goes to the worker
// that owns slot s, which is worker s mod N. A worker that owns no slot
// (Slots < N, W >= Slots) gets nothing.
//
// Slots is the number of clients the items need: a load's clients (closed
// model) or max_clients (open model), dealt the same way (client k to
// worker k mod N). So each worker gets items in proportion to its clients,
// every item goes to a worker that has a client to handle it, and the
// workers' parts together are the whole sequence, each item exactly once:
//
//	Slots 5, N 3:  items 0 1 2 3 4 | 5 6 7 8 9 | ...
//	               worker 0 1 2 0 1 | 0 1 2 0 1 | ...  (worker 0: 2 of every 5)
//
// With N = 1 a Deal is the whole sequence. The zero value is N = 1, Slots 1.
type Deal struct {
	Slots int // items per round: the clients that handle them; < 1 is taken as 1
	N     int // workers; < 1 is taken as 1
	W     int // this worker, 0 <= W < N
}

func (d Deal) norm() (slots, n, w int64) {
	slots, n, w = int64(max(d.Slots, 1)), int64(max(d.N, 1)), int64(d.W)
	return
}

// PerRound returns how many slots (clients) of a round are the worker's:
// Slots/N, plus one for the first Slots mod N workers.
func (d Deal) PerRound() int {
	slots, n, w := d.norm()
	if w < 0 || w >= n {
		return 0
	}
	return int(Part(slots, int(n), int(w)))
}

// Nth returns the index in the whole sequence of the worker's k-th item
// (0-based). ok is false when the worker has no slot, for k < 0, or when
// the index would overflow. Nth is increasing in k and does not allocate.
func (d Deal) Nth(k int64) (i int64, ok bool) {
	slots, n, w := d.norm()
	c := int64(d.PerRound())
	if c == 0 || k < 0 {
		return 0, false
	}
	round, j := k/c, k%c
	if round > (1<<62)/slots {
		return 0, false
	}
	return round*slots + w + j*n, true
}

// Of returns how many of the items 0 .. total-1 are the worker's. The
// workers' counts add up to total (for total >= 0).
func (d Deal) Of(total int64) int64 {
	slots, n, w := d.norm()
	if total <= 0 || w < 0 || w >= n {
		return 0
	}
	c := int64(d.PerRound())
	rest := total % slots // the last, partial round: its slots w, w+n, ... below rest
	return total/slots*c + Part(rest, int(n), int(w))
}

// Part splits total into n parts that differ by at most one and add up to
// total, and returns part j: the first total mod n parts get one more.
func Part(total int64, n, j int) int64 {
	if n < 1 {
		n = 1
	}
	if j < 0 || j >= n || total <= 0 {
		return 0
	}
	q, r := total/int64(n), total%int64(n)
	if int64(j) < r {
		return q + 1
	}
	return q
}

// Due returns how many arrivals are due by offset t: the number of i with
// Offset(i) <= t. It takes O(log Total) Offset calls.
func (r Rate) Due(t time.Duration) int64 {
	lo, hi := int64(0), r.total // the answer is in [lo, hi]
	for lo < hi {
		m := lo + (hi-lo)/2
		if off, ok := r.Offset(m); ok && off <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
