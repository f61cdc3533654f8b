// Package report turns a measured run into what people read: a text summary
// for the terminal, the canonical JSON summary that other tools and later
// runs compare against, and live progress while the run goes on.
//
// The input is a [metrics.Run] (whole-run Stats per request name and in
// total, plus a per-second timeline) and a [Meta] describing how the run was
// set up. [NewSummary] reduces both to a [Summary], whose JSON form is the
// documented, stable contract; [Summary.WriteText] renders the same numbers
// for people.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fuka-load/fuka/metrics"
)

// Meta describes the run, as the engine/CLI knows it.
type Meta struct {
	Name        string        // plan or run name; "" in quick mode
	Target      string        // URL (quick mode) or base URL
	Method      string        // HTTP method in quick mode; "" when a plan mixes them
	Model       string        // "closed" or "open"
	LatencyFrom string        // "send" (closed) or "intended" (open): what latency is measured from
	Clients     int           // closed: clients; open: peak clients used
	MaxClients  int           // open model cap (0 in closed)
	RampUp      time.Duration // closed model ramp-up
	Planned     time.Duration // planned duration (0 if bounded by request count)
	Rate        string        // requested rate profile as text, e.g. "100:1m,5000:2m" ("" closed)
	MaxRPS      float64       // closed-model cap (0 = none)
	Started     time.Time
	Elapsed     time.Duration // actual
	Scheduled   int64         // open model: starts that were due (issued + dropped + LostStarts); closed: 0
	LostStarts  int64         // distributed: due starts in lost workers' shares that no report covers
	Interrupted bool          // stopped by Ctrl-C
	// H2C: HTTP/2 was forced on a plain http:// target (h2c with prior
	// knowledge), which a server that speaks only HTTP/1.1 cannot answer.
	H2C     bool
	Version string // fuka version
	// EndReason is why the run ended (one of the End constants) and
	// EndDetail what the reason needs said: the data source that ran out,
	// the abort_when rule that held. "" when unknown.
	EndReason, EndDetail string
	// Warmup is the pre-connecting before the run's clock started; nil
	// when there was none.
	Warmup *Warmup
	// Protocols is each request name's protocol, by the name's index
	// (ProtoGRPC, ProtoWS; "" or absent: HTTP), so that the reports say
	// what a status means for the name that recorded it.
	Protocols []string
	// Targets, when a plan sends to several targets, are they (Target
	// then says how many); nil with one.
	Targets []string
}

// Why a run ended, as Meta.EndReason and JSON end_reason give it.
const (
	EndDuration      = "duration"       // the planned duration ran out
	EndIterations    = "iterations"     // every client ran its iterations
	EndRequests      = "requests"       // the requested number of requests was sent
	EndDataExhausted = "data_exhausted" // a unique data source ran out (end_detail names it)
	EndClientsDone   = "clients_done"   // every client stopped on its own before the load's end
	EndAbortWhen     = "abort_when"     // an abort_when rule held (end_detail is the rule)
	EndInterrupted   = "interrupted"    // Ctrl-C or SIGTERM
	EndStopped       = "stopped"        // the dashboard's stop button
)

// EarlyEnd reports whether reason ends a run before its load was done.
func EarlyEnd(reason string) bool {
	switch reason {
	case EndDataExhausted, EndClientsDone, EndAbortWhen, EndInterrupted, EndStopped:
		return true
	}
	return false
}

// The load models and latency origins, as they appear in Meta and in JSON.
const (
	ModelClosed = "closed"
	ModelOpen   = "open"

	FromSend     = "send"     // closed model: latency starts when the request is sent
	FromIntended = "intended" // open model: latency starts at the intended start time
)

// Summary is the canonical result of a run; its JSON form is documented and
// stable: keys carry their units, keys appear in field order, and a value
// that does not apply is null rather than a misleading 0.
//
// Rounding, so that the JSON reads well and compares byte for byte across
// encoders: latencies are milliseconds to the microsecond (the resolution
// they are measured at), durations are seconds to the millisecond, rates are
// per second to three decimals, and ratios keep six decimals.
type Summary struct {
	Version string `json:"fuka_version"`
	Name    string `json:"name"`
	Target  string `json:"target"`
	// Targets are a plan's targets when it sends to several (Target then
	// reads "N targets").
	Targets          []string  `json:"targets,omitempty"`
	Method           string    `json:"method"`
	Model            string    `json:"model"`
	LatencyFrom      string    `json:"latency_from"`
	Started          time.Time `json:"started"` // RFC 3339, to the millisecond
	DurationS        float64   `json:"duration_s"`
	PlannedDurationS float64   `json:"planned_duration_s"` // 0 when bounded by request count
	Interrupted      bool      `json:"interrupted"`
	h2c              bool      // Meta.H2C: for AllFailed's hint
	// EndReason says why the run ended (see the End constants; "" when a
	// caller did not say) and EndDetail what that needs said, e.g. which
	// data source ran out.
	EndReason  string `json:"end_reason"`
	EndDetail  string `json:"end_detail"`
	Clients    int    `json:"clients"`
	MaxClients int    `json:"max_clients"`
	// RampUpS is the closed model's ramp-up (0: none, and in the open
	// model); RateProfile the open model's requested rate as the user gave
	// it, e.g. "100:1m,5000:2m" ("" in the closed model). The text header
	// shows them, so a stored run reads as it did live.
	RampUpS     float64 `json:"ramp_up_s"`
	RateProfile string  `json:"rate_profile"`
	// Transport is the client that sent the load: "fast" (the epoll path)
	// or "net/http"; "" when not known.
	Transport string `json:"transport"`
	// Warmup is the open model's pre-connecting, before the run's clock
	// started (absent when none was done): its time is in neither
	// duration_s nor any latency.
	Warmup *Warmup `json:"warmup,omitempty"`

	Requests int64 `json:"requests"`
	Failed   int64 `json:"failed"`
	// Retried is how many of Requests were a plan's retries of a failed
	// attempt (retries:); each attempt is a request of its own.
	Retried   int64   `json:"retried"`
	ErrorRate float64 `json:"error_rate"` // failed/requests, 0..1
	RPS       float64 `json:"rps"`        // requests/duration_s
	// RequestedRPS is the closed model's max_rps cap, in requests per
	// second like RPS; nil (null) without a cap and in the open model,
	// whose rate is of scenario starts (see RequestedStartRate).
	RequestedRPS *float64 `json:"requested_rps"`
	// AchievedRPSRatio is RPS/RequestedRPS; nil when RequestedRPS is nil or 0.
	AchievedRPSRatio *float64 `json:"achieved_rps_ratio"`
	// The open model asks for a rate of scenario starts (iterations), each
	// of which may make several requests, so it is compared with the starts
	// made, never with requests. StartsDue is the starts that were due,
	// Starts those that found a client and began (StartsDue - Dropped),
	// RequestedStartRate the due starts per second of the schedule that ran
	// (the planned duration, or less if the run ended early), and
	// AchievedStartRatio Starts/StartsDue. All nil outside the open model.
	StartsDue          *int64   `json:"starts_due"`
	Starts             *int64   `json:"starts"`
	RequestedStartRate *float64 `json:"requested_start_rate"`
	AchievedStartRatio *float64 `json:"achieved_start_ratio"`
	Dropped            int64    `json:"dropped"`
	// Connects is the connections opened during the run (pre-connected
	// ones are not); null where the transport does not count them (a plan
	// on net/http).
	Connects      *int64  `json:"connects"`
	BytesIn       int64   `json:"bytes_in"`
	BytesOut      int64   `json:"bytes_out"`
	ThroughputBPS float64 `json:"throughput_bytes_per_s"` // bytes_in/duration_s

	Latency     Latency          `json:"latency"`      // see Meta.LatencyFrom
	ServiceTime Latency          `json:"service_time"` // from the actual send
	Status      map[string]int64 `json:"status"`       // see StatusKey; non-zero codes only
	Errors      ErrorCounts      `json:"errors"`       // every kind, zeros included
	// WebSocket is what the run's WebSocket connections did (absent from
	// a run that made none).
	WebSocket *WebSocket `json:"websocket,omitempty"`

	ByName []NameSummary `json:"requests_by_name"`
	// Scenarios and Groups are a plan's scenarios and groups, each the
	// merged histogram of its requests (absent in quick mode).
	Scenarios []NameSummary `json:"scenarios,omitempty"`
	Groups    []NameSummary `json:"groups,omitempty"`
	// Checks are a plan's named checks (absent in quick mode).
	Checks []CheckSummary `json:"checks,omitempty"`
	// Thresholds are a plan's thresholds as evaluated on this run (absent
	// without thresholds); set with SetThresholds.
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	// Findings say what limited the load and when, from this run's own
	// data, the most telling first (absent when there are none; see
	// docs/findings.md).
	Findings []Finding  `json:"findings,omitempty"`
	Timeline []Interval `json:"timeline"`
	// Resources is what the monitored hosts, processes and middleware went
	// through, on the same timeline (absent when nothing was monitored).
	Resources *Resources `json:"resources,omitempty"`
	// Scaling is each scale-out of a watched Kubernetes workload after a
	// load step (absent when none was watched or none scaled out).
	Scaling []ScaleEpisode `json:"scaling,omitempty"`
	// Profiles are the pprof profiles captured during the run.
	Profiles []ProfileSummary `json:"profiles,omitempty"`
	// Warnings are things the reader must know to trust the numbers, e.g.
	// that the load generator itself ran out of CPU.
	Warnings []string `json:"warnings,omitempty"`
	// Degraded: a distributed run lost a worker, so the results miss the
	// load it sent after its last interval (the others' are complete).
	Degraded bool `json:"degraded,omitempty"`
	// Workers are a distributed run's workers and how each fared.
	Workers []WorkerStatus `json:"workers,omitempty"`
	// ReportFile is the HTML report written for this run (absent when
	// none was written).
	ReportFile string `json:"report_file,omitempty"`
	// Imported is set on a run made by another tool and read from its
	// result file (fuka import-results); absent on fuka's own runs.
	Imported *Imported `json:"imported,omitempty"`
}

// Resources holds monitored series: their peak and mean over the run, and
// their values per second.
type Resources struct {
	Series   []ResourceStat    `json:"series"`
	Timeline []ResourcePoint   `json:"timeline"`
	Failures []ResourceFailure `json:"failures,omitempty"`
}

// ResourceStat summarises one series, e.g. cpu.user_pct.
type ResourceStat struct {
	Name    string  `json:"name"`
	Peak    float64 `json:"peak"`
	Mean    float64 `json:"mean"`
	Samples int     `json:"samples"`
}

// ResourcePoint is every series' value at one second; a series missing from
// Values is a gap (its sampler failed then).
type ResourcePoint struct {
	TS     float64            `json:"t_s"`
	Values map[string]float64 `json:"values"`
}

// ResourceFailure is a sampler that failed at a tick.
type ResourceFailure struct {
	TS     float64 `json:"t_s"`
	Source string  `json:"source"`
	Error  string  `json:"error"`
}

// ScaleEpisode is one scale-out of a Kubernetes workload, measured from
// the load step that caused it (see monitor/kube.TimeToScale).
type ScaleEpisode struct {
	Workload     string  `json:"workload"` // KIND/NAME, e.g. deployment/api
	FromReplicas int     `json:"from_replicas"`
	ToReplicas   int     `json:"to_replicas"`
	LoadStepS    float64 `json:"load_step_s"` // when the load stepped up
	ScaleOutS    float64 `json:"scale_out_s"` // when more replicas were asked for
	// ReadyS is when all ToReplicas were ready, TimeToScaleS is ReadyS -
	// LoadStepS; both null when they were not ready by the end of the run.
	ReadyS       *float64 `json:"ready_s"`
	TimeToScaleS *float64 `json:"time_to_scale_s"`
	// P99DuringMS and P99MeanDuringMS are the highest and the mean
	// per-second p99 from the load step to ready (or the end of the run).
	P99DuringMS     float64 `json:"p99_during_ms"`
	P99MeanDuringMS float64 `json:"p99_mean_during_ms"`
}

// ProfileSummary is one captured pprof profile and its top functions.
type ProfileSummary struct {
	Kind     string        `json:"kind"` // cpu, heap, goroutine, ...
	URL      string        `json:"url"`
	File     string        `json:"file"` // where the .pb.gz was written ("" if the capture failed)
	StartedS float64       `json:"started_s"`
	Top      []ProfileFunc `json:"top"`
	Error    string        `json:"error,omitempty"`
}

// ProfileFunc is a function's share of a profile: seconds for cpu, bytes for
// heap, goroutines for goroutine.
type ProfileFunc struct {
	Name    string  `json:"name"`
	Flat    float64 `json:"flat"`
	Cum     float64 `json:"cum"`
	FlatPct float64 `json:"flat_pct"`
	CumPct  float64 `json:"cum_pct"`
}

// WorkerStatus is one worker of a distributed run.
type WorkerStatus struct {
	Name         string  `json:"name"`
	State        string  `json:"state"`            // ok | lost | left
	LastInterval int     `json:"last_interval"`    // the last interval of its that arrived
	Requests     int64   `json:"requests"`         // requests in its intervals that arrived
	Reason       string  `json:"reason,omitempty"` // why it was lost or left
	Share        float64 `json:"share"`            // its part of the load, 0..1
	// LastSeenS is when its last message arrived, seconds from the load's
	// start (lost and left workers).
	LastSeenS *float64 `json:"last_seen_s,omitempty"`
	// UnreportedMax bounds the requests a lost worker sent that are not in
	// these results (in flight at its last interval, and what it could
	// start until it must have stopped); UnreportedEstimated: the load does
	// not bound its rate, so its fastest second stands in.
	UnreportedMax       *int64 `json:"unreported_max,omitempty"`
	UnreportedEstimated bool   `json:"unreported_estimated,omitempty"`
}

// CheckSummary counts one named check.
type CheckSummary struct {
	Name   string `json:"name"`
	Passes int64  `json:"passes"`
	Fails  int64  `json:"fails"`
}

// Mark is how the text and markdown summaries mark a check: ✗ when it
// failed on any response, – when no response ever reached it (a step that
// never ran: "✓ 0 passed" would claim a pass nothing showed), else ✓.
func (c CheckSummary) Mark() string {
	switch {
	case c.Fails > 0:
		return "✗"
	case c.Passes == 0:
		return "–"
	}
	return "✓"
}

// ThresholdResult is one threshold as evaluated on the run.
type ThresholdResult struct {
	Expr   string `json:"expr"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"` // e.g. "✓ p99 < 300ms (actual 212.4ms)"
}

// Latency is a latency distribution in milliseconds, to the microsecond.
type Latency struct {
	MinMS  float64 `json:"min_ms"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P95MS  float64 `json:"p95_ms"`
	P99MS  float64 `json:"p99_ms"`
	P999MS float64 `json:"p999_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// WebSocket sums up a run's WebSocket connections and messages.
type WebSocket struct {
	// OpenPeak is the most connections open at once (see
	// Interval.WSOpenPeak), OpenFinal those open at the end of the last
	// interval (0 once every client closed its connection).
	OpenPeak  int64 `json:"open_peak"`
	OpenFinal int64 `json:"open_final"`
	// MessagesIn counts every message read (those an expect skipped over
	// too), MessagesOut every message sent (every: sends too); the rates
	// are over duration_s.
	MessagesIn      int64   `json:"messages_in"`
	MessagesOut     int64   `json:"messages_out"`
	MessagesInRate  float64 `json:"messages_in_per_s"`
	MessagesOutRate float64 `json:"messages_out_per_s"`
	// Closes counts by close code the connections a server closed while
	// a step waited on them ({} when none did); the client's own closes
	// are not counted.
	Closes map[string]int64 `json:"closes"`
}

// NameSummary is the result for one request name.
type NameSummary struct {
	Name string `json:"name"`
	// Protocol is what the name's requests spoke when not HTTP: "grpc"
	// (a call; its status per docs/json.md's table) or "ws" (a WebSocket
	// handshake or message); absent for HTTP.
	Protocol string           `json:"protocol,omitempty"`
	Requests int64            `json:"requests"`
	Failed   int64            `json:"failed"`
	Retried  int64            `json:"retried"` // of Requests, retries of a failed attempt
	RPS      float64          `json:"rps"`
	Latency  Latency          `json:"latency"`
	Status   map[string]int64 `json:"status"`
	Errors   ErrorCounts      `json:"errors"`
	// Phases is where the time went (--phases); absent when phases were off.
	Phases *PhaseSummary `json:"phases,omitempty"`
	// MessagesIn, MessagesOut and Closes are the name's WebSocket
	// messages and close codes (see WebSocket); absent outside a
	// WebSocket run.
	MessagesIn  *int64           `json:"messages_in,omitempty"`
	MessagesOut *int64           `json:"messages_out,omitempty"`
	Closes      map[string]int64 `json:"closes,omitempty"`
}

// Interval is one point of the timeline: the whole run (all names) over one
// interval, a second except for the last, which ends with the run.
type Interval struct {
	TS float64 `json:"t_s"` // end of the interval, seconds from the start
	// SpanS is the interval's real length: 1 for every whole second, the
	// time from the last whole second to the end of the run for the last.
	SpanS    float64 `json:"span_s"`
	Requests int64   `json:"requests"`
	RPS      float64 `json:"rps"` // requests / span_s
	Failed   int64   `json:"failed"`
	Dropped  int64   `json:"dropped"`
	Connects *int64  `json:"connects"` // connections opened in the interval; null when not counted
	Clients  int     `json:"clients"`
	BytesIn  int64   `json:"bytes_in"`
	// The latency percentiles of the interval's responses; null for an
	// interval without any (no latency was measured, and 0 would read as
	// an instant answer).
	P50MS  *float64          `json:"p50_ms"`
	P90MS  *float64          `json:"p90_ms"`
	P95MS  *float64          `json:"p95_ms"`
	P99MS  *float64          `json:"p99_ms"`
	MaxMS  *float64          `json:"max_ms"`
	Errors SparseErrorCounts `json:"errors"` // non-zero kinds only
	// WSOpen is the WebSocket connections open at the end of the
	// interval, WSOpenPeak the most open at once during it (each source
	// of load's most, summed: exact with one source, as in quick mode,
	// else at least the true peak), MessagesIn and MessagesOut the messages read and sent in it;
	// absent outside a WebSocket run.
	WSOpen      *int64 `json:"ws_open,omitempty"`
	WSOpenPeak  *int64 `json:"ws_open_peak,omitempty"`
	MessagesIn  *int64 `json:"messages_in,omitempty"`
	MessagesOut *int64 `json:"messages_out,omitempty"`
}

// NameSummaryOf summarises st under name over a run of elapsedS seconds.
func NameSummaryOf(name string, st *metrics.Stats, elapsedS float64) NameSummary {
	return NameSummary{
		Name:     name,
		Requests: st.Requests,
		Failed:   st.Failed,
		Retried:  st.Retried,
		RPS:      round(ratio(float64(st.Requests), elapsedS), 3),
		Latency:  newLatency(st.Latency),
		Status:   statusCounts(st),
		Errors:   ErrorCounts(st.Errors),
		Phases:   PhaseSummaryOf(st.Phases),
	}
}

// StatusKey is the JSON key of a status code: the code in decimal, and
// "invalid" for 0 (a response whose status was outside 100..599).
func StatusKey(code int) string {
	if code == 0 {
		return "invalid"
	}
	return strconv.Itoa(code)
}

// NewSummary reduces a measured run to its Summary. run may be nil or
// partly filled (no names, nil Total): the missing parts count as empty.
func NewSummary(meta Meta, run *metrics.Run) *Summary {
	if run == nil {
		run = &metrics.Run{}
	}
	total := run.Total
	if total == nil {
		total = metrics.NewStats()
	}
	elapsed := meta.Elapsed.Seconds()
	if elapsed < 0 {
		elapsed = 0
	}
	from := meta.LatencyFrom
	if from == "" {
		// The engine measures the open model from the intended start and
		// the closed model from the send; say so rather than leave it blank.
		from = FromSend
		if meta.Model == ModelOpen {
			from = FromIntended
		}
	}
	s := &Summary{
		Warmup:           newWarmup(meta.Warmup),
		Version:          meta.Version,
		Name:             meta.Name,
		Target:           meta.Target,
		Targets:          meta.Targets,
		Method:           meta.Method,
		Model:            meta.Model,
		LatencyFrom:      from,
		Started:          meta.Started.Round(time.Millisecond),
		DurationS:        round(elapsed, 3),
		PlannedDurationS: round(meta.Planned.Seconds(), 3),
		Interrupted:      meta.Interrupted,
		h2c:              meta.H2C,
		EndReason:        meta.EndReason,
		EndDetail:        meta.EndDetail,
		Clients:          meta.Clients,
		MaxClients:       meta.MaxClients,
		RampUpS:          round(meta.RampUp.Seconds(), 3),
		RateProfile:      meta.Rate,

		Requests:      total.Requests,
		Failed:        total.Failed,
		Retried:       total.Retried,
		ErrorRate:     round(ratio(float64(total.Failed), float64(total.Requests)), 6),
		RPS:           round(ratio(float64(total.Requests), elapsed), 3),
		Dropped:       run.Dropped,
		Connects:      countPtr(run.CountsConnects, run.Connects),
		BytesIn:       total.BytesIn,
		BytesOut:      total.BytesOut,
		ThroughputBPS: round(ratio(float64(total.BytesIn), elapsed), 3),

		Latency:     newLatency(total.Latency),
		ServiceTime: newLatency(total.Service),
		Status:      statusCounts(total),
		Errors:      ErrorCounts(total.Errors),
		ByName:      make([]NameSummary, 0, len(run.ByName)),
		Timeline:    make([]Interval, 0, len(run.Timeline)),
	}

	switch {
	case meta.Model == ModelOpen:
		// Starts were due only while the schedule ran: the planned
		// duration, or less when the run ended early. (The time after it,
		// while the last responses arrive, has no starts; the run may also
		// end a little before it, once the last start's iteration is done.)
		span := elapsed
		if p := meta.Planned.Seconds(); p > 0 && (p < span || !meta.Interrupted && !EarlyEnd(meta.EndReason)) {
			span = p
		}
		due := max(meta.Scheduled, 0)
		// A lost worker's share stays due (the requested rate is the
		// plan's), but its starts after its last report are not known to
		// have begun: they are not counted as starts.
		started := max(due-run.Dropped-meta.LostStarts, 0)
		r := round(ratio(float64(due), span), 3)
		s.StartsDue, s.Starts, s.RequestedStartRate = &due, &started, &r
		if due > 0 {
			a := round(float64(started)/float64(due), 6)
			s.AchievedStartRatio = &a
		}
	case meta.MaxRPS > 0 && !math.IsInf(meta.MaxRPS, 0):
		r := round(meta.MaxRPS, 3)
		a := round(ratio(float64(total.Requests), elapsed)/meta.MaxRPS, 6)
		s.RequestedRPS, s.AchievedRPSRatio = &r, &a
	}

	for i, st := range run.ByName {
		if st == nil {
			continue
		}
		name := ""
		if i < len(run.Names) {
			name = run.Names[i]
		}
		n := NameSummaryOf(name, st, elapsed)
		if i < len(meta.Protocols) {
			n.Protocol = meta.Protocols[i]
		}
		if run.WebSocket {
			n.MessagesIn, n.MessagesOut, n.Closes = countPtr(true, st.MsgsIn), countPtr(true, st.MsgsOut), closeCounts(st)
			if len(n.Closes) == 0 {
				n.Closes = nil
			}
		}
		s.ByName = append(s.ByName, n)
	}
	if run.WebSocket {
		s.WebSocket = newWebSocket(run, total, elapsed)
	}

	for i, name := range run.CheckNames {
		if i < len(run.Checks) {
			s.Checks = append(s.Checks, CheckSummary{Name: name, Passes: run.Checks[i][0], Fails: run.Checks[i][1]})
		}
	}

	for _, p := range run.Timeline {
		iv := Interval{
			TS:       round(p.At.Seconds(), 3),
			SpanS:    round(p.Span.Seconds(), 3),
			Requests: p.Requests,
			RPS:      round(p.RPS(), 3),
			Failed:   p.Failed,
			Dropped:  p.Dropped,
			Connects: countPtr(run.CountsConnects, p.Connects),
			Clients:  p.Clients,
			BytesIn:  p.BytesIn,
			Errors:   SparseErrorCounts(p.Errors),
		}
		if p.Requests > 0 {
			iv.P50MS, iv.P90MS, iv.P95MS = msPtr(p.P50), msPtr(p.P90), msPtr(p.P95)
			iv.P99MS, iv.MaxMS = msPtr(p.P99), msPtr(p.Max)
		}
		if run.WebSocket {
			iv.WSOpen, iv.WSOpenPeak = countPtr(true, p.WSOpen), countPtr(true, p.WSPeak)
			iv.MessagesIn, iv.MessagesOut = countPtr(true, p.MsgsIn), countPtr(true, p.MsgsOut)
		}
		s.Timeline = append(s.Timeline, iv)
	}
	return s
}

// newWebSocket sums up run's WebSocket connections.
func newWebSocket(run *metrics.Run, total *metrics.Stats, elapsed float64) *WebSocket {
	w := &WebSocket{
		MessagesIn: total.MsgsIn, MessagesOut: total.MsgsOut,
		MessagesInRate:  round(ratio(float64(total.MsgsIn), elapsed), 3),
		MessagesOutRate: round(ratio(float64(total.MsgsOut), elapsed), 3),
		Closes:          closeCounts(total),
	}
	for _, p := range run.Timeline {
		w.OpenPeak = max(w.OpenPeak, p.WSPeak, p.WSOpen)
		w.OpenFinal = p.WSOpen
	}
	return w
}

// closeCounts are st's close codes by code in decimal; {} when none.
func closeCounts(st *metrics.Stats) map[string]int64 {
	m := make(map[string]int64, len(st.Closes))
	for code, n := range st.Closes {
		if n != 0 {
			m[strconv.Itoa(code)] = n
		}
	}
	return m
}

// WriteJSON writes the canonical JSON form of s, indented, with a trailing
// newline. URLs are written as they are ("&", not "\u0026").
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	return nil
}

// CheckFormat checks an output format (-o): text or json.
func CheckFormat(format string) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("-o %q: want text or json", format)
	}
	return nil
}

// Write writes s as format: "text" (WriteText) or "json" (WriteJSON).
func (s *Summary) Write(w io.Writer, format string) error {
	if err := CheckFormat(format); err != nil {
		return err
	}
	if format == "json" {
		return s.WriteJSON(w)
	}
	return s.WriteText(w)
}

// newLatency reads a histogram of microseconds. An empty histogram gives all
// zeros (there is no latency to show, and no NaN either).
func newLatency(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		MinMS:  float64(h.Min()) / 1000,
		MeanMS: math.Round(h.Mean()) / 1000,
		P50MS:  ms(metrics.Percentile(h, 50)),
		P90MS:  ms(metrics.Percentile(h, 90)),
		P95MS:  ms(metrics.Percentile(h, 95)),
		P99MS:  ms(metrics.Percentile(h, 99)),
		P999MS: ms(metrics.Percentile(h, 99.9)),
		MaxMS:  float64(h.Max()) / 1000,
	}
}

// statusCounts returns the non-zero status counts of st by StatusKey; an
// empty map, never nil, so that JSON shows {} rather than null.
func statusCounts(st *metrics.Stats) map[string]int64 {
	m := make(map[string]int64)
	for code, n := range st.Status {
		if n != 0 {
			m[StatusKey(code)] = n
		}
	}
	return m
}

// ms converts d to float milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d/time.Microsecond) / 1000 }

// countPtr is n where it was counted, else nil (JSON null).
func countPtr(counted bool, n int64) *int64 {
	if !counted {
		return nil
	}
	return &n
}

// msPtr is ms(d) for a value that may be absent (JSON null).
func msPtr(d time.Duration) *float64 {
	v := ms(d)
	return &v
}

// dur converts float milliseconds back to a duration, to the microsecond.
func dur(ms float64) time.Duration {
	return time.Duration(math.Round(ms*1000)) * time.Microsecond
}

// round rounds f to prec decimals; non-finite values become 0.
func round(f float64, prec int) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	p := math.Pow10(prec)
	return math.Round(f*p) / p
}

// ErrorCounts counts failed requests by kind, indexed by metrics.ErrorKind
// (index 0, metrics.ErrNone, stays 0). Its JSON form is an object with every
// kind by name ("timeout", "refused", ...), zeros included, in kind order.
type ErrorCounts [metrics.NumErrorKinds]int64

// SparseErrorCounts is ErrorCounts whose JSON form lists only the kinds that
// occurred; no errors is {}.
type SparseErrorCounts [metrics.NumErrorKinds]int64

// Total is the number of requests that failed with any kind of error.
func (c ErrorCounts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// MarshalJSON writes every kind, in kind order.
func (c ErrorCounts) MarshalJSON() ([]byte, error) { return appendErrors(nil, c, true), nil }

// UnmarshalJSON reads an object of kind names; see decodeErrors.
func (c *ErrorCounts) UnmarshalJSON(b []byte) error {
	return decodeErrors(b, (*[metrics.NumErrorKinds]int64)(c))
}

// MarshalJSON writes the non-zero kinds, in kind order.
func (c SparseErrorCounts) MarshalJSON() ([]byte, error) {
	return appendErrors(nil, ErrorCounts(c), false), nil
}

// UnmarshalJSON reads an object of kind names; see decodeErrors.
func (c *SparseErrorCounts) UnmarshalJSON(b []byte) error {
	return decodeErrors(b, (*[metrics.NumErrorKinds]int64)(c))
}

func appendErrors(b []byte, c ErrorCounts, all bool) []byte {
	b = append(b, '{')
	first := true
	for k := metrics.ErrNone + 1; k < metrics.NumErrorKinds; k++ {
		if !all && c[k] == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = strconv.AppendQuote(b, k.String())
		b = append(b, ':')
		b = strconv.AppendInt(b, c[k], 10)
	}
	return append(b, '}')
}

// decodeErrors reads {"timeout": 3, ...}. A kind this version does not know
// (written by a newer fuka) is counted under "other", so totals still add up.
func decodeErrors(b []byte, dst *[metrics.NumErrorKinds]int64) error {
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*dst = [metrics.NumErrorKinds]int64{}
	for name, n := range m {
		k := metrics.ErrOther
		for i := metrics.ErrNone + 1; i < metrics.NumErrorKinds; i++ {
			if i.String() == name {
				k = i
				break
			}
		}
		dst[k] += n
	}
	return nil
}
