package metrics

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Snapshot is one source's measurements over one interval, in a form that
// crosses the wire: workers send one a second, the controller merges them.
// Histograms travel whole (HDR V2, compressed), never as percentiles, so
// the merge is exact.
type Snapshot struct {
	Interval int          // 1 = the first second of the run
	Stats    []*Stats     // by request name index, as the controller numbered them
	Dropped  int64        // open model: starts that found no free client
	Clients  int          // clients active at the end of the interval
	Checks   [][2]int64   // by check index: passes, failures
	Final    bool         // the last snapshot of the source
	Extra    []NamedValue // reserved for sources' own counters
}

// NamedValue is a free-form value a snapshot may carry.
type NamedValue struct {
	Name string  `json:"name"`
	V    float64 `json:"v"`
}

type wireStats struct {
	Requests int64                `json:"requests"`
	Failed   int64                `json:"failed"`
	Retried  int64                `json:"retried,omitempty"`
	BytesIn  int64                `json:"bytes_in"`
	BytesOut int64                `json:"bytes_out"`
	Status   map[int]int64        `json:"status,omitempty"`
	Errors   [NumErrorKinds]int64 `json:"errors"`
	Latency  []byte               `json:"latency"`
	Service  []byte               `json:"service"`
}

type wireSnapshot struct {
	Interval int          `json:"interval"`
	Stats    []wireStats  `json:"stats"`
	Dropped  int64        `json:"dropped"`
	Clients  int          `json:"clients"`
	Checks   [][2]int64   `json:"checks,omitempty"`
	Final    bool         `json:"final,omitempty"`
	Extra    []NamedValue `json:"extra,omitempty"`
}

// MarshalBinary encodes the snapshot.
func (s *Snapshot) MarshalBinary() ([]byte, error) {
	w := wireSnapshot{Interval: s.Interval, Dropped: s.Dropped, Clients: s.Clients, Checks: s.Checks, Final: s.Final, Extra: s.Extra}
	for _, st := range s.Stats {
		ws := wireStats{Requests: st.Requests, Failed: st.Failed, Retried: st.Retried, BytesIn: st.BytesIn, BytesOut: st.BytesOut, Errors: st.Errors}
		for code, n := range st.Status {
			if n != 0 {
				if ws.Status == nil {
					ws.Status = map[int]int64{}
				}
				ws.Status[code] = n
			}
		}
		var err error
		if ws.Latency, err = st.Latency.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
			return nil, fmt.Errorf("encode latency: %w", err)
		}
		if ws.Service, err = st.Service.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
			return nil, fmt.Errorf("encode service time: %w", err)
		}
		w.Stats = append(w.Stats, ws)
	}
	return json.Marshal(w)
}

// ErrBadSnapshot is returned for a snapshot that does not decode.
var ErrBadSnapshot = errors.New("bad snapshot")

// UnmarshalBinary decodes a snapshot, rejecting anything malformed (a
// snapshot comes from another process: it is checked, not trusted).
func (s *Snapshot) UnmarshalBinary(b []byte) error {
	var w wireSnapshot
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	out := Snapshot{Interval: w.Interval, Dropped: w.Dropped, Clients: w.Clients, Checks: w.Checks, Final: w.Final, Extra: w.Extra}
	for i, ws := range w.Stats {
		st := NewStats()
		st.Requests, st.Failed, st.Retried, st.BytesIn, st.BytesOut, st.Errors = ws.Requests, ws.Failed, ws.Retried, ws.BytesIn, ws.BytesOut, ws.Errors
		for code, n := range ws.Status {
			if code < 0 || code >= MaxStatus {
				return fmt.Errorf("%w: stats %d: status %d out of range", ErrBadSnapshot, i, code)
			}
			st.Status[code] = n
		}
		for _, h := range []struct {
			enc []byte
			dst *hdrhistogram.Histogram
			of  string
		}{{ws.Latency, st.Latency, "latency"}, {ws.Service, st.Service, "service time"}} {
			if len(h.enc) == 0 {
				continue
			}
			dec, err := hdrhistogram.Decode(h.enc)
			if err != nil {
				return fmt.Errorf("%w: stats %d: %s: %v", ErrBadSnapshot, i, h.of, err)
			}
			if dec.LowestTrackableValue() != lowestUS || dec.HighestTrackableValue() < highestUS || dec.SignificantFigures() != sigFigs {
				return fmt.Errorf("%w: stats %d: %s: histogram geometry differs", ErrBadSnapshot, i, h.of)
			}
			h.dst.Merge(dec)
		}
		out.Stats = append(out.Stats, st)
	}
	*s = out
	return nil
}

// MergeSnapshot adds a snapshot from another source into the recorder's
// current interval, so the collector's next tick includes it exactly as if
// the requests had been recorded here.
func (r *Recorder) MergeSnapshot(s *Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(s.Stats) > len(r.cur) {
		return fmt.Errorf("%w: %d request names, want at most %d", ErrBadSnapshot, len(s.Stats), len(r.cur))
	}
	if len(s.Checks) > len(r.checks) {
		return fmt.Errorf("%w: %d checks, want at most %d", ErrBadSnapshot, len(s.Checks), len(r.checks))
	}
	for i, st := range s.Stats {
		r.cur[i].Merge(st)
	}
	for i, c := range s.Checks {
		r.checks[i][0] += c[0]
		r.checks[i][1] += c[1]
	}
	r.dropped += s.Dropped
	return nil
}

// Interval returns the stats of the interval the last Tick closed, by name
// (a worker sends them on as a Snapshot). They are valid until the next
// Tick; callers that keep them must Clone.
func (c *Collector) Interval() []*Stats { return c.lastStats }

// IntervalChecks returns the check counts the last Tick added.
func (c *Collector) IntervalChecks() [][2]int64 { return c.lastChecks }
