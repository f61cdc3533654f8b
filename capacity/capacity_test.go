package capacity

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fuka-load/fuka/threshold"
)

func mustSLO(t *testing.T, s string) []*threshold.Expr {
	t.Helper()
	e, err := ParseSLO(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// target is a fake system under test: what it does at a rate.
type target func(rate float64) Result

func (f target) measure(rates *[]float64) Measure {
	return func(_ context.Context, rate float64, _ time.Duration) (Result, error) {
		if rates != nil {
			*rates = append(*rates, rate)
		}
		r := f(rate)
		r.Requests = max(r.Requests, int64(rate))
		if r.RPS == 0 {
			r.RPS = rate
		}
		return r, nil
	}
}

// cliff is flat at 2ms up to capacity, then 500ms: a sharp edge.
func cliff(capacity float64) target {
	return func(rate float64) Result {
		if rate <= capacity {
			return Result{P50MS: 1, P99MS: 2}
		}
		return Result{P50MS: 300, P99MS: 500}
	}
}

// gradual climbs steadily: p99 = 1ms + rate/10 ms, so "p99 < 50ms" holds
// below 490/s.
func gradual(rate float64) Result {
	return Result{P50MS: 0.5 + rate/20, P99MS: 1 + rate/10}
}

// noisy is a cliff whose edge wanders ±noise from one measurement to the
// next (seeded: the same every run).
func noisy(capacity, noise float64, seed uint64) target {
	rng := rand.New(rand.NewPCG(seed, seed))
	return func(rate float64) Result {
		edge := capacity * (1 + noise*(2*rng.Float64()-1))
		p99 := 5 + 3*rng.Float64()
		if rate > edge {
			p99 = 200 + 100*rng.Float64()
		}
		return Result{P50MS: p99 / 2, P99MS: p99}
	}
}

func TestCapacitySearchSequence(t *testing.T) {
	var rates []float64
	rep, err := Search(context.Background(), Config{SLO: mustSLO(t, "p99 < 50ms"), Min: 10, Precision: 0.1}, cliff(400).measure(&rates))
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{10, 20, 40, 80, 160, 320, 640, 480, 400, 440}
	if !slices.Equal(rates, want) {
		t.Errorf("rates %v, want %v", rates, want)
	}
	if rep.Answer != 400 || !rep.Found || rep.FailedAt != 440 || rep.Stopped != StopPrecision {
		t.Errorf("answer %v found %v failed at %v stopped %q", rep.Answer, rep.Found, rep.FailedAt, rep.Stopped)
	}
	if rep.Limit != LimitLatency || rep.LimitAt != 440 || rep.LowerBound {
		t.Errorf("limit %q at %v lower bound %v", rep.Limit, rep.LimitAt, rep.LowerBound)
	}
	if rep.Knee == nil || rep.Knee.Rate != 440 {
		t.Errorf("knee %+v, want at 440", rep.Knee)
	}
	for i, s := range rep.Steps {
		wantPhase := "exponential"
		if i >= 7 {
			wantPhase = "binary"
		}
		if s.Phase != wantPhase {
			t.Errorf("step %d phase %q, want %q", i+1, s.Phase, wantPhase)
		}
	}
}

func TestCapacitySearchLandsWithinPrecision(t *testing.T) {
	cases := []struct {
		name      string
		target    target
		capacity  float64
		precision float64
		slack     float64 // allowed overshoot above capacity (noise)
	}{
		{"cliff", cliff(1234), 1234, 0.05, 0},
		{"cliff below min", cliff(13), 13, 0.05, 0},
		{"cliff fine", cliff(777), 777, 0.01, 0},
		{"gradual", gradual, 490, 0.05, 0},
		{"noisy", noisy(2000, 0.03, 1), 2000, 0.05, 0.03},
		{"noisy seed 2", noisy(2000, 0.03, 2), 2000, 0.05, 0.03},
		{"noisy seed 3", noisy(650, 0.05, 3), 650, 0.1, 0.05},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Search(context.Background(), Config{SLO: mustSLO(t, "p99 < 50ms"), Precision: tc.precision}, tc.target.measure(nil))
			if err != nil {
				t.Fatal(err)
			}
			lo := tc.capacity * (1 - tc.slack) / (1 + tc.precision)
			hi := tc.capacity * (1 + tc.slack)
			if !rep.Found || rep.Answer < lo || rep.Answer > hi {
				t.Errorf("answer %v, want in [%.1f, %.1f]; steps %v", rep.Answer, lo, hi, stepRates(rep))
			}
			if rep.FailedAt-rep.Answer > tc.precision*rep.Answer+1e-9 {
				t.Errorf("bracket [%v, %v) wider than %v", rep.Answer, rep.FailedAt, tc.precision)
			}
		})
	}
}

func stepRates(rep *Report) []float64 {
	var r []float64
	for _, s := range rep.Steps {
		r = append(r, s.Rate)
	}
	return r
}

func TestCapacityMinFails(t *testing.T) {
	rep, err := Search(context.Background(), Config{SLO: mustSLO(t, "p99 < 50ms"), Min: 10}, cliff(5).measure(nil))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Found || rep.Answer != 0 || len(rep.Steps) != 1 || rep.Stopped != StopMinFailed || rep.Limit != LimitLatency {
		t.Errorf("found %v answer %v steps %d stopped %q limit %q", rep.Found, rep.Answer, len(rep.Steps), rep.Stopped, rep.Limit)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "answer     none: even 10/s failed") {
		t.Errorf("text:\n%s", b.String())
	}
}

func TestCapacityMaxReached(t *testing.T) {
	var rates []float64
	rep, err := Search(context.Background(), Config{SLO: mustSLO(t, "p99 < 50ms"), Min: 10, Max: 100}, cliff(1e9).measure(&rates))
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{10, 20, 40, 80, 100}; !slices.Equal(rates, want) {
		t.Errorf("rates %v, want %v", rates, want)
	}
	if rep.Answer != 100 || rep.Stopped != StopMax || !rep.LowerBound || rep.Limit != "" || !strings.Contains(rep.Advice, "--max") {
		t.Errorf("answer %v stopped %q lower %v limit %q advice %q", rep.Answer, rep.Stopped, rep.LowerBound, rep.Limit, rep.Advice)
	}
}

func TestCapacityHardFailureStopsEarly(t *testing.T) {
	cases := []struct {
		name   string
		target target
		answer float64
		steps  int
	}{
		{"errors above half", func(rate float64) Result {
			if rate > 300 {
				return Result{P99MS: 3, ErrorRate: 0.8}
			}
			return Result{P99MS: 3}
		}, 160, 6},
		{"refused at min", func(float64) Result { return Result{Refused: true, ErrorRate: 1} }, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Search(context.Background(), Config{SLO: mustSLO(t, "p99 < 50ms, error_rate < 1%")}, tc.target.measure(nil))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Answer != tc.answer || len(rep.Steps) != tc.steps || rep.Stopped != StopHard || rep.Limit != LimitErrors || !rep.Steps[len(rep.Steps)-1].Hard {
				t.Errorf("answer %v steps %d stopped %q limit %q", rep.Answer, len(rep.Steps), rep.Stopped, rep.Limit)
			}
		})
	}
}

func TestCapacityLimitClassification(t *testing.T) {
	cfg, err := Config{SLO: mustSLO(t, "p99 < 50ms, error_rate < 1%, rps > 5")}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		res   Result
		pass  bool
		limit string
	}{
		{"pass", Result{P99MS: 10, RPS: 100, Requests: 100}, true, ""},
		{"latency", Result{P99MS: 80, RPS: 100, Requests: 100}, false, LimitLatency},
		{"errors", Result{P99MS: 10, ErrorRate: 0.02, RPS: 100, Requests: 100}, false, LimitErrors},
		{"errors before latency", Result{P99MS: 80, ErrorRate: 0.02, RPS: 100, Requests: 100}, false, LimitErrors},
		{"other term", Result{P99MS: 10, RPS: 1, Requests: 1}, false, LimitSLO},
		{"dropped starts", Result{P99MS: 10, RPS: 100, Requests: 100, DroppedRatio: 0.05}, false, LimitDropped},
		{"latency before dropped", Result{P99MS: 80, RPS: 100, Requests: 100, DroppedRatio: 0.05}, false, LimitLatency},
		{"dropped within allowance", Result{P99MS: 10, RPS: 100, Requests: 100, DroppedRatio: 0.005}, true, ""},
		{"generator CPU", Result{P99MS: 80, RPS: 100, Requests: 100, GenCPUPct: new(95.0)}, false, LimitGenCPU},
		{"generator CPU fine", Result{P99MS: 10, RPS: 100, Requests: 100, GenCPUPct: new(40.0)}, true, ""},
		{"hard", Result{P99MS: 10, RPS: 100, Requests: 100, ErrorRate: 0.6}, false, LimitErrors},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cfg.judge(100, "binary", tc.res)
			if r.Pass != tc.pass || r.Limit != tc.limit {
				t.Errorf("pass %v limit %q, want %v %q (failed %q)", r.Pass, r.Limit, tc.pass, tc.limit, r.Failed)
			}
			if !r.Pass && len(r.Failed) == 0 {
				t.Error("a failing step says nothing about why")
			}
		})
	}
}

func TestCapacityFirstLimitAdvice(t *testing.T) {
	cases := []struct {
		name   string
		target target
		limit  string
		advice string
	}{
		{"generator CPU", func(rate float64) Result {
			return Result{P99MS: 2, GenCPUPct: new(min(100, rate/10))} // 90% at 900/s
		}, LimitGenCPU, "workers"},
		{"dropped starts", func(rate float64) Result {
			if rate > 500 {
				return Result{P99MS: 2, DroppedRatio: 0.2}
			}
			return Result{P99MS: 2}
		}, LimitDropped, "--max-clients"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Search(context.Background(), Config{SLO: mustSLO(t, "p99 < 50ms")}, tc.target.measure(nil))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Limit != tc.limit || !rep.LowerBound || !strings.Contains(rep.Advice, tc.advice) {
				t.Errorf("limit %q lower bound %v advice %q", rep.Limit, rep.LowerBound, rep.Advice)
			}
		})
	}
}

func TestCapacityKnee(t *testing.T) {
	st := func(rate, p99 float64) StepResult {
		return StepResult{Rate: rate, Result: Result{P99MS: p99, Requests: 1}}
	}
	cases := []struct {
		name  string
		steps []StepResult
		want  float64 // 0: no knee
	}{
		{"flat", []StepResult{st(10, 5), st(20, 6), st(40, 9.9)}, 0},
		{"climb", []StepResult{st(10, 5), st(20, 6), st(40, 10.1), st(80, 50)}, 40},
		{"any order", []StepResult{st(80, 50), st(10, 5), st(40, 10.1), st(20, 6)}, 40},
		{"jitter on a fast target", []StepResult{st(10, 0.2), st(20, 0.9), st(40, 1.1), st(80, 1.3)}, 80},
		{"one step", []StepResult{st(10, 5)}, 0},
		{"skips empty steps", []StepResult{{Rate: 5}, st(10, 5), st(20, 11)}, 20},
		{"a lone spike is no knee", []StepResult{st(10, 5), st(20, 30), st(40, 6), st(80, 50)}, 80},
		{"superseded steps are left out", []StepResult{st(10, 5), st(20, 6), {Rate: 40, Result: Result{P99MS: 90, Requests: 1}, Superseded: true}, st(40, 7), st(80, 50)}, 80},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := FindKnee(tc.steps)
			got := 0.0
			if k != nil {
				got = k.Rate
			}
			if got != tc.want {
				t.Errorf("knee at %v, want %v (%+v)", got, tc.want, k)
			}
		})
	}
}

func TestCapacityCooldownAndInterrupt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var starts []time.Duration
		begin := time.Now()
		measure := func(ctx context.Context, rate float64, hold time.Duration) (Result, error) {
			starts = append(starts, time.Since(begin))
			if len(starts) == 4 {
				cancel()
				return Result{}, ctx.Err()
			}
			time.Sleep(hold)
			return Result{P99MS: 1, RPS: rate, Requests: int64(rate)}, nil
		}
		rep, err := Search(ctx, Config{SLO: mustSLO(t, "p99 < 50ms"), Hold: 10 * time.Second, Cooldown: 5 * time.Second}, measure)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		if want := []time.Duration{0, 15 * time.Second, 30 * time.Second, 45 * time.Second}; !slices.Equal(starts, want) {
			t.Errorf("steps started at %v, want %v", starts, want)
		}
		if len(rep.Steps) != 3 || rep.Answer != 40 || rep.Stopped != StopInterrupted {
			t.Errorf("steps %d answer %v stopped %q", len(rep.Steps), rep.Answer, rep.Stopped)
		}
	})
}

func TestCapacityMeasureError(t *testing.T) {
	boom := errors.New("boom")
	rep, err := Search(context.Background(), Config{SLO: mustSLO(t, "p99 < 50ms")}, func(context.Context, float64, time.Duration) (Result, error) {
		return Result{}, boom
	})
	if !errors.Is(err, boom) || rep == nil || rep.Stopped != StopError || !strings.Contains(err.Error(), "step 1 (10/s)") {
		t.Errorf("err %v report %+v", err, rep)
	}
}

func TestCapacityConfigErrors(t *testing.T) {
	slo := mustSLO(t, "p99 < 50ms")
	cases := []struct {
		name string
		cfg  Config
	}{
		{"no SLO", Config{}},
		{"negative min", Config{SLO: slo, Min: -1}},
		{"max below min", Config{SLO: slo, Min: 100, Max: 50}},
		{"precision 1", Config{SLO: slo, Precision: 1}},
		{"precision NaN", Config{SLO: slo, Precision: math.NaN()}},
		{"negative cooldown", Config{SLO: slo, Cooldown: -time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Search(context.Background(), tc.cfg, cliff(100).measure(nil)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestCapacityParseSLO(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  bool
	}{
		{"p99 < 200ms, error_rate < 1%", []string{"p99 < 200ms", "error_rate < 1%"}, false},
		{`"a, b".p95 < 1s,p50<5ms`, []string{`"a, b".p95 < 1s`, "p50 < 5ms"}, false},
		{"", nil, true},
		{"p99 < 200ms,", nil, true},
		{"p99 < fast", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSLO(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err %v", err)
			}
			var s []string
			for _, e := range got {
				s = append(s, e.String())
			}
			if !slices.Equal(s, tc.want) {
				t.Errorf("got %q, want %q", s, tc.want)
			}
		})
	}
}

func TestCapacityMidpoint(t *testing.T) {
	cases := []struct{ lo, hi, want float64 }{
		{320, 640, 480},
		{400, 480, 440},
		{10, 11, 10.5},
		{1000, 1001, 1000.5},
		{12345, 13000, 12700},
	}
	for _, tc := range cases {
		if got := midpoint(tc.lo, tc.hi); got != tc.want {
			t.Errorf("midpoint(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestCapacityWriteText(t *testing.T) {
	rep, err := Search(context.Background(), Config{SLO: mustSLO(t, "p99 < 50ms"), Precision: 0.1}, cliff(400).measure(nil))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"answer     400/s: the highest rate that met the SLO",
		"failed at  440/s: the capacity lies in [400, 440)/s",
		"knee       440/s",
		"limit      latency at 440/s: ✗ p99 < 50ms (actual 500.0ms)",
		"stopped    precision reached",
		"FAIL: latency",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

func TestCapacityConfirm(t *testing.T) {
	// stall fails the first measurement at 160/s on latency while keeping
	// up, as a host stall would; cliff(400) is the real capacity.
	stall := func() target {
		seen := map[float64]int{}
		return func(rate float64) Result {
			seen[rate]++
			if rate == 160 && seen[rate] == 1 {
				return Result{P99MS: 120}
			}
			return cliff(400)(rate)
		}
	}
	saturated := func(rate float64) Result {
		r := cliff(400)(rate)
		if rate > 400 {
			r.RPS = 400 // fell behind: a saturated target
		}
		return r
	}
	slowButKeepsUp := func(rate float64) Result { return Result{P99MS: 10 + rate/4} } // p99 ≥ 50ms from 160/s
	cases := []struct {
		name    string
		target  target
		confirm int
		rates   []float64
		answer  float64
	}{
		{"a stall without confirm", stall(), 0, []float64{10, 20, 40, 80, 160, 120, 140, 150}, 150},
		// cliff keeps up with any rate, so its real failures are measured again too.
		{"a stall confirmed away", stall(), 1, []float64{10, 20, 40, 80, 160, 160, 320, 640, 640, 480, 480, 400, 440, 440}, 400},
		// 440/s achieves 400/s, 91% of it: possibly a stall, so measured again.
		{"saturation is not measured again", saturated, 2, []float64{10, 20, 40, 80, 160, 320, 640, 480, 400, 440, 440, 440}, 400},
		{"a slow target that keeps up is", slowButKeepsUp, 1, []float64{10, 20, 40, 80, 160, 160, 120, 140, 150}, 150},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rates []float64
			rep, err := Search(context.Background(), Config{SLO: mustSLO(t, "p99 < 50ms"), Precision: 0.1, Confirm: tc.confirm}, tc.target.measure(&rates))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rates, tc.rates) || rep.Answer != tc.answer {
				t.Errorf("rates %v answer %v, want %v %v", rates, rep.Answer, tc.rates, tc.answer)
			}
			for i, s := range rep.Steps {
				again := i+1 < len(rep.Steps) && rep.Steps[i+1].Rate == s.Rate
				if s.Superseded != again || (i > 0 && rep.Steps[i-1].Rate == s.Rate) != (s.Retry > 0) {
					t.Errorf("step %d (%v/s): superseded %v retry %d", i+1, s.Rate, s.Superseded, s.Retry)
				}
			}
			if rep.LimitAt <= rep.Answer {
				t.Errorf("first limit at %v/s, at or below the answer %v/s: a superseded step counted", rep.LimitAt, rep.Answer)
			}
		})
	}
}
