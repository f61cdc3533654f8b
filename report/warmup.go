package report

import "time"

// Warmup is the open model's pre-connecting: connections opened before
// the run's clock started, so the target's first second is not measured
// through the generator's connect burst. Its time is in neither the run's
// duration nor any latency.
type Warmup struct {
	Wanted int `json:"wanted"` // connections asked for (the estimate, or --preconnect)
	Opened int `json:"opened"` // connections established
	Failed int `json:"failed"` // attempts that failed
	// Error is the first failure, e.g. "connect: connection refused"; ""
	// when none failed.
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"` // how long it took
	// ConnectP50MS and ConnectMaxMS are the opened connections' connect
	// times; null when none opened.
	ConnectP50MS *float64 `json:"connect_p50_ms"`
	ConnectMaxMS *float64 `json:"connect_max_ms"`
}

// newWarmup copies w for the summary; nil for nil.
func newWarmup(w *Warmup) *Warmup {
	if w == nil {
		return nil
	}
	c := *w
	return &c
}

// WarmupOf is the report's form of a pre-connect that opened opened of
// wanted connections in took, with the given connect-time median and
// maximum.
func WarmupOf(wanted, opened, failed int, err string, took, p50, most time.Duration) *Warmup {
	w := &Warmup{Wanted: wanted, Opened: opened, Failed: failed, Error: err, DurationMS: round(ms(took), 3)}
	if opened > 0 {
		w.ConnectP50MS, w.ConnectMaxMS = msPtr(p50), msPtr(most)
	}
	return w
}

// text is the warm-up as the text summary's "pre-connect" row.
func (w *Warmup) text() string {
	t := FormatInt(int64(w.Opened)) + " of " + FormatInt(int64(w.Wanted)) + " connections in " + FormatMS(w.DurationMS) + ", before the clock started"
	if w.ConnectP50MS != nil && w.ConnectMaxMS != nil {
		t += "   (connect p50 " + FormatMS(*w.ConnectP50MS) + ", max " + FormatMS(*w.ConnectMaxMS) + ")"
	}
	if w.Failed > 0 {
		t += "   " + FormatInt(int64(w.Failed)) + " failed: " + w.Error
	}
	return t
}

// connectsText is the text summary's "connects" row: the connections
// opened during the run, and in its first second.
func (s *Summary) connectsText() string {
	if s.Connects == nil {
		return ""
	}
	t := FormatInt(*s.Connects) + " opened during the run"
	if len(s.Timeline) > 0 && s.Timeline[0].Connects != nil {
		t += " (" + FormatInt(*s.Timeline[0].Connects) + " in the first second)"
	}
	return t
}
