package load

import (
	"math"
	"time"
)

// Share is one of n interleaved shares of a Rate: share j of n owns arrivals
// j, j+n, j+2n, ... of the whole profile. Make one with Rate.Split.
//
// Its offsets are exact offsets of the whole profile, so n shares run by n
// event loops or workers that never talk to each other start exactly the
// arrivals one loop would, at the same offsets. Interleaving (rather than
// cutting the profile into time ranges) gives every share about 1/n of the
// rate at every moment, ramps included.
type Share struct {
	rate Rate
	j, n int64
}

// Split divides r into n shares for n independent event loops or workers
// (n < 1 is taken as 1). Share j's k-th arrival is r.Offset(j + k*n); the
// union of the shares is the whole schedule and no arrival is in two.
func (r Rate) Split(n int) []Share {
	n = max(n, 1)
	shares := make([]Share, n)
	for j := range shares {
		shares[j] = Share{rate: r, j: int64(j), n: int64(n)}
	}
	return shares
}

// Offset returns the intended start offset of the share's k-th arrival
// (0-based), which is arrival j+k*n of the whole profile: it is exactly
// Rate.Offset(j + k*n). ok is false when k < 0 or the share has no k-th
// arrival (k >= Total()). It does not allocate.
func (s Share) Offset(k int64) (t time.Duration, ok bool) {
	if k < 0 || s.n <= 0 || k > (math.MaxInt64-s.j)/s.n {
		return 0, false
	}
	return s.rate.Offset(s.j + k*s.n)
}

// Total returns the number of arrivals the share owns; the shares' totals
// add up to the profile's Total.
func (s Share) Total() int64 {
	all := s.rate.Total()
	if s.n <= 0 || s.j >= all {
		return 0
	}
	return (all-s.j-1)/s.n + 1
}
