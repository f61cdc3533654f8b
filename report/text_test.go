package report

import (
	"testing"
	"time"
)

// TestEndTextDrain: a run that went on past its planned duration,
// finishing what was in flight, says how long and why; a run that ended
// on time does not.
func TestEndTextDrain(t *testing.T) {
	tests := []struct {
		name          string
		took, planned time.Duration
		want          string
	}{
		{"on time", 5*time.Second + 3*time.Millisecond, 5 * time.Second, "at the end of its planned duration"},
		{"just under the bound", 5*time.Second + DrainWorthSaying - time.Millisecond, 5 * time.Second, "at the end of its planned duration"},
		{"drained 5s", 10*time.Second + 11*time.Millisecond, 5 * time.Second,
			"at the end of its planned duration (5s), then 5.01s more while the requests in flight finished or reached their timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := EndText(EndDuration, "", tc.took, tc.planned); got != tc.want {
				t.Errorf("EndText = %q, want %q", got, tc.want)
			}
		})
	}
}
